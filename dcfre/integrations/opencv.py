"""dcfre with the interface of OpenCV's trackers: ``init(frame, box)``, ``update(frame) -> (ok, box)``.

Drop-in for a ``cv2.TrackerCSRT`` loop over ``cv2.VideoCapture`` frames::

    tracker = OpenCVStyleTracker("eco-hc")
    ok, frame = capture.read()
    tracker.init(frame, (x, y, w, h))
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        found, (x, y, w, h) = tracker.update(frame)

Differences from OpenCV, on purpose: boxes are floats (sub-pixel; round them to draw), ``ok`` is dcfre's
*present* flag (False while the target is reported lost or absent, with the last box), and the full state of
the last frame (confidence, mode) is kept in :attr:`OpenCVStyleTracker.state`.
"""

from __future__ import annotations

import numpy as np

from dcfre.errors import InputError


def bgr_to_rgb(frame) -> np.ndarray:
    """OpenCV's channel order (BGR, or BGRA) to dcfre's (RGB); gray frames are returned unchanged.

    Parameters
    ----------
    frame : array_like, shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)

    Returns
    -------
    ndarray, shape (H, W) or (H, W, 3)
        A view when possible (no copy for BGR input).
    """
    array = np.asarray(frame)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        return array[:, :, 2::-1]
    if array.ndim == 3 and array.shape[2] == 1:
        return array[:, :, 0]
    if array.ndim == 2:
        return array
    raise InputError(f"frame must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {array.shape}")


class OpenCVStyleTracker:
    """dcfre behind OpenCV's ``init`` / ``update`` tracker interface, on BGR frames.

    Parameters
    ----------
    preset : str
        dcfre preset (see :func:`dcfre.config.preset_names`).
    **overrides
        Config overrides, as for :meth:`dcfre.tracker.Tracker.from_preset` (e.g. ``redetect="global"``).

    Attributes
    ----------
    state : dcfre.tracker.TrackState or None
        Output of the last ``init`` / ``update`` call (box, confidence, present, mode).
    """

    def __init__(self, preset: str = "eco-hc", **overrides) -> None:
        from dcfre.tracker import Tracker

        self._tracker = Tracker.from_preset(preset, **overrides)
        self.state = None

    def init(self, frame_bgr, box) -> None:
        """Start tracking the target in ``box`` = ``(x, y, w, h)`` (pixels) of a BGR frame."""
        self.state = self._tracker.initialize(bgr_to_rgb(frame_bgr), box)

    def update(self, frame_bgr) -> tuple[bool, tuple[float, float, float, float]]:
        """Track in the next BGR frame.

        Returns
        -------
        ok : bool
            True when the target is reported present.
        box : tuple of 4 float
            ``(x, y, w, h)``; the last known box when ``ok`` is False.
        """
        if self.state is None:
            raise InputError("update() called before init()")
        self.state = self._tracker.track(bgr_to_rgb(frame_bgr))
        return bool(self.state.present), tuple(float(v) for v in self.state.box)
