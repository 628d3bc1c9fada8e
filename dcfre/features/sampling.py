"""Crop a (sub-pixel) rectangle of a frame and resample it to a fixed grid, as ECO samples patches.

Coordinate convention (used by every function here):

* 0-based pixel coordinates ``(y, x)``, y down the rows, x along the columns; pixel ``(r, c)``
  is the unit square centred on ``(r, c)``, so an H x W image covers
  ``[-0.5, H - 0.5] x [-0.5, W - 0.5]``.
* The patch of size ``(ph, pw)`` (floats) centred on ``(cy, cx)`` (floats) is the rectangle
  ``[cy - ph / 2, cy + ph / 2] x [cx - pw / 2, cx + pw / 2]``; it may leave the image, which
  is then extended by replicating its border pixels (any distance away).
* Output pixel ``(j, l)`` of an ``(oh, ow)`` grid stands for the cell of size
  ``(ph / oh, pw / ow)`` starting at ``(cy - ph / 2 + j * ph / oh, cx - pw / 2 + l * pw / ow)``.
  Along each axis separately: when the cell is larger than a pixel (downsampling) its value
  is the exact area average of the piecewise-constant image over the cell (OpenCV's
  ``INTER_AREA``, which ECO's ``mexResize(..., 'auto')`` uses to shrink); otherwise it is the
  linear interpolation between pixel centres at the cell centre (``INTER_LINEAR``, ECO's
  choice to enlarge). The two coincide for a scale of exactly 1.

ECO crops integer pixel ranges: for a 0-based integer position ``p`` and an integer size
``s`` it takes pixels ``p - (s - 1) // 2 ... p + s // 2``, i.e. ``center = p + 0.5 * (1 - s % 2)``
here. ECO also first decimates large patches by an integer factor without filtering; this
module filters properly instead (area averaging), so it aliases less.
"""

from __future__ import annotations

import numpy as np

from dcfre.errors import InputError
from dcfre.features import _checks
from dcfre.features._sampling_kernels import crop_resize_kernel, crop_resize_many_kernel, gather_resize_kernel


def crop_and_resize(image, center_yx, patch_hw, out_hw) -> np.ndarray:
    """Extract the patch of size ``patch_hw`` centred on ``center_yx`` and resample it to ``out_hw``.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C), dtype uint8 or float32
        The frame (other real dtypes are converted to float32).
    center_yx : pair of float
        Patch centre (y, x) in pixel coordinates (see the module docstring); may lie outside.
    patch_hw : pair of float
        Patch height and width in pixels, > 0 (non-integer sizes allowed).
    out_hw : pair of int
        Output height and width in samples, >= 1.

    Returns
    -------
    ndarray, shape (oh, ow, C), or (oh, ow) for a 2-D image, dtype float32
        Resampled values in the input's units (0..255 for uint8 frames), not rounded.
    """
    array = _checks.image_as_hwc(image, "image")
    center_y, center_x = _checks.finite_pair(center_yx, "center_yx")
    patch_h, patch_w = _checks.finite_pair(patch_hw, "patch_hw", positive=True)
    out_h, out_w = _checks.positive_int_pair(out_hw, "out_hw")
    out = np.empty((out_h, out_w, array.shape[2]), dtype=np.float32)
    crop_resize_kernel(array, center_y - patch_h / 2.0, center_x - patch_w / 2.0, patch_h / out_h, patch_w / out_w, out)
    return out if np.ndim(image) == 3 else out[:, :, 0]


def crop_and_resize_many(image, center_yx, patch_hws, out_hw) -> np.ndarray:
    """Patches of several sizes around one centre, all resampled to ``out_hw`` (scale filter samples).

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C), dtype uint8 or float32
        The frame.
    center_yx : pair of float
        Common patch centre (y, x).
    patch_hws : array_like, shape (N, 2)
        Height and width of each patch in pixels, > 0.
    out_hw : pair of int
        Common output height and width.

    Returns
    -------
    ndarray, shape (N, oh, ow, C), or (N, oh, ow) for a 2-D image, dtype float32
        ``out[i]`` equals ``crop_and_resize(image, center_yx, patch_hws[i], out_hw)``.
    """
    array = _checks.image_as_hwc(image, "image")
    center_y, center_x = _checks.finite_pair(center_yx, "center_yx")
    sizes = _patch_sizes(patch_hws)
    out_h, out_w = _checks.positive_int_pair(out_hw, "out_hw")
    out = np.empty((sizes.shape[0], out_h, out_w, array.shape[2]), dtype=np.float32)
    tops = center_y - sizes[:, 0] / 2.0
    lefts = center_x - sizes[:, 1] / 2.0
    crop_resize_many_kernel(array, tops, lefts, sizes[:, 0] / out_h, sizes[:, 1] / out_w, out)
    return out if np.ndim(image) == 3 else out[:, :, :, 0]


def crop_and_resize_at(image, centers_yx, patch_hw, out_hw) -> np.ndarray:
    """Patches of one size around several centres, all resampled to ``out_hw`` (one kernel call).

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C), dtype uint8 or float32
    centers_yx : array_like, shape (N, 2)
        Patch centres (y, x); may lie outside the image.
    patch_hw : pair of float
        Common patch height and width in pixels, > 0.
    out_hw : pair of int

    Returns
    -------
    ndarray, shape (N, oh, ow, C), or (N, oh, ow) for a 2-D image, dtype float32
        ``out[i]`` equals ``crop_and_resize(image, centers_yx[i], patch_hw, out_hw)``.
    """
    array = _checks.image_as_hwc(image, "image")
    centers = np.asarray(centers_yx, dtype=np.float64)
    if centers.ndim != 2 or centers.shape[1] != 2 or centers.shape[0] == 0 or not np.all(np.isfinite(centers)):
        raise InputError(f"centers_yx must be a finite (N, 2) array with N >= 1, got shape {centers.shape}")
    patch_h, patch_w = _checks.finite_pair(patch_hw, "patch_hw", positive=True)
    out_h, out_w = _checks.positive_int_pair(out_hw, "out_hw")
    out = np.empty((centers.shape[0], out_h, out_w, array.shape[2]), dtype=np.float32)
    tops = np.ascontiguousarray(centers[:, 0] - patch_h / 2.0)
    lefts = np.ascontiguousarray(centers[:, 1] - patch_w / 2.0)
    steps_y = np.full(centers.shape[0], patch_h / out_h)
    steps_x = np.full(centers.shape[0], patch_w / out_w)
    crop_resize_many_kernel(array, tops, lefts, steps_y, steps_x, out)
    return out if np.ndim(image) == 3 else out[:, :, :, 0]


def _patch_sizes(patch_hws) -> np.ndarray:
    try:
        sizes = np.asarray(patch_hws, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"patch_hws must be an (N, 2) array of sizes, got {patch_hws!r}") from None
    if sizes.ndim != 2 or sizes.shape[1] != 2 or sizes.shape[0] == 0:
        raise InputError(f"patch_hws must be an (N, 2) array of sizes with N >= 1, got shape {sizes.shape}")
    if not np.all(np.isfinite(sizes)) or np.any(sizes <= 0.0):
        raise InputError("patch_hws must hold finite sizes > 0")
    return np.ascontiguousarray(sizes)


def eco_sample_patches(image, position_yx, patch_hws, out_hw) -> np.ndarray:
    """Patches sampled as ECO's ``sample_patch.m`` does: integer position, decimation, linear resize.

    For each size: the frame is decimated (every ``df``-th pixel, no filtering) by
    ``df = max(floor(min(patch / out) - 0.1), 1)`` on the grid through ``position_yx``; the
    integer crop of ``max(round(patch / df), 2)`` pixels (MATLAB rounding) whose index range is
    ``p - (s + 1) // 2 + 1 ... p + s - (s + 1) // 2`` (border pixels replicated) is resized
    bilinearly, without antialiasing, to ``out_hw`` (OpenCV ``INTER_LINEAR``, what ECO's
    ``mexResize(..., 'linear')`` calls).

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C), dtype uint8 or float32
    position_yx : pair of int
        0-based integer centre (y, x) (ECO rounds the position first).
    patch_hws : array_like, shape (N, 2)
        Patch height and width in pixels, > 0.
    out_hw : pair of int

    Returns
    -------
    ndarray, shape (N, oh, ow, C), or (N, oh, ow) for a 2-D image, dtype float32
        Values of the image's dtype (uint8 results are rounded, as ECO's uint8 patches).
    """
    from dcfre.eco.geometry import round_half_away

    array = _checks.image_as_hwc(image, "image")
    py, px = (int(v) for v in _checks.finite_pair(position_yx, "position_yx"))
    sizes = _patch_sizes(patch_hws)
    out_h, out_w = _checks.positive_int_pair(out_hw, "out_hw")
    if array.dtype not in (np.uint8, np.float32):
        array = array.astype(np.float32)
    out = np.empty((sizes.shape[0], out_h, out_w, array.shape[2]), dtype=np.float32)
    for i, (patch_h, patch_w) in enumerate(sizes):
        factor = max(int(np.floor(min(patch_h / out_h, patch_w / out_w) - 0.1)), 1)
        offset_y, offset_x = py % factor, px % factor
        # the decimated frame is array[offset_y::factor, offset_x::factor]; its row r is array row offset_y + r * factor
        decimated_h = (array.shape[0] - offset_y + factor - 1) // factor
        decimated_w = (array.shape[1] - offset_x + factor - 1) // factor
        cy, cx = (py - offset_y) // factor, (px - offset_x) // factor
        side_h = max(round_half_away(patch_h / factor), 2)
        side_w = max(round_half_away(patch_w / factor), 2)
        rows = np.clip(cy - (side_h + 1) // 2 + 1 + np.arange(side_h), 0, decimated_h - 1) * factor + offset_y
        cols = np.clip(cx - (side_w + 1) // 2 + 1 + np.arange(side_w), 0, decimated_w - 1) * factor + offset_x
        # OpenCV's INTER_LINEAR mapping (ECO's mexResize) in float, rounded for uint8 images as OpenCV
        # returns them; a numba kernel keeps OpenCV (0.25 s to import) off the tracking path
        gather_resize_kernel(array, rows, cols, array.dtype == np.uint8, out[i])
    return out if np.ndim(image) == 3 else out[:, :, :, 0]
