"""Frames in, results and annotated videos out.

- :func:`read_frame` decodes one image file to ``(H, W, 3)`` uint8 RGB or ``(H, W)`` uint8 and refuses
  truncated or corrupt files instead of returning garbage;
- :func:`iter_video` decodes a video file (imageio-ffmpeg) to RGB uint8 frames;
- :func:`open_source` turns the ``SOURCE`` of ``dcfre track`` (video file, folder of frames, OTB/VOT/plain
  sequence folder) into a :class:`FrameSource`;
- :func:`parse_box` reads ``--init x,y,w,h``;
- :class:`ResultWriter`, :func:`write_results_atomic` and :func:`read_results` handle result files, one line
  ``x,y,w,h,confidence,present`` per frame;
- :class:`AnnotatedVideoWriter` writes an MP4 with the tracker's box, state and confidence drawn on each frame.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import cv2
import imageio_ffmpeg
import numpy as np
from PIL import Image, UnidentifiedImageError

from dcfre.data._files import IMAGE_EXTENSIONS
from dcfre.data.folder import detect_layout, read_sequence_folder
from dcfre.errors import (
    AnnotationError,
    DatasetError,
    DcfreError,
    FrameReadError,
    InputError,
)
from dcfre.image import to_uint8  # noqa: F401  (re-exported: part of dcfre.io's API)

# --------------------------------------------------------------------------------------------- frames

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
    _check_readable_file(path, "frame")
    try:
        with Image.open(path) as image:
            image.load()
            return _pil_to_array(image)
    except UnidentifiedImageError:
        return _read_with_opencv(path)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise FrameReadError(f"cannot decode image {path}: {exc}") from None


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
        raise FrameReadError(f"cannot decode video {path} after {n_read} frames: {_last_line(exc)}") from None
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
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24", output_params=_DECODE_PARAMS)
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as exc:
        reader.close()
        raise FrameReadError(f"cannot decode video {path}: {_last_line(exc)}") from None
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


def _last_line(exc: BaseException) -> str:
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


# --------------------------------------------------------------------------------------------- sources


class FrameSource:
    """Frames of one ``dcfre track`` source, with ground truth when the folder has it.

    Attributes
    ----------
    name : str
        Folder or video file name (without extension); used for output file names.
    frames : list of Path or None
        Frame files (folder sources).
    video : Path or None
        Video file (video sources).
    groundtruth : ndarray, shape (N, 4), float64, or None
        ``x, y, w, h`` per frame in the dataset's convention (NaN rows where absent), if any.
    groundtruth_problem : str or None
        Why the folder's ground truth was left out (one line naming the file), when
        :func:`open_source` was called with ``groundtruth_optional=True``; else None.
    """

    def __init__(
        self,
        name: str,
        frames: list[Path] | None = None,
        video: Path | None = None,
        groundtruth: np.ndarray | None = None,
        groundtruth_problem: str | None = None,
    ) -> None:
        if (frames is None) == (video is None):
            raise InputError("a FrameSource needs either frame files or a video file")
        self.name = name
        self.frames = list(frames) if frames is not None else None
        self.video = Path(video) if video is not None else None
        self.groundtruth = None if groundtruth is None else np.asarray(groundtruth, dtype=np.float64).reshape(-1, 4)
        self.groundtruth_problem = groundtruth_problem
        self._meta: dict | None = None

    @property
    def num_frames(self) -> int | None:
        """Number of frames; None for a video (only known after decoding it)."""
        return len(self.frames) if self.frames is not None else None

    def __len__(self) -> int:
        if self.frames is None:
            raise TypeError(f"the number of frames of video {self.video} is unknown before decoding it")
        return len(self.frames)

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.video is not None:
            yield from iter_video(self.video)
        else:
            for path in self.frames:
                yield read_frame(path)

    @property
    def frame_size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels, from the first image's header or the video's metadata."""
        if self.video is not None:
            width, height = self._video_meta()["size"]
            return int(width), int(height)
        try:
            with Image.open(self.frames[0]) as image:
                return image.size
        except (OSError, UnidentifiedImageError):
            height, width = read_frame(self.frames[0]).shape[:2]
            return width, height

    @property
    def fps(self) -> float | None:
        """Frame rate of a video source (None for folders of frames)."""
        return float(self._video_meta()["fps"]) if self.video is not None else None

    def _video_meta(self) -> dict:
        if self._meta is None:
            self._meta = video_meta(self.video)
        return self._meta

    def __repr__(self) -> str:
        where = self.video if self.video is not None else f"{len(self.frames)} frames"
        return f"FrameSource({self.name!r}, {where}, groundtruth={'yes' if self.groundtruth is not None else 'no'})"


def open_source(path: str | Path, *, groundtruth_optional: bool = False) -> FrameSource:
    """Open the ``SOURCE`` argument of ``dcfre track``.

    Parameters
    ----------
    path : str or Path
        A video file; a folder of frames (natural order); or one sequence folder in OTB
        (``img/`` + ``groundtruth_rect*.txt``, first target), VOT (``color/`` or root images +
        ``groundtruth.txt``) or plain (``img/`` + ``groundtruth.txt``) layout.
    groundtruth_optional : bool
        If True, a malformed or mismatched ground-truth (or attribute) file does not raise: the
        source gets all the folder's images, no ground truth, and the error message in
        ``groundtruth_problem``. For callers that do not need the ground truth (``track --init``).

    Raises
    ------
    InputError
        Missing path or a single image given as source.
    DatasetError
        Empty folder, no images, or (unless ``groundtruth_optional``) ground truth that does not
        match the frames.
    AnnotationError
        Malformed ground-truth file (unless ``groundtruth_optional``).
    FrameReadError
        Undecodable video file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"source not found: {path}")
    if path.is_dir():
        layout = detect_layout(path)
        if layout.groundtruth is None:
            return FrameSource(path.name, frames=layout.frames)
        try:
            sequence = read_sequence_folder(path)[0]
        except (AnnotationError, DatasetError) as exc:
            if not groundtruth_optional:
                raise
            return FrameSource(path.name, frames=layout.frames, groundtruth_problem=str(exc))
        return FrameSource(path.name, frames=sequence.frames, groundtruth=sequence.groundtruth)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        raise InputError(f"source is a single image: {path} (give a video file or a folder of frames)")
    source = FrameSource(path.stem, video=path)
    source._video_meta()  # fail now, with a clear message, if the file is not a decodable video
    return source


#: Values of ``dcfre track --on-bad-frame``: end the run with an error, or skip the frame with a warning.
BAD_FRAME_POLICIES = ("error", "skip")


def iter_frames_skipping_bad(source: FrameSource, warn) -> Iterator[np.ndarray | None]:
    """Frames of ``source`` where an undecodable frame is skipped instead of ending the iteration.

    For long real recordings, where one truncated or corrupt frame should not cost the rest of the run.

    - Folder of frames: a file that cannot be decoded (see :func:`read_frame`) yields None, and
      ``warn(message)`` is called with the error naming the file; the following frames are read as usual.
    - Video: a decoding error (including a video that ends clearly before its announced frame count)
      ends the iteration after ``warn(message)``, since the decoder cannot resume after it; the frames
      decoded before it have been yielded. (ffmpeg itself conceals most corrupt packets inside a video
      and keeps decoding, so those frames arrive damaged rather than missing.)

    Parameters
    ----------
    source : FrameSource
    warn : callable (str) -> None

    Yields
    ------
    ndarray, shape (H, W, 3) or (H, W), uint8, or None
        None in place of a frame file that could not be decoded.
    """
    if source.video is not None:
        try:
            yield from iter_video(source.video)
        except FrameReadError as exc:
            warn(f"{exc}; stopping at this point of the video")
        return
    for path in source.frames:
        try:
            frame = read_frame(path)
        except FrameReadError as exc:
            warn(f"{exc}; frame skipped")
            frame = None
        yield frame


# --------------------------------------------------------------------------------------------- boxes

_BOX_SEPARATORS = re.compile(r"[,;\s]+")


def parse_box(text: str) -> np.ndarray:
    """Parse ``"x,y,w,h"`` (commas and/or spaces, optional brackets) into a box.

    Returns
    -------
    ndarray, shape (4,), float64

    Raises
    ------
    InputError
        Not exactly 4 finite numbers, or a non-positive width or height.
    """
    tokens = [t for t in _BOX_SEPARATORS.split(str(text).strip().strip("[]()")) if t]
    if len(tokens) != 4:
        raise InputError(f"box must be 4 numbers 'x,y,w,h', got {text!r}")
    try:
        box = np.array([float(t) for t in tokens], dtype=np.float64)
    except ValueError:
        raise InputError(f"box must be 4 numbers 'x,y,w,h', got {text!r}") from None
    if not np.isfinite(box).all():
        raise InputError(f"box values must be finite, got {text!r}")
    if box[2] <= 0 or box[3] <= 0:
        raise InputError(f"box width and height must be positive, got {text!r}")
    return box


# --------------------------------------------------------------------------------------------- results


def format_result_line(box, confidence: float, present: bool) -> str:
    """One result line ``x,y,w,h,confidence,present`` (box to 1e-4 px, confidence to 9 digits)."""
    x, y, w, h = np.asarray(box, dtype=np.float64).reshape(4)
    conf = float("nan") if confidence is None else float(confidence)
    return f"{x:.4f},{y:.4f},{w:.4f},{h:.4f},{conf:.9g},{1 if present else 0}\n"


class ResultWriter:
    """Write a result file one frame at a time; each line is flushed as soon as it is written.

    A crash loses at most the frame being written. Use as a context manager::

        with ResultWriter(path) as out:
            for box, conf, present in ...:
                out.write(box, conf, present)

    Parameters
    ----------
    path : str or Path
        Output file, created (with its parent folders) or truncated.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 (kept open)
        except OSError as exc:
            raise InputError(f"cannot write results to {self.path}: {exc.strerror or exc}") from None
        self.lines_written = 0

    def write(self, box, confidence: float, present: bool) -> None:
        """Append one frame: box (4,), confidence (float, NaN if none) and whether the target is reported present."""
        self._file.write(format_result_line(box, confidence, present))
        self._file.flush()
        self.lines_written += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def write_results_atomic(path: str | Path, boxes, confidence, present) -> None:
    """Write a whole result file atomically (temporary file in the same folder, then ``os.replace``).

    Parameters
    ----------
    boxes : array_like, shape (N, 4)
    confidence : array_like, shape (N,)
    present : array_like, shape (N,), bool
    """
    path = Path(path)
    boxes = np.asarray(boxes, dtype=np.float64)
    confidence = np.asarray(confidence, dtype=np.float64).reshape(-1)
    present = np.asarray(present).reshape(-1).astype(bool)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise InputError(f"boxes must have shape (N, 4), got {boxes.shape}")
    if not len(confidence) == len(present) == len(boxes):
        raise InputError(
            f"boxes, confidence and present differ in length: {len(boxes)}, {len(confidence)}, {len(present)}"
        )
    text = "".join(format_result_line(b, c, p) for b, c, p in zip(boxes, confidence, present))
    atomic_write_text(path, text)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> None:
    """Replace ``path`` by ``text`` atomically: readers see the old file or the complete new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as tmp:
            tmp.write(text)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o666 & ~_current_umask())  # mkstemp creates 0600; results are shared files
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def read_results(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a result file.

    Lines have 6 columns ``x,y,w,h,confidence,present``; files of other tools with 4 columns
    (``x,y,w,h``: confidence 1 and present where the box is finite) or 5 (no ``present``: present
    where the box is finite) are accepted too. Commas, tabs or spaces separate values.

    Returns
    -------
    boxes : ndarray, shape (N, 4), float64
    confidence : ndarray, shape (N,), float64
    present : ndarray, shape (N,), bool

    Raises
    ------
    InputError
        Missing file or malformed line (named by number).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"results file not found: {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    boxes = np.zeros((len(lines), 4))
    confidence = np.zeros(len(lines))
    present = np.zeros(len(lines), dtype=bool)
    for index, line in enumerate(lines):
        boxes[index], confidence[index], present[index] = _parse_result_line(line, path, index + 1)
    return boxes, confidence, present


def _parse_result_line(line: str, path: Path, number: int) -> tuple[list[float], float, bool]:
    tokens = [t for t in _BOX_SEPARATORS.split(line.strip()) if t]
    if len(tokens) not in (4, 5, 6):
        raise InputError(f"{path}:{number}: expected x,y,w,h[,confidence[,present]], got {len(tokens)} values")
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        raise InputError(f"{path}:{number}: not a list of numbers: {line[:60]!r}") from None
    box = values[:4]
    finite = bool(np.isfinite(box).all())
    confidence = values[4] if len(values) > 4 else float(finite)
    present = values[5] != 0 if len(values) > 5 else finite
    return box, confidence, present


# --------------------------------------------------------------------------------------------- video output

#: Box colours (RGB) by tracker state, and the ground-truth colour.
STATE_COLOURS = {"tracking": (0, 220, 0), "lost": (230, 30, 30), "redetected": (255, 220, 0)}
GROUNDTRUTH_COLOUR = (40, 160, 255)
#: colours of the long-term overlays (``dcfre track --trace`` with ``--save-video``)
OVERLAY_COLOURS = {"distractor": (255, 60, 200), "candidate": (255, 140, 0), "accepted": (255, 255, 255)}
_BOX_THICKNESS = 2
_DASH_LENGTH = 8
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_FONT_SCALE = 0.5
_LABEL_MARGIN = 4


def _check_writable_file(path: Path, what: str) -> None:
    """Fail early, with one line, when ``path`` cannot become a file."""
    if path.is_dir():
        raise InputError(f"cannot write {what} to {path}: it is a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write {what} to {path}: {exc.strerror or exc}") from None
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"cannot write {what} to {path}: the folder is not writable")


class AnnotatedVideoWriter:
    """Write an H.264 MP4 (yuv420p) with the tracker's output drawn on every frame.

    The tracker box is solid green while tracking, yellow right after a re-detection and dashed red
    when the target is lost; the ground truth, if given, is drawn thin in blue. A label in the top-left
    corner shows the frame number, the state and the confidence. Odd frame sizes are padded by one
    pixel (edge replicated) to the even size yuv420p needs.

    Parameters
    ----------
    path : str or Path
        Output ``.mp4`` file (parent folders are created).
    fps : float
        Frame rate written into the file.
    quality : float
        imageio-ffmpeg quality 0 (worst) .. 10 (best), mapped to the x264 CRF.
    """

    def __init__(self, path: str | Path, fps: float = 30.0, quality: float = 7.0) -> None:
        if fps <= 0:
            raise InputError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        _check_writable_file(self.path, "video")
        self.fps = float(fps)
        self.quality = float(quality)
        self.frames_written = 0
        self._writer = None
        self._size: tuple[int, int] | None = None

    def write(self, frame: np.ndarray, box, state: str, confidence: float | None = None, gt_box=None,
              overlays=None) -> None:
        """Draw and append one frame.

        Parameters
        ----------
        frame : ndarray, shape (H, W, 3) or (H, W), uint8
        box : array_like, shape (4,), or None
            Tracker box ``x, y, w, h`` (0-based pixels); None or NaN draws no box.
        state : {'tracking', 'lost', 'redetected'}
        confidence : float or None
        gt_box : array_like, shape (4,), or None
        overlays : list of (box, kind), optional
            Extra thin boxes, ``kind`` a key of :data:`OVERLAY_COLOURS` (mined distractors,
            re-detection candidates).
        """
        if state not in STATE_COLOURS:
            raise InputError(f"state must be one of {', '.join(STATE_COLOURS)}, got {state!r}")
        canvas = draw_annotations(frame, box, state, confidence, gt_box, self.frames_written + 1, overlays)
        canvas = _pad_to_even(canvas)
        self._ensure_open(canvas.shape[1], canvas.shape[0])
        try:
            self._writer.send(np.ascontiguousarray(canvas))
        except (OSError, RuntimeError, StopIteration) as exc:
            raise DcfreError(f"cannot write video {self.path}: {_last_line(exc)}") from None
        self.frames_written += 1

    def _ensure_open(self, width: int, height: int) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = imageio_ffmpeg.write_frames(
                str(self.path),
                (width, height),
                fps=self.fps,
                codec="libx264",
                pix_fmt_out="yuv420p",
                quality=self.quality,
                macro_block_size=1,
                ffmpeg_log_level="error",
            )
            self._writer.send(None)
            self._size = (width, height)
        elif self._size != (width, height):
            raise InputError(f"frame size changed from {self._size} to {(width, height)} in {self.path}")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def draw_annotations(
    frame: np.ndarray, box, state: str, confidence: float | None = None, gt_box=None, frame_number: int | None = None,
    overlays=None,
) -> np.ndarray:
    """Return an RGB copy of ``frame`` with the boxes and the state label drawn (see :class:`AnnotatedVideoWriter`)."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
        raise InputError(f"frame must be (H, W) or (H, W, 3) uint8, got {frame.shape} {frame.dtype}")
    canvas = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB) if frame.ndim == 2 else frame[:, :, :3].copy()
    if gt_box is not None:
        _draw_box(canvas, gt_box, GROUNDTRUTH_COLOUR, 1, dashed=False)
    for overlay_box, kind in overlays or ():
        if kind not in OVERLAY_COLOURS:
            raise InputError(f"overlay kind must be one of {', '.join(OVERLAY_COLOURS)}, got {kind!r}")
        _draw_box(canvas, overlay_box, OVERLAY_COLOURS[kind], 1, dashed=kind == "candidate")
    if box is not None:
        _draw_box(canvas, box, STATE_COLOURS[state], _BOX_THICKNESS, dashed=state == "lost")
    label = state if confidence is None or not np.isfinite(confidence) else f"{state} {confidence:.2f}"
    if frame_number is not None:
        label = f"#{frame_number} {label}"
    _draw_label(canvas, label, STATE_COLOURS[state])
    return canvas


def _draw_box(canvas: np.ndarray, box, colour, thickness: int, dashed: bool) -> None:
    box = np.asarray(box, dtype=np.float64).reshape(4)
    if not np.isfinite(box).all():
        return
    x0, y0 = round(box[0]), round(box[1])
    x1, y1 = round(box[0] + box[2]), round(box[1] + box[3])
    if not dashed:
        cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, thickness)
        return
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    for start, end in itertools.pairwise(corners):
        length = max(abs(end[0] - start[0]), abs(end[1] - start[1]))
        for offset in range(0, length, 2 * _DASH_LENGTH):
            a = offset / max(length, 1)
            b = min(offset + _DASH_LENGTH, length) / max(length, 1)
            p = (int(start[0] + a * (end[0] - start[0])), int(start[1] + a * (end[1] - start[1])))
            q = (int(start[0] + b * (end[0] - start[0])), int(start[1] + b * (end[1] - start[1])))
            cv2.line(canvas, p, q, colour, thickness)


def _draw_label(canvas: np.ndarray, text: str, colour) -> None:
    (width, height), baseline = cv2.getTextSize(text, _FONT, _FONT_SCALE, 1)
    bottom = height + baseline + 2 * _LABEL_MARGIN
    cv2.rectangle(canvas, (0, 0), (width + 2 * _LABEL_MARGIN, bottom), (0, 0, 0), cv2.FILLED)
    cv2.putText(canvas, text, (_LABEL_MARGIN, _LABEL_MARGIN + height), _FONT, _FONT_SCALE, colour, 1, cv2.LINE_AA)


def _pad_to_even(canvas: np.ndarray) -> np.ndarray:
    pad_bottom, pad_right = canvas.shape[0] % 2, canvas.shape[1] % 2
    if pad_bottom or pad_right:
        canvas = cv2.copyMakeBorder(canvas, 0, pad_bottom, 0, pad_right, cv2.BORDER_REPLICATE)
    return canvas
