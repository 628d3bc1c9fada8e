"""Tracking sources in, result files out.

- :func:`open_source` turns the ``SOURCE`` of ``dcfre track`` (video file, folder of frames, OTB/VOT/plain
  sequence folder) into a :class:`FrameSource`;
- :func:`parse_box` reads ``--init x,y,w,h``;
- :class:`ResultWriter`, :func:`write_results_atomic` and :func:`read_results` handle result files, one line
  ``x,y,w,h,confidence,present`` per frame.

Frame decoding lives in :mod:`dcfre.frames` and annotated video output in :mod:`dcfre.annotate`; their
public names (:func:`read_frame`, :func:`iter_video`, :func:`video_meta`, :func:`to_uint8`,
:class:`AnnotatedVideoWriter`, :func:`draw_annotations`, :data:`STATE_COLOURS`, :data:`GROUNDTRUTH_COLOUR`)
stay importable from here. The video writer (OpenCV, imageio-ffmpeg) is imported on first use only.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import numpy as np

from dcfre.data._files import IMAGE_EXTENSIONS
from dcfre.data.folder import detect_layout, read_sequence_folder
from dcfre.errors import AnnotationError, DatasetError, FrameReadError, InputError
from dcfre.frames import image_size, iter_video, read_frame, video_meta  # noqa: F401  (read_frame etc. re-exported)
from dcfre.image import to_uint8  # noqa: F401  (re-exported: part of dcfre.io's API)

#: Names of :mod:`dcfre.annotate` re-exported here, imported on first use (OpenCV is not needed to track).
_ANNOTATE_NAMES = ("AnnotatedVideoWriter", "draw_annotations", "STATE_COLOURS", "GROUNDTRUTH_COLOUR")


def __getattr__(name):
    if name in _ANNOTATE_NAMES:
        from dcfre import annotate

        return getattr(annotate, name)
    raise AttributeError(f"module 'dcfre.io' has no attribute {name!r}")


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
        return image_size(self.frames[0])

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
