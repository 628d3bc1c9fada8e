"""Image sample conversions shared by the frame reader and the tracker's input checks."""

from __future__ import annotations

import numpy as np

from dcfre.errors import FrameReadError

#: 16-bit (and wider integer) samples map to 8 bits by this divisor: 65535 -> 255 exactly.
_UINT16_TO_UINT8 = 257.0


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Convert an image array of any numeric dtype to uint8.

    uint16 is divided by 257 (65535 -> 255); other integer types are taken as 8-bit values and
    clipped to 0..255; floats are taken in [0, 1] when their maximum is at most 1 (scaled by 255),
    else in [0, 255]; NaN/Inf become 0; bool maps to 0/255.
    """
    array = np.asarray(array)
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * np.uint8(255)
    if array.dtype == np.uint16:  # 16-bit images (PNG, TIFF): full range maps to 0..255
        return np.clip(np.rint(array / _UINT16_TO_UINT8), 0, 255).astype(np.uint8)
    if array.dtype.kind in "ui":  # other integers hold 8-bit values (e.g. the result of arithmetic)
        return np.clip(array, 0, 255).astype(np.uint8)
    if array.dtype.kind == "f":
        values = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        if values.size and values.max() <= 1.0:
            values = values * 255.0
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    raise FrameReadError(f"unsupported image sample type {array.dtype}")


def is_color_frame(frame: np.ndarray) -> bool:
    """Whether a frame is colour, as ECO decides it on the first frame (``tracker.m``).

    A frame is colour if it has three channels and its first two channels differ somewhere:
    gray videos are often decoded (or stored, as many OTB sequences are) as RGB with three equal
    channels, and ECO-HC then uses its gray-frame features (intensity channels instead of Color
    Names). ECO compares only the first two channels; so does this.

    Parameters
    ----------
    frame : ndarray, shape (H, W) or (H, W, C)
    """
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3:
        return False
    return not np.array_equal(frame[:, :, 0], frame[:, :, 1])
