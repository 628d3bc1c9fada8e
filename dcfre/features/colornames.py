"""Color Names features (ECO's 10-column ``CNnorm`` table) and the intensity-channel features of gray frames.

The table maps each of the 32^3 colours ``(R // 8, G // 8, B // 8)`` to 10 values; ECO-HC looks
every pixel up and averages the values over ``cell x cell`` cells (its ``table_feature`` with
average pooling). The shipped copy ``data/colornames_cnnorm.npy`` was extracted from OpenCV
contrib by ``scripts/extract_colornames.py`` (origin and license: the project's NOTICE file).

Gray frames use ECO's intensity-channel table instead (``intensityChannelNorm6``, 256 x 5): a
channel coding of the gray level by 6 quadratic B-splines, with the constant direction (the
splines sum to one) removed. :func:`intensity_channel_table` builds it from that definition; it
spans the same 5-dimensional feature space, with the same inner products, as ECO's table, which
is all ECO's pipeline sees (its normalization, PCA and learnt projection are unchanged by an
orthogonal change of basis of the features).
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from dcfre.errors import DcfreError, InputError
from dcfre.features import _checks
from dcfre.features._table_kernels import gray_table_kernel, table_lookup_kernel

#: Shape of the Color Names table: one row per 8-level RGB colour, 10 columns.
TABLE_SHAPE = (32768, 10)
_TABLE_RESOURCE = ("dcfre.features", "data/colornames_cnnorm.npy")
#: Channels of ECO's intensity coding; the table keeps INTENSITY_CHANNELS - 1 columns.
INTENSITY_CHANNELS = 6
#: Gray levels of the intensity table (uint8 pixels).
GRAY_LEVELS = 256


@functools.cache
def colornames_table() -> np.ndarray:
    """ECO's Color Names table ``CNnorm``.

    Returns
    -------
    ndarray, shape (32768, 10), dtype float32, read-only
        Row ``R // 8 + 32 * (G // 8) + 1024 * (B // 8)`` holds the 10 features of colour
        (R, G, B). Loaded once from the package data and cached.
    """
    package, name = _TABLE_RESOURCE
    with resources.files(package).joinpath(name).open("rb") as stream:
        table = np.load(stream, allow_pickle=False)
    if table.shape != TABLE_SHAPE or table.dtype != np.float32:
        raise DcfreError(f"the packaged Color Names table has shape {table.shape} and dtype {table.dtype}")
    table = np.ascontiguousarray(table)
    table.setflags(write=False)
    return table


def colornames(image, cell_size: int) -> np.ndarray:
    """Color Names features of an RGB image, averaged over square cells.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), dtype uint8 (or float32 in [0, 255])
        RGB pixels. Float values are clipped to [0, 255] and rounded half up first, as the
        uint8 patches ECO resamples; H and W must be >= cell_size.
    cell_size : int
        Cell side in pixels (ECO-HC: 4). Cells tile the image from its top-left corner; the last
        ``H % cell_size`` rows and ``W % cell_size`` columns are ignored.

    Returns
    -------
    ndarray, shape (H // cell_size, W // cell_size, 10), dtype float32
        Mean of the table rows of the pixels in each cell.
    """
    array = _checks.image_as_hwc(image, "image", channels=(3,))
    cell = _checks.positive_int(cell_size, "cell_size")
    n_rows, n_cols = _cell_grid(array.shape, cell)
    table = colornames_table()
    out = np.zeros((n_rows, n_cols, table.shape[1]), dtype=np.float32)
    table_lookup_kernel(array, table, cell, out)
    return out


@functools.cache
def intensity_channel_table() -> np.ndarray:
    """ECO's intensity-channel table (``intensityChannelNorm6``), up to an orthogonal change of basis.

    Gray level ``v`` is coded by 6 quadratic B-splines ``B((v - c_k) / s)`` with spacing
    ``s = 255 / 4`` and centres ``c_k = (k - 1/2) s``, k = 0..5, so that levels 0 and 255 sit
    half-way between two centres. The splines sum to 1 at every level; that constant direction
    carries no information and is removed by expressing the coding in an orthonormal basis of
    the complement of ``(1, ..., 1)`` (the DCT-II vectors 1..5).

    Returns
    -------
    ndarray, shape (256, 5), dtype float32, read-only
        Row ``v`` holds the features of gray level ``v``; each row has norm 1/sqrt(3) at the
        spline centres and midpoints and at most about 0.654 in between.
    """
    n = INTENSITY_CHANNELS
    spacing = (GRAY_LEVELS - 1) / (n - 2)
    centres = (np.arange(n) - 0.5) * spacing
    d = np.abs(np.arange(GRAY_LEVELS, dtype=np.float64)[:, None] - centres[None, :]) / spacing
    coding = np.where(d < 0.5, 0.75 - d**2, np.where(d < 1.5, 0.5 * (1.5 - d) ** 2, 0.0))
    k = np.arange(1, n)[None, :]
    basis = np.sqrt(2.0 / n) * np.cos(np.pi * (np.arange(n)[:, None] + 0.5) * k / n)  # (n, n - 1), orthonormal
    table = np.ascontiguousarray(coding @ basis, dtype=np.float32)
    table.setflags(write=False)
    return table


def intensity(image, cell_size: int) -> np.ndarray:
    """Intensity-channel features of a gray image (ECO-HC's gray-frame feature), averaged over cells.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, 1), dtype uint8 or float32 in [0, 255]
        Gray pixels (float values clipped and rounded as in :func:`colornames`); H and W must be
        >= cell_size.
    cell_size : int
        Cell side in pixels; cells tile the image as in :func:`colornames`.

    Returns
    -------
    ndarray, shape (H // cell_size, W // cell_size, 5), dtype float32
        Mean of the :func:`intensity_channel_table` rows of the pixels in each cell.
    """
    array = _checks.image_as_hwc(image, "image", channels=(1,))
    cell = _checks.positive_int(cell_size, "cell_size")
    n_rows, n_cols = _cell_grid(array.shape, cell)
    table = intensity_channel_table()
    out = np.zeros((n_rows, n_cols, table.shape[1]), dtype=np.float32)
    gray_table_kernel(array, table, cell, out)
    return out


def _cell_grid(shape: tuple[int, ...], cell: int) -> tuple[int, int]:
    height, width = shape[0], shape[1]
    if height < cell or width < cell:
        raise InputError(f"image ({height}x{width} pixels) is smaller than one {cell}x{cell} cell")
    return height // cell, width // cell
