"""The tracker: wires features, appearance models, scale estimation and the long-term state machine.

>>> tracker = Tracker.from_preset("eco-hc")
>>> state = tracker.initialize(first_frame, (x, y, w, h))
>>> for frame in frames:
...     state = tracker.track(frame)  # state.box, state.confidence, state.present

Boxes are ``(x, y, w, h)``: top-left corner and size, in the caller's pixel convention (the
tracker returns boxes in the convention it was initialized with).
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass

import numpy as np

from dcfre.config import TrackerConfig, apply_overrides, preset
from dcfre.eco.appearance import AppearanceModel, Detection
from dcfre.eco.augment import augment_first_sample
from dcfre.eco.geometry import compute_geometry, geometry_for_side
from dcfre.eco.peak import newton_refine, wrap_displacement
from dcfre.eco.scale import ScaleFilter
from dcfre.errors import InputError
from dcfre.features.extractor import FeatureExtractor
from dcfre.fourier import HalfSpectrumSampler, pad_spectrum, save_wisdom
from dcfre.fusion import fuse_scores
from dcfre.image import is_color_frame, to_uint8
from dcfre.longterm.machine import LongTermMachine
from dcfre.state import TRACKING, TrackState  # noqa: F401  (TrackState is part of this module's API)

logger = logging.getLogger("dcfre")


@dataclass
class _Localization:
    """Where the local model(s) put the target in one frame."""

    position: np.ndarray  #: new centre (y, x), image pixels
    scale_index: int  #: which searched scale won
    detections: list  #: one Detection per appearance model
    confidence_score: float  #: r_p of the confidence model
    score_map: np.ndarray  #: centred (fused) score map, for display


class Tracker:
    """Long-term DCF tracker: ECO or UPDT local model, confidence, mining, global model, re-detection.

    Build it with :meth:`from_preset`; see :mod:`dcfre.config` for every parameter.
    """

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
        with _blas_threads(self.config.blas_threads):
            return self._initialize(frame, box)

    def track(self, frame: np.ndarray) -> TrackState:
        """Locate the target in the next frame (or look for it while lost) and update the models."""
        with _blas_threads(self.config.blas_threads):
            return self._track(frame)

    def _initialize(self, frame: np.ndarray, box) -> TrackState:
        frame = prepare_frame(frame)
        box = validate_box(box, frame.shape)
        cfg = self.config
        self.frame_size = frame.shape[:2]
        self.color = is_color_frame(frame)  # RGB frames with equal channels are gray (as ECO decides)
        if not self.color and frame.ndim == 3:
            frame = prepare_frame(frame, color=False)
        target_size = np.array([box[3], box[2]], dtype=np.float64)
        self.position = np.array([box[1] + (box[3] - 1) / 2, box[0] + (box[2] - 1) / 2])

        self._build_models(target_size)
        for model in self._models:
            augment = None
            if model.config.augment is not None:
                aug_cfg = model.config.augment
                augment = lambda app, im, c, s, blocks: augment_first_sample(app, im, c, s, blocks, aug_cfg)  # noqa: E731
            model.initialize(frame, self.position, self.scale, augment=augment)

        self._scale_filter = None
        if cfg.scale is not None:
            self._scale_filter = ScaleFilter(cfg.scale, self.base_target_size)
            self._scale_filter.update(frame, self.position, self.scale)
        n = cfg.n_search_scales
        self._search_factors = cfg.search_scale_step ** (np.arange(n) - (n - 1) / 2)

        self.frame_number = 1
        self.longterm = LongTermMachine(self, cfg.longterm)
        info = self.longterm.start(frame)
        save_wisdom()
        return TrackState(self.box, 1.0, True, TRACKING, None, 1, info)

    def _track(self, frame: np.ndarray) -> TrackState:
        if self.frame_number == 0:
            raise InputError("track() called before initialize()")
        frame = prepare_frame(frame, expected_shape=self.frame_size, color=self.color)
        self.frame_number += 1
        if self.longterm.lost:
            return self.longterm.search(frame)
        loc = self.localize(frame)
        if not np.isfinite(loc.confidence_score) or not np.all(np.isfinite(loc.position)):
            logger.warning("frame %d: non-finite score; keeping the previous position", self.frame_number)
            loc.position, loc.confidence_score = self.position.copy(), 0.0
        self.position = np.clip(loc.position, 0, np.asarray(self.frame_size) - 1)
        previous_scale = self.scale
        self.scale *= self._search_factors[loc.scale_index]
        if self._scale_filter is not None:
            self.scale *= self._scale_filter.estimate(frame, self.position, self.scale)
        self.scale = float(np.clip(self.scale, self.min_scale, self.max_scale))
        return self.longterm.after_localization(frame, loc, previous_scale)

    # ------------------------------------------------------------------------------ long-term state
    @property
    def monitor(self):
        """The confidence monitor (``rbar_p`` is ``monitor.average``)."""
        return self.longterm.monitor

    @property
    def global_model(self):
        """The global model (None unless the mode is ``global``)."""
        return self.longterm.global_model

    @property
    def scorer(self):
        """The whole-frame scorer of the confidence model (None with mode ``off``)."""
        return self.longterm.scorer

    @property
    def mode(self) -> str:
        """Long-term mode: ``off``, ``local`` or ``global``."""
        return self.longterm.mode

    def _mine(self, frame: np.ndarray, position: np.ndarray, scale: float, frame_number: int) -> None:
        """One hard-negative mining round in ``frame`` (for benchmarks and notebooks)."""
        self.longterm._mine(frame, position, scale, frame_number)

    @property
    def models(self) -> list[AppearanceModel]:
        """The appearance models: ``[deep, shallow]`` for UPDT, one model otherwise."""
        return list(self._models)

    @property
    def confidence_model(self) -> AppearanceModel:
        """The model whose score drives confidence, mining and re-detection (the deep one in UPDT)."""
        return self._confidence_model

    @property
    def box(self) -> np.ndarray:
        """Current box ``x, y, w, h``."""
        h, w = self.base_target_size * self.scale
        return np.array([self.position[1] - (w - 1) / 2, self.position[0] - (h - 1) / 2, w, h])

    # ------------------------------------------------------------------------------ models
    def _build_models(self, target_size: np.ndarray) -> None:
        """Appearance models sharing one sample geometry (so that their scores can be fused)."""
        cfg = self.config
        configs = [c for c in (cfg.deep, cfg.local) if c is not None]
        extractors = [FeatureExtractor(c.features, self.color) for c in configs]
        all_cells = [cell for e in extractors for cell in e.cell_sizes]
        stride = max((e.size_multiple for e in extractors), default=1)
        lead = configs[0]  # the deep model's sample settings when there is one
        shared = compute_geometry(target_size, all_cells, lead.search_area_scale, lead.min_image_sample_size,
                                  lead.max_image_sample_size, stride_multiple=stride)
        self.base_target_size = shared.base_target_size
        self.scale = shared.initial_scale
        self._models = []
        for c, e in zip(configs, extractors):
            geometry = geometry_for_side(shared.base_target_size, shared.initial_scale,
                                         int(shared.sample_size[0]), e.cell_sizes)
            self._models.append(AppearanceModel(c, geometry, e))
        self.geometry = shared
        self._shared_patches = len(self._models) > 1 and all(m.samples_like(self._models[0]) for m in self._models)
        self._init_scale_limits(shared)
        # the deep model (first) drives confidence and re-detection when there is one (paper 3)
        self._confidence_model = self._models[0]
        if len(self._models) > 1:
            k1 = max(m.geometry.output_size[0] for m in self._models)
            k2 = max(m.geometry.output_size[1] for m in self._models)
            self._fusion_grid = (k1, k2)
            self._fusion_sampler = HalfSpectrumSampler(k1, k2)

    def localize(self, frame: np.ndarray, position=None, scale=None, factors=None) -> _Localization:
        """Where the local model(s) put the target, searching around ``position`` (default: the
        current one) at ``scale`` (default: the current one) times ``factors`` (default: the
        tracker's search factors). ``scale_index`` of the result indexes ``factors``."""
        position = self.position if position is None else np.asarray(position, dtype=np.float64)
        factors = self._search_factors if factors is None else np.asarray(factors, dtype=np.float64)
        scales = (self.scale if scale is None else scale) * factors
        patches = None
        if self._shared_patches:  # UPDT: both models sample the same patches; cut them once
            patches = self._models[0].sample_patches(frame, position, scales)
        detections = [m.detect(frame, position, scales, patches) for m in self._models]
        conf_score = detections[0].peak.score
        if len(detections) == 1:
            det, model = detections[0], self._models[0]
            position = det.sample_centre + model.displacement_pixels(det)
            return _Localization(position, det.peak.scale_index, detections, conf_score, _centred_map(det))
        return self._fuse(detections, conf_score)

    def _fuse(self, detections, conf_score) -> _Localization:
        """UPDT: fuse deep and shallow scores on a common grid, then refine the fused maximum."""
        grid = self._fusion_grid
        best = None
        for s in range(len(detections[0].scales)):
            spectra = [pad_spectrum(d.score_spectra[s], grid) for d in detections]
            maps = [self._fusion_sampler(sp) for sp in spectra]
            fused = fuse_scores(maps[0], maps[1], self.config.fusion)
            start = wrap_displacement(np.array(fused.peak_index), grid)
            spectrum = (fused.beta_deep * spectra[0] + fused.beta_shallow * spectra[1]).astype(np.complex64)
            t, value = newton_refine(spectrum, start, grid, self._models[-1].config.newton_iterations)
            if best is None or value > best[1]:
                best = (t, value, s, fused.score)
        t, _, s, fused_map = best
        cells_to_pixels = self.geometry.sample_size / np.asarray(grid, dtype=np.float64)
        position = detections[0].sample_centre + t * cells_to_pixels * detections[0].scales[s]
        return _Localization(position, s, detections, conf_score, np.fft.fftshift(fused_map))

    def learn(self, frame: np.ndarray | None, loc: _Localization, position: np.ndarray, frame_number: int,
              update_scale: bool = True) -> None:
        """Add the frame's samples, centred on ``position``, to every model (and the scale filter)."""
        for model, detection in zip(self._models, loc.detections):
            # learn from the winning scale's sample, re-centred on the fused position
            detection.set_scale_index(loc.scale_index)
            model.learn(detection, position, frame_number)
            if not model.model.is_finite():
                # never let NaN/Inf propagate: report it and relearn this model from the current frame
                logger.warning("frame %d: non-finite values in the %s model; re-initializing it",
                               self.frame_number, "+".join(s.name for s in model.extractor.specs))
                if frame is not None:
                    model.initialize(frame, self.position, self.scale)
        if update_scale and self._scale_filter is not None and frame is not None:
            self._scale_filter.update(frame, self.position, self.scale)

    def resume_at(self, frame: np.ndarray, position: np.ndarray, scale: float) -> None:
        """Move to a re-detected position and re-estimate the size there, starting from ``scale``."""
        self.position = np.clip(position, 0, np.asarray(self.frame_size) - 1)
        self.scale = float(scale)
        if self._scale_filter is not None:
            # chain scale estimates: one spans about +-36 %, and a target may come back much larger or smaller
            tolerance = abs(math.log(self.config.scale.scale_step))
            for _ in range(self.config.longterm.redetection_scale_iterations):
                change = self._scale_filter.estimate(frame, self.position, self.scale)
                self.scale = float(np.clip(self.scale * change, self.min_scale, self.max_scale))
                if abs(math.log(change)) < tolerance:
                    break

    # ------------------------------------------------------------------------------ internals
    def _init_scale_limits(self, geometry) -> None:
        step = self.config.scale.scale_step if self.config.scale is not None else self.config.search_scale_step
        # the sample may shrink to 5 pixels per side at the least, and the target may grow to the frame
        min_rel = np.max(5.0 / geometry.sample_size)
        max_rel = np.min(np.asarray(self.frame_size) / geometry.base_target_size)
        self.min_scale = step ** math.ceil(math.log(min_rel) / math.log(step))
        self.max_scale = step ** math.floor(math.log(max(max_rel, 1.0)) / math.log(step))


# ------------------------------------------------------------------------------------------------
# Input validation at the public boundary
# ------------------------------------------------------------------------------------------------


def prepare_frame(frame, expected_shape=None, color=None) -> np.ndarray:
    """Validate a frame and bring it to (H, W, 3) or (H, W) with values in [0, 255].

    Accepts uint8, 16-bit (divided by 257), float images (in [0, 1] if their maximum is at most 1,
    else [0, 255]), RGBA (alpha dropped) and single-channel (H, W, 1) arrays; the conversion is
    :func:`dcfre.image.to_uint8`, the one the frame reader uses.
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
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InputError("frame contains NaN or Inf values")
    if arr.dtype.kind not in "uifb":
        raise InputError(f"unsupported frame dtype {arr.dtype}")
    arr = to_uint8(arr)  # the same mapping as the frame reader (16-bit / 257, unit floats * 255)
    if color is not None and (arr.ndim == 3) != color:
        # a sequence that switches between gray and colour: convert to what the model expects
        arr = np.repeat(arr[:, :, None], 3, axis=2) if color else arr.mean(axis=2).astype(np.uint8)
    if expected_shape is not None and arr.shape[:2] != tuple(expected_shape):
        raise InputError(
            f"frame size changed from {expected_shape[1]}x{expected_shape[0]} to {arr.shape[1]}x{arr.shape[0]}"
        )
    return np.ascontiguousarray(arr)


#: smallest box side accepted, pixels (a target must cover some image content)
MIN_BOX_SIDE = 0.01
#: largest box side accepted, relative to the frame's larger side
MAX_BOX_TO_FRAME = 10.0


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
    if min(w, h) < MIN_BOX_SIDE:
        raise InputError(f"box is too small: w={w:g}, h={h:g} (each side must be at least {MIN_BOX_SIDE:g} px)")
    if max(w, h) > MAX_BOX_TO_FRAME * max(height, width):
        raise InputError(f"box {w:g}x{h:g} is more than {MAX_BOX_TO_FRAME:g} times the {width}x{height} frame")
    if x + w <= 0 or y + h <= 0 or x >= width or y >= height:
        raise InputError(f"box {b.tolist()} lies entirely outside the {width}x{height} frame")
    return b


_BLAS = {"controller": None, "pinned": None}


def pin_blas_threads(limit: int | None) -> None:
    """Set the process's BLAS threads to ``limit`` once, for a process that runs trackers only.

    Tracker calls then skip their own limit (:func:`_blas_threads`) when it equals ``limit``. That
    per-call limit asks every loaded thread pool for its size, a few ctypes calls per frame; each
    releases the GIL, and in ``dcfre track`` the frame reader thread takes it and the tracker waits
    (measured ~1.7 ms per frame on 2 busy cores). For command-line processes (``dcfre track``), not for
    library callers that change thread pools between tracker calls. ``None`` leaves the process as is.
    """
    if limit is None:
        return
    _blas_controller().limit(limits=limit, user_api="blas")  # not restored: the process keeps it
    _BLAS["pinned"] = limit


def _blas_controller():
    if _BLAS["controller"] is None:
        from threadpoolctl import ThreadpoolController

        _BLAS["controller"] = ThreadpoolController()
    return _BLAS["controller"]


def _blas_threads(limit: int | None):
    """Context limiting BLAS threads during a tracker call (a few microseconds per call, but see
    :func:`pin_blas_threads`).

    The tracker's matrix products are small; multi-threaded BLAS on them only adds contention
    (measured 3-30x slower on 2 busy cores), whatever the process configured elsewhere.
    """
    if limit is None or limit == _BLAS["pinned"]:
        return contextlib.nullcontext()
    return _blas_controller().limit(limits=limit, user_api="blas")


def _centred_map(detection: Detection) -> np.ndarray:
    return np.fft.fftshift(detection.maps[detection.peak.scale_index])
