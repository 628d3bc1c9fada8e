"""Frames in: image files and video files decoded to RGB uint8 arrays.

- :func:`read_frame` decodes one image file to ``(H, W, 3)`` uint8 RGB or ``(H, W)`` uint8 and refuses
  truncated or corrupt files instead of returning garbage;
- :func:`image_size` reads an image's size from its header;
- :func:`iter_video` decodes a video file (imageio-ffmpeg) to RGB uint8 frames; :func:`video_meta` reads
  its container metadata;
- :func:`ffmpeg_error_line` turns an imageio-ffmpeg error into one telling line.

Complete 8-bit gray or YCbCr/RGB JPEG files are decoded by OpenCV (the same libjpeg-turbo pixels as
Pillow's, checked in the tests, in half the time: one C call without the GIL, no copy through Pillow's
4-byte pixel storage); every other file, and any JPEG that OpenCV does not take, goes through Pillow.
OpenCV (~30 ms to import after numpy) and imageio-ffmpeg are imported on first use.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from dcfre.errors import FrameReadError
from dcfre.image import to_uint8

# --------------------------------------------------------------------------------------------- image files

_RGB_MODES = ("RGBA", "RGBa", "RGBX", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV")
_GRAY_MODES = ("LA", "La", "1")


def read_frame(path: str | Path) -> np.ndarray:
    """Decode one image file.

    Colour images become RGB (alpha dropped, palettes and CMYK/YCbCr converted); gray images stay
    2-D. 16-bit samples are mapped to 8 bits by ``round(v / 257)`` (65535 -> 255, fixed for every
    frame, so no flicker between frames); float images are taken as ``[0, 1]`` when their maximum is
    at most 1 (scaled by 255), else as ``[0, 255]`` (clipped); NaN becomes 0.

    Parameters
    ----------
    path : str or Path
        Image file (JPEG, PNG, BMP, TIFF, WebP, PPM/PGM ...).

    Returns
    -------
    ndarray, shape (H, W, 3) or (H, W), uint8
        A fresh, writeable array.

    Raises
    ------
    FrameReadError
        Missing, empty, unreadable, truncated or corrupt file (the message names the file).
    """
    path = Path(path)
    if path.suffix.lower() in _JPEG_SUFFIXES:
        # the checks' four file-system calls only when reading fails: a sequence is read in a
        # background thread, where each call hands the interpreter lock back and forth with the tracker
        try:
            data = path.read_bytes()
        except OSError:
            data = b""
        if not data:
            _check_readable_file(path, "frame")
            raise FrameReadError(f"cannot read frame file {path}")
        frame = _read_jpeg_with_opencv(data)
        if frame is not None:
            return frame
    else:
        _check_readable_file(path, "frame")
    try:
        with Image.open(path) as image:
            image.load()
            return _pil_to_array(image)
    except UnidentifiedImageError:
        return _read_with_opencv(path)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise FrameReadError(f"cannot decode image {path}: {exc}") from None


#: File suffixes tried with OpenCV's JPEG decoder first (:func:`_read_jpeg_with_opencv`).
_JPEG_SUFFIXES = (".jpg", ".jpeg")
#: JPEG start-of-frame markers (SOF0-SOF15 without DHT 0xC4, JPG 0xC8 and DAC 0xCC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
#: Markers without a length field (TEM, RST0-7, SOI).
_BARE_MARKERS = frozenset([0x01, 0xD8, *range(0xD0, 0xD8)])


def _read_jpeg_with_opencv(data: bytes) -> np.ndarray | None:
    """Decode a complete 8-bit 1- or 3-component JPEG with OpenCV, or None to leave the file to Pillow.

    The pixels equal Pillow's: both decode with libjpeg-turbo's defaults, and the EXIF orientation is
    ignored as Pillow does. Pillow keeps the files it treats differently: a missing end-of-image
    marker (Pillow refuses truncated files, OpenCV returns them grey-filled), CMYK or 12-bit data,
    anything OpenCV cannot decode.
    """
    header = _jpeg_frame_header(data)
    if header is None or not data.endswith(b"\xff\xd9"):
        return None
    precision, components = header
    if precision != 8 or components not in (1, 3):
        return None
    import cv2  # ~30 ms after numpy: loaded on the first JPEG frame

    flags = cv2.IMREAD_GRAYSCALE if components == 1 else cv2.IMREAD_COLOR_RGB
    frame = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags | cv2.IMREAD_IGNORE_ORIENTATION)
    expected_ndim = 2 if components == 1 else 3
    return frame if frame is not None and frame.ndim == expected_ndim else None


def _jpeg_frame_header(data: bytes) -> tuple[int, int] | None:
    """``(sample precision in bits, number of components)`` from the start-of-frame segment of JPEG
    bytes, or None when ``data`` is not JPEG or the header is not reached."""
    if not data.startswith(b"\xff\xd8"):
        return None
    i, n = 2, len(data)
    while i + 3 < n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
        elif marker in _BARE_MARKERS:
            i += 2
        elif marker in _SOF_MARKERS:
            return (data[i + 4], data[i + 9]) if i + 9 < n else None
        else:
            i += 2 + ((data[i + 2] << 8) | data[i + 3])
    return None


def image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` of an image file, from its header when Pillow can read it (no decoding)."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError):
        height, width = read_frame(path).shape[:2]
        return width, height


def _check_readable_file(path: Path, what: str) -> None:
    if not path.exists():
        raise FrameReadError(f"{what} file not found: {path}")
    if not path.is_file():
        raise FrameReadError(f"{what} path is not a file: {path}")
    if path.stat().st_size == 0:
        raise FrameReadError(f"empty {what} file: {path}")
    if not os.access(path, os.R_OK):
        raise FrameReadError(f"{what} file is not readable: {path}")


def _pil_to_array(image: Image.Image) -> np.ndarray:
    if image.mode in _RGB_MODES:
        image = image.convert("RGB")
    elif image.mode in _GRAY_MODES:
        image = image.convert("L")
    array = np.array(image)
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[:, :, :3]
    return to_uint8(array)


def _read_with_opencv(path: Path) -> np.ndarray:
    """Fallback for formats Pillow does not identify (e.g. multi-channel float TIFF)."""
    import cv2  # the rare formats Pillow cannot read
    data = np.fromfile(path, dtype=np.uint8)
    array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if array is None:
        raise FrameReadError(f"cannot decode image {path}: unknown or corrupt image format")
    if array.ndim == 3:
        if array.shape[2] == 1:
            array = array[:, :, 0]
        else:
            array = cv2.cvtColor(array[:, :, :3], cv2.COLOR_BGR2RGB)
    return to_uint8(array)


# --------------------------------------------------------------------------------------------- video


def iter_video(path: str | Path) -> Iterator[np.ndarray]:
    """Decode a video file frame by frame.

    After the last decoded frame, the number of frames is compared with the number the container
    announces (see :func:`_check_video_complete`): a file that ends clearly early raises, so that a
    truncated video is not tracked silently short. The frames before the error have been yielded.

    Yields
    ------
    ndarray, shape (H, W, 3), uint8
        RGB frames in display order.

    Raises
    ------
    FrameReadError
        Missing, empty or undecodable file, a video without frames, or a video that ends clearly
        before the frame count its container announces (truncated or corrupt file).
    """
    path = Path(path)
    _check_readable_file(path, "video")
    reader, meta = _open_video(path)
    width, height = meta["size"]
    n_read = 0
    try:
        for raw in reader:
            n_read += 1
            yield np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3).copy()
    except (OSError, RuntimeError, ValueError) as exc:
        raise FrameReadError(f"cannot decode video {path} after {n_read} frames: {ffmpeg_error_line(exc)}") from None
    finally:
        reader.close()
    if n_read == 0:
        raise FrameReadError(f"video has no frames: {path}")
    _check_video_complete(path, meta, n_read)


def video_meta(path: str | Path) -> dict:
    """Container metadata of a video: ``size`` (width, height), ``fps``, ``duration`` (s)."""
    path = Path(path)
    _check_readable_file(path, "video")
    reader, meta = _open_video(path)
    reader.close()
    return meta


#: ffmpeg output options: every stored frame exactly once. ffmpeg's default for raw output resamples
#: a variable-frame-rate video (phones record those) to a constant rate by duplicating or dropping
#: frames, so result lines would not match the video's frames.
_DECODE_PARAMS = ["-fps_mode", "passthrough"]


def _open_video(path: Path):
    import imageio_ffmpeg  # video sources only
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24", output_params=_DECODE_PARAMS)
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as exc:
        reader.close()
        raise FrameReadError(f"cannot decode video {path}: {ffmpeg_error_line(exc)}") from None
    return reader, meta


#: A decoded video may fall short of the frame count its container announces by this many frames, or by
#: this fraction of that count if more, before :func:`iter_video` reports it as truncated: durations are
#: rounded to 10 ms and frame rates are averages.
VIDEO_SHORTFALL_FRAMES = 2
VIDEO_SHORTFALL_FRACTION = 0.02
#: Containers whose index stores the number of frames of the video stream itself (read through OpenCV).
_FRAME_INDEXED_CONTAINERS = (".mp4", ".m4v", ".mov", ".3gp", ".3g2", ".avi")


def _check_video_complete(path: Path, meta: dict, n_read: int) -> None:
    """Raise :class:`FrameReadError` if clearly fewer than the announced frames were decoded.

    The announced count is ``duration * fps`` from the container header and, for containers with a
    frame index (MP4/MOV/AVI), the video stream's own frame count when that is smaller (the header
    duration is that of the longest stream, which may be the audio). Without a frame index, a file
    with an audio stream is not checked, since its duration may be the audio's. A truncated MP4 whose
    index is at the front (``-movflags +faststart``) decodes a prefix and ends without any ffmpeg
    error; this is what catches it.
    """
    expected = _duration_frame_count(meta)
    if expected is None or not _clearly_short(n_read, expected):
        return  # the common case: no further probing
    indexed = _indexed_frame_count(path)
    if indexed is not None:
        expected = min(expected, indexed)
    elif "audio_codec" in meta:
        return
    if _clearly_short(n_read, expected):
        raise FrameReadError(f"video {path} ended after {n_read} of ~{expected} frames (truncated or corrupt file?)")


def _duration_frame_count(meta: dict) -> int | None:
    """``round(duration * fps)`` from the ffmpeg header, None when either is unknown."""
    duration, fps = float(meta.get("duration") or 0.0), float(meta.get("fps") or 0.0)
    if not (np.isfinite(duration) and np.isfinite(fps)) or duration <= 0 or fps <= 0:
        return None
    return round(duration * fps)


def _indexed_frame_count(path: Path) -> int | None:
    """Number of frames in the video stream's index (MP4/MOV/AVI), None when not available."""
    if path.suffix.lower() not in _FRAME_INDEXED_CONTAINERS:
        return None
    import cv2  # only when a video looks truncated
    try:
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    except cv2.error:
        return None
    try:
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT) if capture.isOpened() else -1.0
    finally:
        capture.release()
    return round(count) if np.isfinite(count) and count > 0 else None


def _clearly_short(n_read: int, expected: int) -> bool:
    tolerance = max(VIDEO_SHORTFALL_FRAMES, VIDEO_SHORTFALL_FRACTION * expected)
    return expected - n_read > tolerance


#: Words of ffmpeg log lines that explain a failure better than its closing "Conversion failed!",
#: most telling first.
_FFMPEG_TELLING_WORDS = ("moov atom not found", "partial file", "invalid data found", "corrupt", "truncat", "error")
_FFMPEG_STDERR_MARK = "=== stderr ==="
_FFMPEG_LOG_CONTEXT = re.compile(r"^(\[[^\]]*@[^\]]*\]\s*)+")  # "[h264 @ 0x55...] " prefixes
_FFMPEG_NOT_LOG = ("ffmpeg version", "Input #", "Output #", "Stream mapping", "Press [q]")


def ffmpeg_error_line(exc: BaseException) -> str:
    """One line explaining an imageio-ffmpeg error.

    The most telling line of ffmpeg's log (see ``_FFMPEG_TELLING_WORDS``; ``[codec @ 0x...]``
    prefixes removed) when the error carries ffmpeg's stderr, else the last non-empty line of the
    message. The ffmpeg command line of writer errors is left out.
    """
    text = str(exc).split("FFMPEG COMMAND:")[0]
    telling = _most_telling_log_line(text)
    if telling:
        return telling
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("===")]
    return lines[-1] if lines else type(exc).__name__


def _most_telling_log_line(text: str) -> str | None:
    if _FFMPEG_STDERR_MARK not in text:
        return None
    log = [
        line.strip()
        for line in text.split(_FFMPEG_STDERR_MARK, 1)[1].splitlines()
        if line.strip() and not line[0].isspace() and not line.startswith(_FFMPEG_NOT_LOG)
    ]
    for word in _FFMPEG_TELLING_WORDS:
        for line in log:
            if word in line.lower():
                return _FFMPEG_LOG_CONTEXT.sub("", line).strip() or line
    return None
