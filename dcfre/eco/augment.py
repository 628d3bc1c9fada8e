"""First-frame data augmentation (UPDT): more, harder samples for the deep model's first filter."""

from __future__ import annotations

import numpy as np

from dcfre._lazy import lazy_module
from dcfre.config import AugmentationConfig

ndimage = lazy_module("scipy.ndimage")  # UPDT's first frame only


def augment_first_sample(appearance, image, centre_yx, scale, blocks, config: AugmentationConfig):
    """Append augmented copies of the first sample to its feature blocks.

    The sample patch is flipped, rotated about its centre and blurred (features recomputed), and
    copies of the plain features get random channels dropped (rescaled to keep the energy). The
    target stays centred in every copy, so all share the first frame's label.

    Parameters
    ----------
    appearance : AppearanceModel
    blocks : list of (1, N1, N2, D)
        Features of the plain sample.

    Returns
    -------
    list of (A, N1, N2, D), the plain sample first.
    """
    patch = appearance.sample_patches(image, centre_yx, np.array([scale]))[0]  # as the plain sample
    variants = []
    if config.flip:
        variants.append(patch[:, ::-1])
    for angle in config.rotations:
        variants.append(ndimage.rotate(patch, angle, axes=(1, 0), reshape=False, order=1, mode="nearest"))
    for sigma_y, sigma_x in config.blurs:
        sigma = (sigma_y, sigma_x) + ((0.0,) if patch.ndim == 3 else ())
        variants.append(ndimage.gaussian_filter(patch, sigma=sigma, mode="nearest"))
    out = [b for b in blocks]
    if variants:
        extra = appearance.extractor(np.ascontiguousarray(np.stack(variants), dtype=np.float32))
        out = [np.concatenate([b, e]) for b, e in zip(out, extra)]
    rng = np.random.default_rng(config.seed)
    for _ in range(config.dropout_copies):
        dropped = []
        for b in blocks:
            keep = rng.random(b.shape[-1]) >= config.dropout_rate
            dropped.append(b[:1] * (keep / max(keep.mean(), 1e-6)).astype(np.float32))
        out = [np.concatenate([o, d]) for o, d in zip(out, dropped)]
    return out
