"""Annotated videos out: frames with the tracker's box, state and confidence drawn, written as MP4.

- :func:`draw_annotations` draws the boxes and the state label on a copy of a frame;
- :class:`AnnotatedVideoWriter` writes such frames as an H.264 MP4 (imageio-ffmpeg).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Self

import cv2
import imageio_ffmpeg
import numpy as np

from dcfre.errors import DcfreError, InputError
from dcfre.frames import ffmpeg_error_line

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
            raise DcfreError(f"cannot write video {self.path}: {ffmpeg_error_line(exc)}") from None
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
