"""Color Names features (ECO's 10-column ``CNnorm`` table) and the intensity fallback for gray frames.

The table maps each of the 32^3 colours ``(R // 8, G // 8, B // 8)`` to 10 values; ECO-HC looks
every pixel up and averages the values over ``cell x cell`` cells (its ``table_feature`` with
average pooling). The shipped copy ``data/colornames_cnnorm.npy`` was extracted from OpenCV
contrib by ``scripts/extract_colornames.py`` (origin and license: the project's NOTICE file).
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from dcfre.errors import DcfreError, InputError
from dcfre.features import _checks
from dcfre.features._table_kernels import cell_mean_kernel, table_lookup_kernel

#: Shape of the Color Names table: one row per 8-level RGB colour, 10 columns.
TABLE_SHAPE = (32768, 10)
_TABLE_RESOURCE = ("dcfre.features", "data/colornames_cnnorm.npy")
#: Intensity feature: pixel * INTENSITY_GAIN + INTENSITY_OFFSET, i.e. pixel / 255 - 0.5.
INTENSITY_GAIN = 1.0 / 255.0
INTENSITY_OFFSET = -0.5


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


def intensity(image, cell_size: int) -> np.ndarray:
    """Intensity feature ``pixel / 255 - 0.5`` averaged over square cells (fallback for gray frames).

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, 1), dtype uint8 or float32 in [0, 255]
        Gray pixels; H and W must be >= cell_size.
    cell_size : int
        Cell side in pixels; cells tile the image as in :func:`colornames`.

    Returns
    -------
    ndarray, shape (H // cell_size, W // cell_size, 1), dtype float32
        Values in [-0.5, 0.5] for inputs in [0, 255].
    """
    array = _checks.image_as_hwc(image, "image", channels=(1,))
    cell = _checks.positive_int(cell_size, "cell_size")
    n_rows, n_cols = _cell_grid(array.shape, cell)
    out = np.zeros((n_rows, n_cols, 1), dtype=np.float32)
    cell_mean_kernel(array, INTENSITY_GAIN, INTENSITY_OFFSET, cell, out)
    return out


def _cell_grid(shape: tuple[int, ...], cell: int) -> tuple[int, int]:
    height, width = shape[0], shape[1]
    if height < cell or width < cell:
        raise InputError(f"image ({height}x{width} pixels) is smaller than one {cell}x{cell} cell")
    return height // cell, width // cell
