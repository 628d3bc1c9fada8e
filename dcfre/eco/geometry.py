"""Sample geometry of an ECO model: how big the training/search sample is, and its feature grids.

All sizes are ``(height, width)``. ``scale`` maps sample pixels to image pixels: a sample of
``sample_size`` pixels covers ``sample_size * scale`` image pixels, and the target measures
``base_target_size * scale`` image pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dcfre.fourier import odd_size


@dataclass(frozen=True)
class SampleGeometry:
    """Resolution of the sample and of each feature block.

    Attributes
    ----------
    base_target_size : ndarray (2,)
        Target size in sample pixels (target size in image pixels / initial scale).
    initial_scale : float
        Image pixels per sample pixel at initialization.
    sample_size : ndarray (2,) int
        Side of the square sample in sample pixels (the support ``T`` of the continuous domain).
    feature_sizes : list of (int, int)
        Cells of each feature block (sample_size // cell_size).
    filter_sizes : list of (int, int)
        Fourier-coefficient grid of each block (odd, one more than an even feature size).
    output_size : (int, int)
        The largest filter size; the score map lives on this grid.
    """

    base_target_size: np.ndarray
    initial_scale: float
    sample_size: np.ndarray
    feature_sizes: list[tuple[int, int]]
    filter_sizes: list[tuple[int, int]]
    output_size: tuple[int, int]

    @property
    def cells_to_pixels(self) -> np.ndarray:
        """Sample pixels per output-grid cell, shape (2,)."""
        return self.sample_size / np.asarray(self.output_size, dtype=np.float64)

    def block_offset(self, block: int) -> int:
        """Row offset of a block's spectrum inside the output spectrum (blocks are centred)."""
        return (self.output_size[0] - self.filter_sizes[block][0]) // 2


def compute_geometry(
    target_size: np.ndarray,
    cell_sizes: list[int],
    search_area_scale: float,
    min_sample_area: float,
    max_sample_area: float,
    stride_multiple: int = 1,
) -> SampleGeometry:
    """Choose the sample size for a target, as ECO does.

    The sample is a square of side ``sqrt(area(target) * search_area_scale^2)``, rescaled so that
    its area lies in ``[min_sample_area, max_sample_area]``. Its side is then adjusted to an odd
    multiple of the largest cell size plus the offset (0 .. max_cell - 1) that gives the most
    odd-sized feature grids (odd grids have an exact centre, so no Nyquist splitting is needed).

    Parameters
    ----------
    target_size : (2,) array of float
        Target (height, width) in image pixels, both > 0.
    cell_sizes : list of int
        Cell size (pixels per feature cell) of each feature block.
    stride_multiple : int
        The side must also be a multiple of this (e.g. a CNN's input granularity).
    """
    target_size = np.asarray(target_size, dtype=np.float64)
    search_area = float(np.prod(target_size * search_area_scale))
    if search_area > max_sample_area:
        scale = math.sqrt(search_area / max_sample_area)
    elif search_area < min_sample_area:
        scale = math.sqrt(search_area / min_sample_area)
    else:
        scale = 1.0
    base_target_size = target_size / scale
    side = math.sqrt(float(np.prod(base_target_size * search_area_scale)))

    max_cell = max(cell_sizes)
    # MATLAB's round (ties away from zero), not Python's (ties to even): every target whose
    # search area is below the minimum lands exactly on the tie side / (2 max_cell) = 12.5 with
    # ECO-HC's settings, and ECO then samples 164 px, not 150 px.
    base = (1 + 2 * round_half_away(side / (2 * max_cell))) * max_cell
    best_side, best_odd = base, -1
    for offset in range(max_cell):
        candidate = base + offset
        if candidate % stride_multiple:
            continue
        n_odd = sum((candidate // c) % 2 for c in cell_sizes)
        if n_odd > best_odd:
            best_side, best_odd = candidate, n_odd
    if best_odd < 0:  # no offset satisfied the stride: round up to a multiple of it
        best_side = int(math.ceil(base / stride_multiple) * stride_multiple)

    return geometry_for_side(base_target_size, scale, int(best_side), cell_sizes)


def round_half_away(value: float) -> int:
    """Round to the nearest integer, ties away from zero (MATLAB's ``round``)."""
    magnitude = math.floor(abs(value) + 0.5)
    return int(magnitude if value >= 0 else -magnitude)


def geometry_for_side(base_target_size: np.ndarray, initial_scale: float, side: int,
                      cell_sizes: list[int]) -> SampleGeometry:
    """Feature and filter grids for a given square sample side (shared by several models)."""
    feature_sizes = [(side // c, side // c) for c in cell_sizes]
    filter_sizes = [(odd_size(h), odd_size(w)) for h, w in feature_sizes]
    output_size = (max(f[0] for f in filter_sizes), max(f[1] for f in filter_sizes))
    return SampleGeometry(
        base_target_size=np.asarray(base_target_size, dtype=np.float64),
        initial_scale=float(initial_scale),
        sample_size=np.array([side, side], dtype=np.int64),
        feature_sizes=feature_sizes,
        filter_sizes=filter_sizes,
        output_size=output_size,
    )
