"""Numba kernel of the deep-feature input pipeline (see dcfre.features.deep)."""

from __future__ import annotations

from dcfre._jit import njit  # numba.njit, with its start-up trimmed (see dcfre._jit)


@njit(cache=True, nogil=True)
def normalize_to_nchw(batch, scale, offset, out):
    """``out[n, c, y, x] = batch[n, y, x, c] * scale[c] + offset[c]`` in one pass.

    Parameters
    ----------
    batch : (N, H, W, C) uint8 or float32
    scale, offset : (C,) float32
    out : (N, C, H, W) float32, written
    """
    n_images, height, width, channels = batch.shape
    for n in range(n_images):
        for c in range(channels):
            s = scale[c]
            o = offset[c]
            for y in range(height):
                for x in range(width):
                    out[n, c, y, x] = batch[n, y, x, c] * s + o
