"""OpenCV CSRT and KCF trackers behind dcfre's tracker interface, for side-by-side evaluation.

Uses the OpenCV 5 contrib API: ``cv2.TrackerCSRT.create()`` / ``cv2.TrackerKCF.create()``,
``init(image, (x, y, w, h))`` with integer rectangles and ``update(image) -> (ok, rect)``.
Frames are RGB (or gray) as everywhere in dcfre and are converted to BGR here. Boxes are
rounded to integer pixels on initialization (OpenCV's ``Rect`` is integral), and returned as
float64 in the caller's pixel convention (no offset is applied, so 1-based ground truth gives
1-based output, up to a one-pixel difference at the image border).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dcfre.errors import InputError

#: baseline kind -> name of the OpenCV tracker class (created with ``.create()``)
OPENCV_TRACKERS = {"csrt": "TrackerCSRT", "kcf": "TrackerKCF"}


@dataclass
class BaselineState:
    """Per-frame output, same fields as dcfre's tracker state.

    Attributes
    ----------
    box : ndarray, shape (4,), float64
        ``x, y, w, h``; the last successful box when OpenCV reports a failure.
    confidence : float
        1.0 when OpenCV's ``update`` succeeded, 0.0 otherwise.
    present : bool
        OpenCV's success flag.
    """

    box: np.ndarray
    confidence: float
    present: bool


def _to_bgr(frame) -> np.ndarray:
    import cv2

    image = np.asarray(frame)
    if image.dtype != np.uint8:
        raise InputError(f"frame must be uint8, got {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    raise InputError(f"frame must have shape (H, W, 3) or (H, W), got {image.shape}")


def _integer_rect(box) -> tuple[int, int, int, int]:
    b = np.asarray(box, dtype=np.float64).reshape(-1)
    if b.shape != (4,) or not np.isfinite(b).all() or b[2] <= 0 or b[3] <= 0:
        raise InputError(f"init box must be 4 finite values x, y, w, h with w, h > 0, got {box!r}")
    x, y = int(round(b[0])), int(round(b[1]))
    w, h = max(1, int(round(b[2]))), max(1, int(round(b[3])))
    return x, y, w, h


class OpenCVTracker:
    """An OpenCV contrib tracker (CSRT or KCF) with ``initialize`` / ``track`` like dcfre's Tracker.

    Parameters
    ----------
    kind : {'csrt', 'kcf'}
        Which OpenCV tracker.
    threads : int or None
        If given, ``cv2.setNumThreads(threads)`` is called on construction (process-wide);
        ``1`` runs OpenCV single-threaded.
    params : dict, optional
        Overrides of OpenCV's parameter object (``cv2.TrackerKCF_Params`` /
        ``cv2.TrackerCSRT_Params``), e.g. ``{"detect_thresh": 0.0}``. The defaults are OpenCV's:
        note that KCF then reports a failure, and freezes its box, whenever its peak response is
        below ``detect_thresh = 0.5``.
    """

    def __init__(self, kind: str = "csrt", threads: int | None = None, params: dict | None = None) -> None:
        if kind not in OPENCV_TRACKERS:
            raise InputError(f"unknown OpenCV tracker {kind!r}; valid: {', '.join(OPENCV_TRACKERS)}")
        import cv2

        if threads is not None:
            cv2.setNumThreads(int(threads))
        self.kind = kind
        self._cls = getattr(cv2, OPENCV_TRACKERS[kind])
        self._params = self._make_params(cv2, kind, params or {})
        self._tracker = None
        self._box = None

    @staticmethod
    def _make_params(cv2, kind: str, overrides: dict):
        params = getattr(cv2, f"{OPENCV_TRACKERS[kind]}_Params")()
        for key, value in overrides.items():
            if key.startswith("_") or not hasattr(params, key):
                raise InputError(f"unknown OpenCV {kind} parameter {key!r}")
            setattr(params, key, value)
        return params

    @property
    def name(self) -> str:
        return f"opencv-{self.kind}"

    def initialize(self, frame, box) -> BaselineState:
        """Start tracking ``box`` (``x, y, w, h``) in ``frame``; returns the initial state."""
        import cv2

        rect = _integer_rect(box)
        self._tracker = self._cls.create(self._params)
        try:
            self._tracker.init(_to_bgr(frame), rect)
        except cv2.error as exc:
            raise InputError(f"OpenCV {self.kind} could not initialize on box {rect}: {exc.err}") from None
        self._box = np.asarray(rect, dtype=np.float64)
        return BaselineState(box=self._box.copy(), confidence=1.0, present=True)

    def track(self, frame) -> BaselineState:
        """Track into the next frame; confidence 1/0 and present from OpenCV's success flag."""
        if self._tracker is None:
            raise InputError("track() called before initialize()")
        ok, rect = self._tracker.update(_to_bgr(frame))
        if ok:
            self._box = np.asarray(rect, dtype=np.float64)
        return BaselineState(box=self._box.copy(), confidence=1.0 if ok else 0.0, present=bool(ok))
