"""The tracker: wires features, appearance models, scale estimation and the long-term state machine.

>>> tracker = Tracker.from_preset("eco-hc")
>>> state = tracker.initialize(first_frame, (x, y, w, h))
>>> for frame in frames:
...     state = tracker.track(frame)  # state.box, state.confidence, state.present

Boxes are ``(x, y, w, h)``: top-left corner and size, in the caller's pixel convention (the
tracker returns boxes in the convention it was initialized with).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from dcfre.config import TrackerConfig, apply_overrides, preset
from dcfre.eco.appearance import AppearanceModel, Detection
from dcfre.eco.geometry import compute_geometry
from dcfre.eco.scale import ScaleFilter
from dcfre.errors import InputError
from dcfre.features.extractor import FeatureExtractor


@dataclass
class TrackState:
    """Tracker output for one frame.

    Attributes
    ----------
    box : ndarray (4,)
        ``x, y, w, h`` of the target (the last known box while the target is lost).
    confidence : float
        Normalized tracking confidence ``r_p / rbar_p`` (about 1 when tracking well, 1 on the
        first frame, low when the target is lost or absent).
    present : bool
        Whether the tracker believes the target is visible in this frame.
    mode : str
        ``"tracking"``, ``"lost"`` or ``"redetected"``.
    score_map : ndarray (H, W) or None
        Score of the local model over the search sample, centred (``fftshift``-ed: the middle
        element is the sample centre), for visualization.
    frame_number : int
        1-based index of the frame.
    """

    box: np.ndarray
    confidence: float
    present: bool = True
    mode: str = "tracking"
    score_map: np.ndarray | None = None
    frame_number: int = 1
    info: dict = field(default_factory=dict)


class Tracker:
    """Long-term DCF tracker (ECO / UPDT local model + re-detection, depending on the preset)."""

    def __init__(self, config: TrackerConfig):
        self.config = config
        self.frame_number = 0
        self._models: list[AppearanceModel] = []
        self._scale_filter: ScaleFilter | None = None

    @classmethod
    def from_preset(cls, name: str = "eco-hc", **overrides) -> "Tracker":
        """Build a tracker from a named preset (see :func:`dcfre.config.preset_names`).

        Overrides are dotted config paths or short names, e.g. ``redetect="local"``,
        ``**{"local.n_samples": 20}``.
        """
        return cls(apply_overrides(preset(name), **overrides))

    # ------------------------------------------------------------------------------ public API
    def initialize(self, frame: np.ndarray, box) -> TrackState:
        """Start tracking the target in ``box`` (x, y, w, h) of ``frame``."""
        frame = prepare_frame(frame)
        box = validate_box(box, frame.shape)
        cfg = self.config
        self.frame_size = frame.shape[:2]
        self.color = frame.ndim == 3
        target_size = np.array([box[3], box[2]], dtype=np.float64)
        self.position = np.array([box[1] + (box[3] - 1) / 2, box[0] + (box[2] - 1) / 2])

        extractor = FeatureExtractor(cfg.local.features, self.color)
        geometry = compute_geometry(
            target_size, extractor.cell_sizes, cfg.local.search_area_scale,
            cfg.local.min_image_sample_size, cfg.local.max_image_sample_size,
        )
        self.geometry = geometry
        self.base_target_size = geometry.base_target_size
        self.scale = geometry.initial_scale
        self._init_scale_limits(geometry)
        self._models = [AppearanceModel(cfg.local, geometry, extractor)]
        for model in self._models:
            model.initialize(frame, self.position, self.scale)

        if cfg.scale is not None:
            self._scale_filter = ScaleFilter(cfg.scale, self.base_target_size)
            self._scale_filter.update(frame, self.position, self.scale)
        step = cfg.search_scale_step
        n = cfg.n_search_scales
        self._search_factors = step ** (np.arange(n) - (n - 1) / 2)
        self.frame_number = 1
        return TrackState(self.box, 1.0, True, "tracking", None, 1)

    def track(self, frame: np.ndarray) -> TrackState:
        """Locate the target in the next frame and update the model."""
        if self.frame_number == 0:
            raise InputError("track() called before initialize()")
        frame = prepare_frame(frame, expected_shape=self.frame_size, color=self.color)
        self.frame_number += 1
        model = self._models[0]
        detection = model.detect(frame, self.position, self.scale * self._search_factors)
        self._move_to(detection, model, frame)
        model.learn(detection, self.position, self.frame_number)
        if self._scale_filter is not None:
            self._scale_filter.update(frame, self.position, self.scale)
        return TrackState(self.box, 1.0, True, "tracking", _centred_map(detection), self.frame_number)

    @property
    def box(self) -> np.ndarray:
        """Current box ``x, y, w, h``."""
        h, w = self.base_target_size * self.scale
        return np.array([self.position[1] - (w - 1) / 2, self.position[0] - (h - 1) / 2, w, h])

    # ------------------------------------------------------------------------------ internals
    def _init_scale_limits(self, geometry) -> None:
        step = self.config.scale.scale_step if self.config.scale is not None else self.config.search_scale_step
        # the sample may shrink to 5 pixels per side at the least, and the target may grow to the frame
        min_rel = np.max(5.0 / geometry.sample_size)
        max_rel = np.min(np.asarray(self.frame_size) / geometry.base_target_size)
        self.min_scale = step ** math.ceil(math.log(min_rel) / math.log(step))
        self.max_scale = step ** math.floor(math.log(max(max_rel, 1.0)) / math.log(step))

    def _move_to(self, detection: Detection, model: AppearanceModel, frame: np.ndarray) -> None:
        """New position (and scale) from a detection, then the scale filter's estimate."""
        displacement = model.displacement_pixels(detection)
        position = detection.sample_centre + displacement
        self.position = np.clip(position, 0, np.asarray(self.frame_size) - 1)
        self.scale *= self._search_factors[detection.peak.scale_index]
        if self._scale_filter is not None:
            self.scale *= self._scale_filter.estimate(frame, self.position, self.scale)
        self.scale = float(np.clip(self.scale, self.min_scale, self.max_scale))


# ------------------------------------------------------------------------------------------------
# Input validation at the public boundary
# ------------------------------------------------------------------------------------------------


def prepare_frame(frame, expected_shape=None, color=None) -> np.ndarray:
    """Validate a frame and bring it to (H, W, 3) or (H, W) with values in [0, 255].

    Accepts uint8, uint16 (scaled down), float images (in [0, 1] if their maximum is at most 1,
    else [0, 255]), RGBA (alpha dropped) and single-channel (H, W, 1) arrays.
    """
    arr = np.asarray(frame)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise InputError(f"frame must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise InputError(f"frame is too small: {arr.shape[1]}x{arr.shape[0]} pixels")
    if arr.dtype == np.uint8:
        pass
    elif arr.dtype == np.uint16:
        arr = (arr >> 8).astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        arr = arr.astype(np.float32)
        if not np.isfinite(arr).all():
            raise InputError("frame contains NaN or Inf values")
        if arr.size and arr.max() <= 1.0:
            arr = arr * 255.0
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    else:
        raise InputError(f"unsupported frame dtype {arr.dtype}")
    if color is not None and (arr.ndim == 3) != color:
        # a sequence that switches between gray and colour: convert to what the model expects
        arr = np.repeat(arr[:, :, None], 3, axis=2) if color else arr.mean(axis=2).astype(np.uint8)
    if expected_shape is not None and arr.shape[:2] != tuple(expected_shape):
        raise InputError(
            f"frame size changed from {expected_shape[1]}x{expected_shape[0]} to {arr.shape[1]}x{arr.shape[0]}"
        )
    return np.ascontiguousarray(arr)


def validate_box(box, frame_shape) -> np.ndarray:
    """Check an ``x, y, w, h`` box against the frame; returns it as float64 (4,)."""
    try:
        b = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"box must be 4 numbers x,y,w,h, got {box!r}") from None
    if b.size != 4:
        raise InputError(f"box must be 4 numbers x,y,w,h, got {b.size} values")
    if not np.isfinite(b).all():
        raise InputError(f"box has non-finite values: {b.tolist()}")
    x, y, w, h = b
    if w <= 0 or h <= 0:
        raise InputError(f"box has zero or negative size: w={w:g}, h={h:g}")
    height, width = frame_shape[:2]
    if x + w <= 0 or y + h <= 0 or x >= width or y >= height:
        raise InputError(f"box {b.tolist()} lies entirely outside the {width}x{height} frame")
    return b


def _centred_map(detection: Detection) -> np.ndarray:
    return np.fft.fftshift(detection.maps[detection.peak.scale_index])
