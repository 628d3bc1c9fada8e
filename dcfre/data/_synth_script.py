"""The geometry of a synthetic sequence, decided before any pixel is drawn.

World coordinates are pixel-edge coordinates of the background canvas (pixel ``i`` spans
``[i, i + 1)``); the canvas is mirrored at its borders so the world is unbounded. A camera with
centre ``c_t`` (world) and zoom ``z_t`` maps a world point ``p`` to the screen point
``z_t * (p - c_t) + (W / 2, H / 2)`` (screen pixel-edge coordinates).

The script holds, per frame: the camera, the target box, the look-alike distractors' boxes, the
occluders' boxes, illumination and blur. Ground truth, visibility and attribute flags follow from
it exactly, without rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import lfilter

from dcfre.data.sequence import UAV123_ATTRIBUTES

OCCLUSION, OUT_OF_VIEW, FAST_MOTION, BLUR = "occlusion", "out_of_view", "fast_motion", "blur"

# Smoothness of the random processes (Gaussian filter sigma, frames).
_HEADING_SMOOTHING = 60.0
_SPEED_SMOOTHING = 40.0
_SCALE_SMOOTHING = 80.0
_ZOOM_SMOOTHING = 90.0
_WANDER_SMOOTHING = 70.0
_DISTRACTOR_SMOOTHING = 80.0
_ILLUMINATION_SMOOTHING = 50.0
_HEADING_AMPLITUDE = 1.3  # radians per unit of smooth noise
_SPEED_AMPLITUDE = 0.35  # log-amplitude of the target's speed modulation
_NOISE_CLIP = 2.0  # smooth noise is clipped to +-this many standard deviations
_ZOOM_LIMITS = (0.6, 1.7)
_GAIN_LIMITS = (0.45, 1.6)
_SHADOW_AMPLITUDE = 0.6  # spatial illumination gradient, relative to the global log-gain amplitude
MIN_SHADING = 0.2  # floor of the spatial illumination factor (renderer and attributes use the same)

# Events.
_EVENT_GAP = 8  # minimum frames between consecutive events
_END_MARGIN = 10  # frames at the end of a sequence kept free of event starts
_OCCLUSION_CROSS_FRAMES = (8, 16)  # frames the target needs to slide under an occluder
_OCCLUSION_AXIS_JITTER = 0.25  # radians: occlusion paths are near-horizontal or near-vertical
_OCCLUDER_MARGIN = 0.08  # occluder margin around the covered sweep, in target sizes
_OCCLUDER_WIDENING = (1.0, 1.8)  # occluder extent across the motion, in covered-sweep widths
_LOOKAWAY_MARGIN = 30.0  # extra screen px the camera looks away beyond what hides the target
_LOOKAWAY_TURN = (0.5 * np.pi, np.pi)  # angle between leaving and returning directions
_FAST_SPEEDUP = (4.0, 7.0)  # target speed multiplier during a fast-motion event
_JERK_AMPLITUDE = 0.2  # camera jerk at a fast-motion event, fraction of the frame height
_JERK_FRAMES = 6
_BLUR_RANGE = (0.7, 1.3)  # blur sigma multiplier range of blur events
_MOTION_BLUR_MIN = 8.0  # screen px/frame of camera motion from which motion blur is drawn
_MOTION_BLUR_EXPOSURE = 0.3  # fraction of the frame interval the shutter is open
_MOTION_BLUR_MAX = 15.0  # longest motion blur streak, px

# Attribute thresholds (UAV123 definitions).
_SCALE_RANGE = (0.5, 2.0)
_LOW_RESOLUTION_AREA = 400.0
_FAST_MOTION_PX = 20.0
_IV_GAIN_RATIO = 1.5
_CM_SCREEN_PX = 3.0
_VISIBILITY_GRID = 20


@dataclass(frozen=True)
class Event:
    """One scheduled challenge: frames ``[start, stop)``; ``[core_start, core_stop)`` is the part
    where the target is meant to be fully hidden (occlusion, out of view) or the event is strongest."""

    kind: str
    start: int
    stop: int
    core_start: int
    core_stop: int

    def as_dict(self) -> dict:
        return {"kind": self.kind, "start": self.start, "stop": self.stop,
                "core_start": self.core_start, "core_stop": self.core_stop}  # fmt: skip


@dataclass
class SceneScript:
    """Per-frame geometry of a sequence (N frames, K distractors, M occluders); boxes are screen
    pixel-edge ``x0, y0, w, h``."""

    width: int
    height: int
    camera: np.ndarray  # (N, 2) world centre
    zoom: np.ndarray  # (N,)
    target_boxes: np.ndarray  # (N, 4)
    distractor_boxes: np.ndarray  # (K, N, 4)
    occluder_boxes: np.ndarray  # (M, N, 4)
    gain: np.ndarray  # (N,) global illumination gain
    shadow: np.ndarray  # (N, 2) illumination gradient along x and y (gain change from centre to edge)
    blur_sigma: np.ndarray  # (N,) Gaussian blur sigma, px (0: none)
    motion_blur: np.ndarray  # (N, 2) motion-blur streak vector, px
    events: list[Event] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return len(self.zoom)


# --------------------------------------------------------------------------------------------- noise


def smooth_noise(rng: np.random.Generator, n: int, sigma: float, dims: int = 1) -> np.ndarray:
    """Gaussian-filtered white noise with unit standard deviation, clipped to +-2; shape (n, dims)."""
    pad = int(3 * sigma)
    white = rng.standard_normal((n + 2 * pad, dims))
    smooth = gaussian_filter1d(white, sigma, axis=0, mode="reflect")[pad : pad + n]
    unit = smooth * np.sqrt(2.0 * np.sqrt(np.pi) * sigma)  # std of filtered unit noise is 1/sqrt(2 sqrt(pi) sigma)
    return np.clip(unit, -_NOISE_CLIP, _NOISE_CLIP)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


# --------------------------------------------------------------------------------------------- events


def plan_events(rng: np.random.Generator, config) -> list[Event]:
    """Schedule occlusions, out-of-view spans and fast motion without overlap, blur anywhere.

    Events that do not fit into the sequence are dropped (fast motion first).
    """
    scale = config.duration_scale
    windows = [_occlusion_window(rng, config, scale) for _ in range(config.n_occlusions)]
    windows += [_out_of_view_window(rng, config, scale) for _ in range(config.n_out_of_view)]
    windows = [
        _draw_window(rng, FAST_MOTION, config.fast_motion_frames, scale) for _ in range(config.n_fast_motion)
    ] + windows
    first, last = config.clear_start, config.n_frames - _END_MARGIN
    while windows and sum(w[1] for w in windows) + _EVENT_GAP * len(windows) > last - first:
        windows.pop(0)
    windows = [windows[i] for i in rng.permutation(len(windows))]
    events = _lay_out(rng, windows, first, last)
    for _ in range(config.n_blur):
        kind, length, _ = _draw_window(rng, BLUR, config.blur_frames, scale)
        if last - first > length:
            start = int(rng.integers(first, last - length))
            events.append(Event(kind, start, start + length, start, start + length))
    return sorted(events, key=lambda e: e.start)


def _scaled_length(rng: np.random.Generator, bounds: tuple[int, int], scale: float) -> int:
    return max(3, round(rng.integers(bounds[0], bounds[1] + 1) * scale))


def _draw_window(rng, kind, bounds, scale):
    length = _scaled_length(rng, bounds, scale)
    return (kind, length, (0, length))


def _occlusion_window(rng, config, scale):
    core = _scaled_length(rng, config.occlusion_frames, scale)
    cross = _scaled_length(rng, _OCCLUSION_CROSS_FRAMES, max(scale, 0.5))
    lead = cross + 3
    return (OCCLUSION, 2 * lead + core, (lead, lead + core))


def _out_of_view_window(rng, config, scale):
    leave = _scaled_length(rng, config.camera_swing_frames, scale)
    hold = _scaled_length(rng, config.out_of_view_frames, scale)
    back = _scaled_length(rng, config.camera_swing_frames, scale)
    return (OUT_OF_VIEW, leave + hold + back, (leave, leave + hold))


def _lay_out(rng, windows, first: int, last: int) -> list[Event]:
    if not windows:
        return []
    free = (last - first) - sum(w[1] for w in windows) - _EVENT_GAP * len(windows)
    gaps = np.floor(rng.dirichlet(np.ones(len(windows) + 1)) * free).astype(int)
    events, cursor = [], first
    for (kind, length, (core_a, core_b)), gap in zip(windows, gaps):
        start = cursor + int(gap) + _EVENT_GAP
        events.append(Event(kind, start, start + length, start + core_a, start + core_b))
        cursor = start + length
    return events


# --------------------------------------------------------------------------------------------- motion


def camera_zoom(rng: np.random.Generator, config) -> np.ndarray:
    """Camera zoom per frame, 1 at the first frame, shape (N,)."""
    log_zoom = config.zoom_variation * smooth_noise(rng, config.n_frames, _ZOOM_SMOOTHING)[:, 0]
    return np.clip(np.exp(log_zoom - log_zoom[0]), *_ZOOM_LIMITS)


def target_size(rng: np.random.Generator, config, zoom: np.ndarray) -> np.ndarray:
    """Target width and height in world px per frame, (N, 2).

    The screen size at frame 0 is ``target_size`` (geometric mean of width and height) at aspect
    ``target_aspect`` since the zoom starts at 1; the target's own scale change is limited so that
    the on-screen size stays within ``screen_size_limits``.
    """
    n = config.n_frames
    log_scale = config.scale_variation * smooth_noise(rng, n, _SCALE_SMOOTHING)[:, 0]
    log_aspect = config.aspect_variation * smooth_noise(rng, n, _SCALE_SMOOTHING)[:, 0]
    log_scale -= log_scale[0]
    log_aspect -= log_aspect[0]
    screen = config.target_size * zoom * np.exp(log_scale)
    low, high = config.screen_size_limits
    log_scale += np.log(np.clip(screen, low, high) / screen)
    width = config.target_size / np.sqrt(config.target_aspect) * np.exp(log_scale - log_aspect)
    height = config.target_size * np.sqrt(config.target_aspect) * np.exp(log_scale + log_aspect)
    return np.stack([width, height], axis=1)


def target_centre(
    rng: np.random.Generator, config, events: list[Event], size: np.ndarray, start: np.ndarray
) -> np.ndarray:
    """Target centre in world px per frame, (N, 2): a meandering walk with straight, steady
    crossings under occluders and speed bursts at fast-motion events."""
    n = config.n_frames
    heading = rng.uniform(0, 2 * np.pi) + _HEADING_AMPLITUDE * smooth_noise(rng, n, _HEADING_SMOOTHING)[:, 0]
    speed = config.target_speed * np.exp(_SPEED_AMPLITUDE * smooth_noise(rng, n, _SPEED_SMOOTHING)[:, 0])
    for event in events:
        window = slice(event.start, event.stop)
        if event.kind == OCCLUSION:
            axis = np.round(heading[event.start] / (np.pi / 2)) * (np.pi / 2)
            heading[window] = axis + rng.uniform(-_OCCLUSION_AXIS_JITTER, _OCCLUSION_AXIS_JITTER)
            along = size[event.start, 0] if np.isclose(np.cos(axis) ** 2, 1.0) else size[event.start, 1]
            cross_frames = event.core_start - event.start - 3
            speed[window] = along / max(cross_frames, 1)
        elif event.kind == FAST_MOTION:
            bump = np.hanning(event.stop - event.start + 2)[1:-1]
            speed[window] *= 1.0 + (rng.uniform(*_FAST_SPEEDUP) - 1.0) * bump
    velocity = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=1)
    velocity[0] = 0.0
    return start[None, :] + np.cumsum(velocity, axis=0)


def camera_path(
    rng: np.random.Generator, config, events: list[Event], centre: np.ndarray, size: np.ndarray, zoom: np.ndarray
) -> np.ndarray:
    """Camera centre per frame, (N, 2): follows the target with lag and wander, looks away
    during out-of-view events and jerks at fast-motion events."""
    n = config.n_frames
    half = np.array([config.width / 2.0, config.height / 2.0])
    wander = config.camera_wander * half * smooth_noise(rng, n, _WANDER_SMOOTHING, 2) / _NOISE_CLIP / zoom[:, None]
    aim = centre + wander
    lag = float(np.clip(config.camera_lag, 1e-3, 1.0))
    camera = np.empty_like(aim)
    for axis in range(2):
        camera[:, axis], _ = lfilter([lag], [1.0, lag - 1.0], aim[:, axis], zi=[(1.0 - lag) * aim[0, axis]])
    offset = np.zeros_like(camera)
    for event in events:
        if event.kind == OUT_OF_VIEW:
            offset += _lookaway(rng, config, event, centre, size, camera, zoom)
        elif event.kind == FAST_MOTION:
            offset += _jerk(rng, config, event, zoom)
    return camera + offset


def _lookaway(rng, config, event: Event, centre, size, camera, zoom) -> np.ndarray:
    """Camera offset that swings away until the target is out of view, turns while away, and
    swings back from another direction, so the target leaves and re-enters at different edges."""
    n = len(zoom)
    window = slice(event.start, event.stop)
    half_diagonal = 0.5 * np.hypot(config.width, config.height)
    target_diagonal = np.max(np.hypot(size[window, 0], size[window, 1]) * zoom[window])
    residual = np.max(np.hypot(*(zoom[window, None] * (centre[window] - camera[window])).T))
    reach = half_diagonal + target_diagonal + residual + _LOOKAWAY_MARGIN  # screen px
    frames = np.arange(n)
    leave = _smoothstep((frames - event.start + 1) / max(event.core_start - event.start, 1))
    back = _smoothstep((event.stop - frames) / max(event.stop - event.core_stop, 1))
    magnitude = np.where(frames < event.core_start, leave, np.where(frames >= event.core_stop, back, 1.0))
    magnitude[(frames < event.start) | (frames >= event.stop)] = 0.0
    angle_leave = rng.uniform(0, 2 * np.pi)
    angle_back = angle_leave + rng.choice([-1.0, 1.0]) * rng.uniform(*_LOOKAWAY_TURN)
    turn = _smoothstep((frames - event.core_start) / max(event.core_stop - event.core_start, 1))
    angle = angle_leave + (angle_back - angle_leave) * turn
    direction = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return (magnitude * reach / zoom)[:, None] * direction


def _jerk(rng, config, event: Event, zoom) -> np.ndarray:
    n = len(zoom)
    offset = np.zeros((n, 2))
    length = min(_JERK_FRAMES, event.stop - event.start)
    frames = np.arange(event.start, event.start + length)
    angle = rng.uniform(0, 2 * np.pi)
    amplitude = _JERK_AMPLITUDE * config.height / zoom[frames]
    bump = np.sin(np.pi * (frames - event.start + 1) / (length + 1))
    offset[frames] = (amplitude * bump)[:, None] * np.array([np.cos(angle), np.sin(angle)])
    return offset


def distractor_tracks(rng: np.random.Generator, config, centre: np.ndarray, size: np.ndarray):
    """Look-alikes walking around the target: centres (K, N, 2) and sizes (K, N, 2), world px."""
    n, k = config.n_frames, config.n_distractors
    geometric = np.sqrt(size[:, 0] * size[:, 1])
    lo, hi = np.log(config.distractor_spread[0]), np.log(config.distractor_spread[1])
    centres, sizes = np.zeros((k, n, 2)), np.zeros((k, n, 2))
    for index in range(k):
        log_radius = rng.uniform(lo, hi) + 0.3 * smooth_noise(rng, n, _DISTRACTOR_SMOOTHING)[:, 0]
        radius = np.exp(np.clip(log_radius, lo, hi)) * geometric
        angle = rng.uniform(0, 2 * np.pi) + 1.5 * smooth_noise(rng, n, _DISTRACTOR_SMOOTHING)[:, 0]
        centres[index] = centre + radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        sizes[index] = size * rng.uniform(0.85, 1.15)
    return centres, sizes


def occluder_rects(rng: np.random.Generator, events: list[Event], centre: np.ndarray, size: np.ndarray) -> np.ndarray:
    """World rectangles ``x0, y0, w, h`` (M, 4) that cover the target through each occlusion core."""
    rects = []
    for event in events:
        if event.kind != OCCLUSION:
            continue
        core = slice(event.core_start, event.core_stop)
        margin = _OCCLUDER_MARGIN * np.sqrt(size[core].prod(axis=1)).max() + 2.0
        x0 = np.min(centre[core, 0] - size[core, 0] / 2) - margin
        x1 = np.max(centre[core, 0] + size[core, 0] / 2) + margin
        y0 = np.min(centre[core, 1] - size[core, 1] / 2) - margin
        y1 = np.max(centre[core, 1] + size[core, 1] / 2) + margin
        motion = centre[event.core_stop - 1] - centre[event.core_start]
        widen = rng.uniform(*_OCCLUDER_WIDENING) - 1.0
        split = rng.uniform(0.0, 1.0)
        if abs(motion[0]) >= abs(motion[1]):  # horizontal crossing: widen vertically
            extra = widen * (y1 - y0)
            y0, y1 = y0 - split * extra, y1 + (1 - split) * extra
        else:
            extra = widen * (x1 - x0)
            x0, x1 = x0 - split * extra, x1 + (1 - split) * extra
        rects.append((x0, y0, x1 - x0, y1 - y0))
    return np.asarray(rects, dtype=np.float64).reshape(-1, 4)


# --------------------------------------------------------------------------------------------- screen


def to_screen(
    centre: np.ndarray, size: np.ndarray, camera: np.ndarray, zoom: np.ndarray, width: int, height: int
) -> np.ndarray:
    """World centres/sizes (..., N, 2) to screen boxes ``x0, y0, w, h`` (..., N, 4)."""
    half = np.array([width / 2.0, height / 2.0])
    screen_centre = zoom[:, None] * (centre - camera) + half
    screen_size = zoom[:, None] * size
    return np.concatenate([screen_centre - screen_size / 2, screen_size], axis=-1)


def rect_to_screen(rects: np.ndarray, camera: np.ndarray, zoom: np.ndarray, width: int, height: int) -> np.ndarray:
    """World rectangles (M, 4) to screen boxes per frame (M, N, 4)."""
    centres = rects[:, None, :2] + rects[:, None, 2:] / 2
    sizes = np.broadcast_to(rects[:, None, 2:], centres.shape)
    return to_screen(centres, sizes, camera, zoom, width, height)


def illumination(rng: np.random.Generator, config) -> tuple[np.ndarray, np.ndarray]:
    """Global gain (N,) and spatial gradient (N, 2) of the lighting."""
    n = config.n_frames
    log_gain = config.illumination * smooth_noise(rng, n, _ILLUMINATION_SMOOTHING)[:, 0]
    gain = np.clip(np.exp(log_gain), *_GAIN_LIMITS)
    shadow = _SHADOW_AMPLITUDE * config.illumination * smooth_noise(rng, n, _ILLUMINATION_SMOOTHING, 2) / _NOISE_CLIP
    return gain, shadow


def gain_at(script: SceneScript, points: np.ndarray) -> np.ndarray:
    """Illumination gain at screen points (N, 2), one per frame (same formula as the renderer)."""
    rel = (points - np.array([script.width / 2.0, script.height / 2.0])) / np.array(
        [script.width / 2.0, script.height / 2.0]
    )
    return script.gain * np.clip(1.0 + (script.shadow * rel).sum(axis=1), MIN_SHADING, None)


def blur_schedule(rng: np.random.Generator, config, events: list[Event], camera: np.ndarray, zoom: np.ndarray):
    """Gaussian blur sigma (N,) from blur events and motion-blur streaks (N, 2) from fast camera motion."""
    n = config.n_frames
    sigma = np.zeros(n)
    for event in events:
        if event.kind == BLUR:
            ramp = np.hanning(event.stop - event.start + 2)[1:-1] ** 0.5
            sigma[event.start : event.stop] = config.blur_sigma * rng.uniform(*_BLUR_RANGE) * ramp
    motion = np.zeros((n, 2))
    if config.motion_blur:
        motion[1:] = zoom[1:, None] * (camera[1:] - camera[:-1]) * _MOTION_BLUR_EXPOSURE
        length = np.hypot(motion[:, 0], motion[:, 1])
        motion[length < _MOTION_BLUR_MIN * _MOTION_BLUR_EXPOSURE] = 0.0
        too_long = length > _MOTION_BLUR_MAX
        motion[too_long] *= (_MOTION_BLUR_MAX / length[too_long])[:, None]
    return sigma, motion


# --------------------------------------------------------------------------------------------- truth


@dataclass(frozen=True)
class Visibility:
    """Per-frame visibility of the target box (fractions of its area), each (N,)."""

    in_view: np.ndarray  # inside the frame
    occluded: np.ndarray  # inside the frame and under an occluder
    visible: np.ndarray  # inside the frame and not under an occluder


def visibility(script: SceneScript) -> Visibility:
    """Sample a grid over each target box against the frame and the occluders."""
    steps = (np.arange(_VISIBILITY_GRID) + 0.5) / _VISIBILITY_GRID
    boxes = script.target_boxes
    xs = boxes[:, 0, None] + steps[None, :] * boxes[:, 2, None]  # (N, G)
    ys = boxes[:, 1, None] + steps[None, :] * boxes[:, 3, None]
    in_x = (xs >= 0) & (xs < script.width)
    in_y = (ys >= 0) & (ys < script.height)
    in_view = in_y[:, :, None] & in_x[:, None, :]  # (N, G, G)
    covered = np.zeros_like(in_view)
    for occ in script.occluder_boxes:  # (N, 4)
        cx = (xs >= occ[:, 0, None]) & (xs < occ[:, 0, None] + occ[:, 2, None])
        cy = (ys >= occ[:, 1, None]) & (ys < occ[:, 1, None] + occ[:, 3, None])
        covered |= cy[:, :, None] & cx[:, None, :]
    total = _VISIBILITY_GRID**2
    return Visibility(
        in_view=in_view.sum(axis=(1, 2)) / total,
        occluded=(in_view & covered).sum(axis=(1, 2)) / total,
        visible=(in_view & ~covered).sum(axis=(1, 2)) / total,
    )


def groundtruth(script: SceneScript, vis: Visibility, min_visible_fraction: float) -> np.ndarray:
    """OTB-convention ground truth (N, 4): the target box clipped to the frame, 1-based
    (``x = left edge + 1``), NaN where less than ``min_visible_fraction`` of the target is visible."""
    boxes = script.target_boxes
    x0 = np.clip(boxes[:, 0], 0, script.width)
    y0 = np.clip(boxes[:, 1], 0, script.height)
    x1 = np.clip(boxes[:, 0] + boxes[:, 2], 0, script.width)
    y1 = np.clip(boxes[:, 1] + boxes[:, 3], 0, script.height)
    gt = np.stack([x0 + 1.0, y0 + 1.0, x1 - x0, y1 - y0], axis=1)
    gt[vis.visible < min_visible_fraction] = np.nan
    return gt


def attributes(script: SceneScript, vis: Visibility, gt: np.ndarray, config) -> dict[str, bool]:
    """The 12 UAV123 flags, measured on what was generated (definitions of the UAV123 paper).

    SV/ARC compare the full target box of each visible frame with the first; LR: a visible box
    under 400 px^2; FM: the ground-truth centre moves more than 20 px between consecutive
    visible frames; FOC/POC/OV from the visibility; BC: background cut from the target's photo;
    IV: illumination gain at the target changes by more than 1.5x; VC: never generated; CM: the
    background moves more than 3 px in some frame; SOB: look-alikes on screen with the target.
    """
    present = np.isfinite(gt).all(axis=1)
    boxes = script.target_boxes
    full = boxes[present]
    size_ratio = np.sqrt(full[:, 2] * full[:, 3] / (full[0, 2] * full[0, 3])) if len(full) else np.ones(1)
    aspect_ratio = (full[:, 2] / full[:, 3]) / (full[0, 2] / full[0, 3]) if len(full) else np.ones(1)
    centres = gt[:, :2] + gt[:, 2:] / 2
    step = np.hypot(*(centres[1:] - centres[:-1]).T)
    target_centres = boxes[:, :2] + boxes[:, 2:] / 2
    gain = gain_at(script, target_centres)[present]
    pan = script.zoom[1:] * np.hypot(*(script.camera[1:] - script.camera[:-1]).T)
    flags = {
        "SV": bool(np.any((size_ratio < _SCALE_RANGE[0]) | (size_ratio > _SCALE_RANGE[1]))),
        "ARC": bool(np.any((aspect_ratio < _SCALE_RANGE[0]) | (aspect_ratio > _SCALE_RANGE[1]))),
        "LR": bool(np.any(full[:, 2] * full[:, 3] < _LOW_RESOLUTION_AREA)),
        "FM": bool(np.any(step[np.isfinite(step)] > _FAST_MOTION_PX)),
        "FOC": bool(np.any((vis.in_view > 0) & ~present & (vis.occluded > 0))),
        "POC": bool(np.any(present & (vis.occluded > 0))),
        "OV": bool(np.any(vis.in_view < 1.0)),
        "BC": bool(config.camouflage),
        "IV": bool(len(gain) and gain.max() / gain.min() > _IV_GAIN_RATIO),
        "VC": False,
        "CM": bool(np.any(pan > _CM_SCREEN_PX)),
        "SOB": bool(_look_alikes_on_screen(script, present)),
    }
    assert tuple(flags) == UAV123_ATTRIBUTES
    return flags


def _look_alikes_on_screen(script: SceneScript, present: np.ndarray) -> bool:
    for boxes in script.distractor_boxes:
        inside = (boxes[:, 0] + boxes[:, 2] > 0) & (boxes[:, 0] < script.width)
        inside &= (boxes[:, 1] + boxes[:, 3] > 0) & (boxes[:, 1] < script.height)
        if np.any(inside & present):
            return True
    return False


def absent_spans(gt: np.ndarray) -> list[tuple[int, int]]:
    """Runs of NaN rows as 1-based inclusive ``(first, last)`` frame numbers."""
    absent = ~np.isfinite(gt).all(axis=1)
    edges = np.diff(np.concatenate([[0], absent.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a) + 1, int(b)) for a, b in zip(starts, stops)]


def build_script(rng: np.random.Generator, config) -> SceneScript:
    """Decide every frame's geometry, illumination and blur for ``config``."""
    events = plan_events(rng, config)
    zoom = camera_zoom(rng, config)
    size = target_size(rng, config, zoom)
    start = np.array([config.canvas_size[0] / 2.0, config.canvas_size[1] / 2.0])
    centre = target_centre(rng, config, events, size, start)
    camera = camera_path(rng, config, events, centre, size, zoom)
    d_centres, d_sizes = distractor_tracks(rng, config, centre, size)
    occluders = occluder_rects(rng, events, centre, size)
    w, h = config.width, config.height
    target_boxes = to_screen(centre, size, camera, zoom, w, h)
    occluder_boxes = rect_to_screen(occluders, camera, zoom, w, h)
    occluder_boxes = _drop_occluders_over_start(occluder_boxes, target_boxes, config.clear_start)
    distractor_boxes = (
        np.stack([to_screen(c, s, camera, zoom, w, h) for c, s in zip(d_centres, d_sizes)])
        if len(d_centres)
        else np.zeros((0, config.n_frames, 4))
    )
    gain, shadow = illumination(rng, config)
    sigma, motion = blur_schedule(rng, config, events, camera, zoom)
    return SceneScript(
        w, h, camera, zoom, target_boxes, distractor_boxes, occluder_boxes, gain, shadow, sigma, motion, events
    )


def _drop_occluders_over_start(occluders: np.ndarray, target: np.ndarray, clear_start: int) -> np.ndarray:
    """Remove occluders that would touch the target during the first, event-free frames."""
    head = slice(0, max(clear_start, 1))
    keep = []
    for occ in occluders:
        overlap_x = (occ[head, 0] < target[head, 0] + target[head, 2]) & (target[head, 0] < occ[head, 0] + occ[head, 2])
        overlap_y = (occ[head, 1] < target[head, 1] + target[head, 3]) & (target[head, 1] < occ[head, 1] + occ[head, 3])
        keep.append(not np.any(overlap_x & overlap_y))
    return occluders[np.asarray(keep, dtype=bool)] if len(occluders) else occluders
