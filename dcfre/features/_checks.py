"""Input validation shared by the feature wrappers.

Every public feature function validates its arguments here before calling a numba kernel, so
that a bad argument raises :class:`dcfre.errors.InputError` with a message naming it, never a
numba ``TypingError`` or an out-of-bounds access inside a kernel.
"""

from __future__ import annotations

import numbers

import numpy as np

from dcfre.errors import InputError

#: dtypes the kernels are compiled for; other real dtypes are converted to float32.
KERNEL_DTYPES = (np.dtype(np.uint8), np.dtype(np.float32))


def image_as_hwc(image, name: str = "image", *, channels: tuple[int, ...] | None = None) -> np.ndarray:
    """Return ``image`` as a C-contiguous (H, W, C) array of dtype uint8 or float32.

    Parameters
    ----------
    image : array_like, shape (H, W) or (H, W, C)
        Pixel values. uint8 and float32 are passed through without a copy when contiguous;
        other integer or floating dtypes are converted to float32 (values are kept, not rescaled).
    name : str
        Argument name used in error messages.
    channels : tuple of int, optional
        Allowed channel counts C (a 2-D input counts as C = 1). ``None`` allows any C >= 1.

    Returns
    -------
    ndarray, shape (H, W, C), dtype uint8 or float32

    Raises
    ------
    InputError
        If ``image`` is not a non-empty 2-D or 3-D real array with an allowed channel count.
    """
    array = np.asarray(image)
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise InputError(f"{name} must be a real-valued array (uint8 or float32), got dtype {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    if array.ndim != 3:
        raise InputError(f"{name} must have shape (H, W) or (H, W, C), got shape {np.shape(image)}")
    if array.shape[0] == 0 or array.shape[1] == 0 or array.shape[2] == 0:
        raise InputError(f"{name} is empty (shape {np.shape(image)})")
    if channels is not None and array.shape[2] not in channels:
        allowed = " or ".join(str(c) for c in channels)
        raise InputError(f"{name} must have {allowed} channel(s), got shape {np.shape(image)}")
    if array.dtype not in KERNEL_DTYPES:
        array = array.astype(np.float32)
    return np.ascontiguousarray(array)


def images_as_nhwc(images, name: str = "images") -> np.ndarray:
    """Return a stack of images as a C-contiguous (N, H, W, C) uint8 or float32 array.

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, H, W, C)
        N images of the same size; dtype handling as in :func:`image_as_hwc`.
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray, shape (N, H, W, C), dtype uint8 or float32
    """
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[:, :, :, np.newaxis]
    if array.ndim != 4:
        raise InputError(f"{name} must have shape (N, H, W) or (N, H, W, C), got shape {np.shape(images)}")
    if array.shape[0] == 0:
        raise InputError(f"{name} holds no image (shape {np.shape(images)})")
    # Validate the dtype and the per-image shape with the single-image rules.
    image_as_hwc(array[0], f"{name}[0]")
    if array.dtype not in KERNEL_DTYPES:
        array = array.astype(np.float32)
    return np.ascontiguousarray(array)


def positive_int(value, name: str) -> int:
    """Return ``value`` as a Python int after checking it is an integer >= 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise InputError(f"{name} must be a positive integer, got {value}")
    return int(value)


def finite_float(value, name: str, *, positive: bool = False) -> float:
    """Return ``value`` as a float after checking it is a finite real number (> 0 if ``positive``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a real number, got {value!r}")
    result = float(value)
    if not np.isfinite(result):
        raise InputError(f"{name} must be finite, got {value!r}")
    if positive and result <= 0.0:
        raise InputError(f"{name} must be > 0, got {value!r}")
    return result


def finite_pair(value, name: str, *, positive: bool = False) -> tuple[float, float]:
    """Return a length-2 sequence of finite reals as a tuple of floats (> 0 if ``positive``)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a pair of numbers, got {value!r}") from None
    if array.shape != (2,):
        raise InputError(f"{name} must be a pair of numbers, got {value!r}")
    if not np.all(np.isfinite(array)):
        raise InputError(f"{name} must be finite, got {value!r}")
    if positive and np.any(array <= 0.0):
        raise InputError(f"{name} must be > 0, got {value!r}")
    return float(array[0]), float(array[1])


def positive_int_pair(value, name: str) -> tuple[int, int]:
    """Return a length-2 sequence of integers >= 1 as a tuple of ints."""
    try:
        first, second = value
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a pair of positive integers, got {value!r}") from None
    return positive_int(first, name), positive_int(second, name)
