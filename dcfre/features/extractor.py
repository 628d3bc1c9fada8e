"""Turn an image patch into the normalized feature blocks one ECO model uses.

A *block* is one feature type at one resolution (HOG at cell 6, Color Names at cell 4, CNN
features at stride 16). Each block gets its own projection matrix and filter in the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dcfre.config import FeatureConfig

#: Channels of the intensity-channel feature of gray frames (ECO's intensityChannelNorm6 table).
INTENSITY_DIM = 5


@dataclass(frozen=True)
class BlockSpec:
    """Static description of one feature block."""

    name: str  #: "hog", "colornames", "intensity" or "deep"
    cell_size: int  #: sample pixels per feature cell
    dim: int  #: channels produced by the extractor
    compressed_dim: int  #: channels after projection


class FeatureExtractor:
    """Computes a model's feature blocks on (batches of) resized sample patches.

    Parameters
    ----------
    config : FeatureConfig
    color : bool
        Whether frames are colour; gray frames use the intensity-channel block instead of Color
        Names (ECO-HC), see :func:`dcfre.image.is_color_frame`.
    """

    def __init__(self, config: FeatureConfig, color: bool):
        self.config = config
        self.color = color
        specs = []
        if config.deep is not None:
            from dcfre.features.deep import DeepFeatureExtractor

            self._deep = DeepFeatureExtractor(config.deep.model, threads=config.deep.threads)
            specs.append(BlockSpec("deep", self._deep.stride, self._deep.channels, config.deep.compressed_dim))
        if config.hog is not None:
            specs.append(BlockSpec("hog", config.hog.cell_size, 31, config.hog.compressed_dim))
        if config.colornames is not None:
            cn = config.colornames
            if color:
                specs.append(BlockSpec("colornames", cn.cell_size, 10, cn.compressed_dim))
            else:
                specs.append(BlockSpec("intensity", cn.cell_size, INTENSITY_DIM, cn.gray_compressed_dim))
        if not specs:
            raise ValueError("a feature configuration needs at least one block")
        self.specs = specs

    @property
    def cell_sizes(self) -> list[int]:
        return [s.cell_size for s in self.specs]

    @property
    def size_multiple(self) -> int:
        """Sample sides must be a multiple of this (the CNN's input granularity), else 1."""
        return self._deep.size_multiple if self.config.deep is not None else 1

    def __call__(self, patches: np.ndarray) -> list[np.ndarray]:
        """Features of a batch of patches.

        Parameters
        ----------
        patches : ndarray, shape (S, H, W, 3) or (S, H, W), float32 in [0, 255]

        Returns
        -------
        list of ndarray, one per block, shape (S, H // cell, W // cell, dim), float32,
        normalized as ECO does (see :meth:`normalize`).
        """
        from dcfre.features import colornames as cn_features
        from dcfre.features import hog

        out = []
        for spec in self.specs:
            if spec.name == "deep":
                rgb = patches if patches.ndim == 4 else np.repeat(patches[..., None], 3, axis=-1)
                block = self._deep(rgb)
            elif spec.name == "hog":
                block = hog.fhog_many(patches, spec.cell_size)
            elif spec.name == "colornames":
                # float patches go in as they are: the kernel rounds them exactly like _to_uint8 (no copy)
                block = np.stack([cn_features.colornames(p, spec.cell_size) for p in patches])
            else:  # intensity
                gray = patches if patches.ndim == 3 else patches.mean(axis=-1)
                block = np.stack([cn_features.intensity(_to_uint8(p), spec.cell_size) for p in gray])
            out.append(self.normalize(block))
        return out

    def normalize(self, block: np.ndarray) -> np.ndarray:
        """ECO's feature normalization of a batch of maps (S, H, W, D).

        Each map is scaled so that ``sum |x|^p = (H W)^size (D)^dim`` with ``p``, ``size``,
        ``dim`` from the configuration: with the defaults every element has unit mean square,
        which balances blocks of different resolution and dimension.
        """
        s, h, w, d = block.shape
        p = self.config.normalize_power
        flat = block.reshape(s, -1)
        # |x|^2 is x^2 bit for bit (numpy computes ``** 2`` as a square): one temporary instead of two
        powers = np.square(flat) if p == 2 else np.abs(flat) ** p
        energy = np.sum(powers, axis=1)
        scale = self.normalization_factor(energy, h * w, d)
        return (block * scale[:, None, None, None].astype(np.float32)).astype(np.float32, copy=False)

    def normalization_factor(self, energy, n_cells: int, dim: int):
        """The factor :meth:`normalize` applies to a map of ``n_cells`` cells and ``dim`` channels
        whose ``sum |x|^p`` is ``energy`` (scalar or array)."""
        cfg = self.config
        p = cfg.normalize_power
        target = n_cells ** float(cfg.normalize_size) * dim ** float(cfg.normalize_dim)
        return (target / (np.asarray(energy, dtype=np.float64) + np.finfo(np.float32).eps)) ** (1.0 / p)


def _to_uint8(patch: np.ndarray) -> np.ndarray:
    return np.clip(patch + 0.5, 0, 255).astype(np.uint8)
