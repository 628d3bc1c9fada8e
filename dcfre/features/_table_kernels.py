"""Numba kernels of the lookup-table features (Color Names, gray intensity channels), pooled per cell.

Private module: call :mod:`dcfre.features.colornames`, which validates the input. Each cell
``(i, j)`` averages the pixels ``[i * cell, (i + 1) * cell) x [j * cell, (j + 1) * cell)``;
the last ``H % cell`` rows and ``W % cell`` columns belong to no cell.
"""

from __future__ import annotations

import numpy as np
from dcfre._jit import njit  # numba.njit, with its start-up trimmed (see dcfre._jit)

#: Colour levels per channel of the Color Names table and the width of one level.
LEVELS_PER_CHANNEL = 32
LEVEL_WIDTH = 8
#: Largest pixel value; float inputs are clipped to [0, MAX_PIXEL] and rounded like a uint8 cast.
MAX_PIXEL = 255.0


@njit(cache=True)
def _pixel_level(value):
    """uint8 value of a pixel sample: uint8 as is; floats clipped to [0, 255] and rounded half up."""
    v = np.float32(value)
    if not v >= 0.0:  # also maps NaN to 0
        v = np.float32(0.0)
    if v > MAX_PIXEL:
        v = np.float32(MAX_PIXEL)
    return int(v + np.float32(0.5))


@njit(cache=True)
def table_lookup_kernel(image, table, cell, out):
    """Average of ``table[R // 8 + 32 * (G // 8) + 1024 * (B // 8)]`` over each cell.

    ``image`` (H, W, 3) uint8 or float32 RGB, ``table`` (32768, D) float32, ``out`` zeroed
    (H // cell, W // cell, D) float32.
    """
    n_rows, n_cols, depth = out.shape
    scale = np.float32(1.0 / (cell * cell))
    for y in range(n_rows * cell):
        i = y // cell
        for x in range(n_cols * cell):
            j = x // cell
            index = (
                _pixel_level(image[y, x, 0]) // LEVEL_WIDTH
                + LEVELS_PER_CHANNEL * (_pixel_level(image[y, x, 1]) // LEVEL_WIDTH)
                + LEVELS_PER_CHANNEL * LEVELS_PER_CHANNEL * (_pixel_level(image[y, x, 2]) // LEVEL_WIDTH)
            )
            for d in range(depth):
                out[i, j, d] += table[index, d]
    for i in range(n_rows):
        for j in range(n_cols):
            for d in range(depth):
                out[i, j, d] *= scale


@njit(cache=True)
def gray_table_kernel(image, table, cell, out):
    """Average of ``table[pixel]`` over each cell of a one-channel image.

    ``image`` (H, W, 1) uint8 or float32 (clipped and rounded like a uint8 cast), ``table``
    (256, D) float32, ``out`` zeroed (H // cell, W // cell, D) float32.
    """
    n_rows, n_cols, depth = out.shape
    scale = np.float32(1.0 / (cell * cell))
    for y in range(n_rows * cell):
        i = y // cell
        for x in range(n_cols * cell):
            j = x // cell
            index = _pixel_level(image[y, x, 0])
            for d in range(depth):
                out[i, j, d] += table[index, d]
    for i in range(n_rows):
        for j in range(n_cols):
            for d in range(depth):
                out[i, j, d] *= scale
