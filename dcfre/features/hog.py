"""Felzenszwalb HOG (FHOG) features as used by ECO (Piotr Dollar's toolbox ``fhog``).

The exact definition (gradients, binning, block normalization, channel order) is given in
:mod:`dcfre.features._hog_kernels`. Summary for a cell size ``s`` and ``n`` orientations:

* output ``(H // s, W // s, 3 n + 4)`` float32: ``2 n`` contrast-sensitive channels (bin ``k``
  centred on angle ``k * pi / n`` of ``atan2(gy, gx)``, x to the right, y down), ``n``
  contrast-insensitive channels, and 4 texture channels; ``n = 9`` gives ECO's 31 channels
  (the toolbox's constant 32nd channel is dropped);
* borders and sizes that are not a multiple of ``s``: cells tile the image from its top-left
  corner; the last ``H % s`` rows and ``W % s`` columns vote into no cell (they are still used
  as neighbours in the gradient of the last used row/column); the image border itself uses
  one-sided differences; votes falling outside the cell grid are dropped and the outermost
  cells are multiplied by 8/7; border cells reuse the nearest complete 2x2 block for their
  missing block normalizers;
* an image with a single row (column) of cells, where the toolbox returns meaningless values,
  normalizes with blocks that use that row (column) twice.

Input values are expected in [0, 255] (the toolbox's ``single(uint8 image)``); the features are
not scale invariant below the clipping level because of the small ``eps`` in the block norms.

Checked once against the toolbox's own C code (``gradientMex.cpp`` v3.30, the version pyECO
ships) on photos and noise: equal to ~5e-5 absolute, the toolbox's SSE reciprocal square roots
(~3e-4 relative) aside, except around the rare pixel (about 1 in 10^4) whose orientation lies
within ~0.01 degree of a bin boundary, where the toolbox's quantized acos table picks the other bin.
"""

from __future__ import annotations

import numpy as np

from dcfre.errors import InputError
from dcfre.features import _checks
from dcfre.features._hog_kernels import fhog_batch_kernel

#: ECO's FHOG settings (9 orientations -> 31 channels, truncation at 0.2).
DEFAULT_N_ORIENTATIONS = 9
DEFAULT_CLIP = 0.2


def fhog_channel_count(n_orientations: int = DEFAULT_N_ORIENTATIONS) -> int:
    """Number of FHOG channels: 2n sensitive + n insensitive + 4 texture (31 for n = 9)."""
    return 3 * n_orientations + 4


def fhog(
    image,
    cell_size: int,
    *,
    n_orientations: int = DEFAULT_N_ORIENTATIONS,
    clip: float = DEFAULT_CLIP,
    soft_orientation: bool = False,
) -> np.ndarray:
    """Felzenszwalb HOG of one image, as Piotr Dollar's ``fhog`` (used by ECO) computes it.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, 3) (any C >= 1 is accepted), dtype uint8 or float32
        Pixel values in [0, 255]. Other real dtypes are converted to float32. For several
        channels, each pixel uses the channel with the largest gradient magnitude.
        H and W must be >= max(2, cell_size).
    cell_size : int
        Cell side in pixels (ECO-HC: 6; scale filter: 4).
    n_orientations : int, default 9
        Contrast-insensitive orientation bins (2 * n_orientations sensitive bins).
    clip : float, default 0.2
        Truncation of each block-normalized histogram value.
    soft_orientation : bool, default False
        Split each vote linearly between the two nearest orientation bins. ``fhog`` (and so ECO)
        assigns it to the nearest bin only; keep False to reproduce ECO.

    Returns
    -------
    ndarray, shape (H // cell_size, W // cell_size, 3 * n_orientations + 4), dtype float32
        Channels ``[0, 2n)`` contrast-sensitive, ``[2n, 3n)`` contrast-insensitive,
        ``[3n, 3n + 4)`` texture. Values lie in [0, 2 * clip] for orientation channels.

    Raises
    ------
    InputError
        On a non-image argument, an image smaller than one cell or 2x2 pixels, or bad parameters.
    """
    array = _checks.image_as_hwc(image, "image")
    return fhog_many(array[None], cell_size, n_orientations=n_orientations, clip=clip,
                     soft_orientation=soft_orientation)[0]


def fhog_many(
    images,
    cell_size: int,
    *,
    n_orientations: int = DEFAULT_N_ORIENTATIONS,
    clip: float = DEFAULT_CLIP,
    soft_orientation: bool = False,
) -> np.ndarray:
    """FHOG of a stack of same-size images (e.g. the scale filter's patches) in one call.

    Parameters
    ----------
    images : ndarray, shape (N, H, W) or (N, H, W, C), dtype uint8 or float32
        N images, values in [0, 255].
    cell_size, n_orientations, clip, soft_orientation
        As in :func:`fhog`.

    Returns
    -------
    ndarray, shape (N, H // cell_size, W // cell_size, 3 * n_orientations + 4), dtype float32
        ``out[i]`` equals ``fhog(images[i], ...)``.
    """
    array = _checks.images_as_nhwc(images, "images")
    cell, n_orientations, clip = _check_parameters(cell_size, n_orientations, clip)
    n_rows, n_cols = _cell_grid(array.shape[1], array.shape[2], cell, "images")
    shape = (array.shape[0], n_rows, n_cols, fhog_channel_count(n_orientations))
    out = np.zeros(shape, dtype=np.float32)
    fhog_batch_kernel(array, cell, n_orientations, clip, bool(soft_orientation), out)
    return out


def _check_parameters(cell_size, n_orientations, clip) -> tuple[int, int, float]:
    cell = _checks.positive_int(cell_size, "cell_size")
    n_orientations = _checks.positive_int(n_orientations, "n_orientations")
    clip = _checks.finite_float(clip, "clip", positive=True)
    return cell, n_orientations, clip


def _cell_grid(height: int, width: int, cell: int, name: str) -> tuple[int, int]:
    if height < 2 or width < 2:
        raise InputError(f"{name} must be at least 2x2 pixels for FHOG, got {height}x{width}")
    if height < cell or width < cell:
        raise InputError(f"{name} ({height}x{width} pixels) is smaller than one {cell}x{cell} cell")
    return height // cell, width // cell
