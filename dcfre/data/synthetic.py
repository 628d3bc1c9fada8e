"""Synthetic long-term tracking benchmark, deterministic from a seed.

A textured target cut from one of scikit-image's offline photos moves over a large aerial-looking
background seen by a panning, zooming camera. Sequences contain the events that make long-term
tracking hard:

- **full occlusion**: the target slides under a world-fixed occluder (a textured rectangle) and
  comes out on the other side;
- **out of view**: the camera swings away until the target has left the frame, turns while away
  and swings back from another direction, so the target re-enters at a different edge and place;
- **similar objects**: look-alike copies of the target (recoloured slightly, sometimes mirrored)
  walking around it (the "other people" of UAV123's person sequences);
- fast motion (target bursts and camera jerks), scale and aspect change, illumination change
  (global gain and a moving gradient), defocus and motion blur, sensor noise.

Ground truth is exact: the target box clipped to the frame, in the OTB/UAV123 convention
(``x, y, w, h``, 1-based: ``x`` = left pixel edge + 1), and NaN while less than
``min_visible_fraction`` of the target is visible (fully occluded or out of view). The 12 UAV123
attribute flags are measured on what was generated.

Public entry points: :func:`make_sequence` (frames in memory, for tests and demos),
:class:`SyntheticScene` (render frame by frame), :func:`write_sequence` and :func:`generate_suite`
(the ``synth-lt`` and ``synth-human`` suites on disk, in the plain layout ``<name>/img/%04d.jpg`` +
``groundtruth.txt`` + ``attributes.txt`` + ``meta.json``).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from dcfre.data import _synth_assets as assets
from dcfre.data import _synth_script as script_lib
from dcfre.data._synth_render import SceneAssets, SceneRenderer, make_noise_bank
from dcfre.data.annotations import format_uav123_attributes
from dcfre.data.suites import SUITE_NAMES, default_cache_dir, suite_folder_name  # noqa: F401  (re-exported)
from dcfre.errors import DatasetError, InputError

#: Bumped whenever generation changes, so cached suites are regenerated.
GENERATOR_VERSION = 1
#: JPEG quality of written frames.
JPEG_QUALITY = 90
#: Background canvas size relative to the frame (the canvas is mirrored beyond its borders).
CANVAS_FACTOR = 2.5
_TEMPORARY_NAME = re.compile(r"^\..+\.(?:tmp|old)-(\d+)$")


@dataclass(frozen=True)
class SceneConfig:
    """Everything that defines one synthetic sequence; the same config always gives the same frames.

    Sizes are screen pixels at zoom 1 (the zoom starts at 1), speeds are world pixels per frame,
    durations are frames (multiplied by ``duration_scale``), "variation" fields are amplitudes of
    smooth log-normal changes (0 disables the change).
    """

    seed: int = 0
    n_frames: int = 300
    width: int = 640
    height: int = 360
    name: str = "synth"
    # target
    target_size: float = 50.0  #: sqrt(w * h) of the target in the first frame, px
    target_aspect: float = 1.0  #: height / width of the target
    target_photo: str | None = None  #: scikit-image photo the target is cut from; None: random
    target_speed: float = 1.5  #: mean target speed over the ground
    scale_variation: float = 0.25  #: target's own size change (SV)
    aspect_variation: float = 0.08  #: target's width/height change (ARC)
    screen_size_limits: tuple[float, float] = (24.0, 110.0)  #: on-screen size (sqrt(w h)) is kept in this range
    # background and camera
    background: str | None = None  #: one of BACKGROUND_KINDS; None: random
    background_photo: str | None = None  #: colour photo for the "photo" background; None: random
    camouflage: bool = False  #: background cut from the target's own photo (BC)
    zoom_variation: float = 0.2  #: camera zoom change (SV, CM)
    camera_lag: float = 0.1  #: camera follow gain per frame (1 = locked on the target)
    camera_wander: float = 0.5  #: camera offset from the target, fraction of half the frame
    # events
    n_occlusions: int = 1  #: full occlusions by an occluder (FOC)
    n_out_of_view: int = 1  #: spans with the target out of the frame (OV)
    n_fast_motion: int = 1  #: target speed bursts with a camera jerk (FM)
    n_blur: int = 1  #: defocus-blur spans
    n_distractors: int = 0  #: look-alike copies of the target (SOB)
    occlusion_frames: tuple[int, int] = (12, 40)  #: length range of a full occlusion
    out_of_view_frames: tuple[int, int] = (20, 70)  #: time the camera stays away
    camera_swing_frames: tuple[int, int] = (18, 30)  #: duration of a camera swing away or back
    fast_motion_frames: tuple[int, int] = (8, 20)
    blur_frames: tuple[int, int] = (10, 40)
    duration_scale: float = 1.0  #: multiplies every event duration (short test sequences)
    clear_start: int = 30  #: first frames without events (tracker initialisation)
    # appearance
    illumination: float = 0.25  #: illumination change (IV)
    blur_sigma: float = 2.0  #: Gaussian sigma during blur events, px
    motion_blur: bool = True  #: blur along fast camera motion
    noise_sigma: float = 2.0  #: sensor noise, gray levels
    distractor_recolour: float = 14.0  #: largest hue shift of a look-alike, degrees
    distractor_spread: tuple[float, float] = (1.2, 4.0)  #: look-alike distance from the target, target sizes
    min_visible_fraction: float = 0.1  #: below this visible fraction the ground truth is NaN

    def __post_init__(self) -> None:
        if self.n_frames < 2:
            raise InputError(f"n_frames must be at least 2, got {self.n_frames}")
        if self.width < 32 or self.height < 32:
            raise InputError(f"frame size must be at least 32x32, got {self.width}x{self.height}")
        if not 0 < self.target_size < min(self.width, self.height) / 2:
            raise InputError(f"target_size must be in (0, {min(self.width, self.height) / 2}), got {self.target_size}")
        if self.target_aspect <= 0:
            raise InputError(f"target_aspect must be positive, got {self.target_aspect}")
        if self.background is not None and self.background not in assets.BACKGROUND_KINDS:
            raise InputError(f"background must be one of {assets.BACKGROUND_KINDS}, got {self.background!r}")
        for photo in (self.target_photo, self.background_photo):
            if photo is not None and photo not in assets.COLOUR_PHOTOS:
                raise InputError(f"photo must be one of {assets.COLOUR_PHOTOS}, got {photo!r}")

    @property
    def canvas_size(self) -> tuple[int, int]:
        """Background canvas ``(width, height)`` in world px."""
        return (round(CANVAS_FACTOR * self.width), round(CANVAS_FACTOR * self.height))

    def fingerprint(self) -> str:
        """Hash of the config and generator version (identifies a finished sequence on disk)."""
        text = json.dumps({"version": GENERATOR_VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha1(text.encode("utf-8")).hexdigest()


class SyntheticScene:
    """One synthetic sequence: geometry, ground truth and attributes up front, frames on demand.

    Attributes
    ----------
    config : SceneConfig
    groundtruth : ndarray, shape (N, 4), float64
        OTB convention (1-based), NaN while the target is hidden.
    visible_fraction : ndarray, shape (N,), float64
        Fraction of the target's area that is in the frame and not under an occluder.
    attributes : dict of str to bool
        The 12 UAV123 flags.
    events : list of dict
        Scheduled events (kind, start, stop, core_start, core_stop; 0-based frame indices).
    """

    def __init__(self, config: SceneConfig) -> None:
        self.config = config
        streams = np.random.SeedSequence([config.seed, GENERATOR_VERSION]).spawn(4)
        asset_rng, script_rng, look_rng, noise_rng = (np.random.default_rng(s) for s in streams)
        target_photo, background_kind, background_photo = _choose_photos(asset_rng, config)
        self.script = script_lib.build_script(script_rng, config)
        vis = script_lib.visibility(self.script)
        self.visible_fraction = vis.visible
        self.in_view_fraction = vis.in_view
        self.groundtruth = script_lib.groundtruth(self.script, vis, config.min_visible_fraction)
        self.attributes = script_lib.attributes(self.script, vis, self.groundtruth, config)
        self.events = [e.as_dict() for e in self.script.events]
        self.sources = {"target": target_photo, "background": background_kind, "background_photo": background_photo}
        scene_assets = SceneAssets(
            background=assets.make_background(asset_rng, background_kind, background_photo, config.canvas_size),
            target=_target_sprite(asset_rng, config, target_photo, self.script),
            distractors=[],
            occluders=[],
            noise=make_noise_bank(noise_rng, config.width, config.height, config.noise_sigma),
        )
        scene_assets.distractors = [
            _look_alike(look_rng, config, scene_assets.target) for _ in range(len(self.script.distractor_boxes))
        ]
        scene_assets.occluders = [_occluder(asset_rng, boxes) for boxes in self.script.occluder_boxes]
        self._renderer = SceneRenderer(self.script, scene_assets, noise_seed=int(noise_rng.integers(2**31)))

    def __len__(self) -> int:
        return self.config.n_frames

    def render(self, index: int, draw_target: bool = True) -> np.ndarray:
        """Frame ``index`` (0-based) as ``(H, W, 3)`` uint8 RGB; ``draw_target=False`` omits the target."""
        if not 0 <= index < self.config.n_frames:
            raise InputError(f"frame index {index} out of range 0..{self.config.n_frames - 1}")
        return self._renderer.render(index, draw_target)

    def frames(self) -> Iterator[np.ndarray]:
        """All frames in order."""
        for index in range(self.config.n_frames):
            yield self._renderer.render(index)

    def meta(self) -> dict:
        """JSON-ready description: config, sources, events, absent spans, attributes, fingerprint."""
        return {
            "name": self.config.name,
            "generator": "dcfre.data.synthetic",
            "generator_version": GENERATOR_VERSION,
            "fingerprint": self.config.fingerprint(),
            "num_frames": self.config.n_frames,
            "image_size_wh": [self.config.width, self.config.height],
            "frame_file_pattern": "img/%04d.jpg",
            "gt_format": "x,y,w,h per frame, 1-based (OTB/UAV123), NaN,NaN,NaN,NaN while the target is hidden",
            "absent_intervals_frame_numbers": script_lib.absent_spans(self.groundtruth),
            "attributes": self.attributes,
            "sources": self.sources,
            "events": self.events,
            "config": asdict(self.config),
        }


@dataclass
class SyntheticSequence:
    """A rendered sequence in memory (see :func:`make_sequence`).

    Attributes
    ----------
    name : str
    frames : list of ndarray, each (H, W, 3) uint8 RGB
    groundtruth : ndarray, shape (N, 4), float64
        OTB convention (1-based), NaN rows while the target is hidden.
    attributes : dict of str to bool
    visible_fraction : ndarray, shape (N,)
    events : list of dict
    scene : SyntheticScene
        The scene, e.g. to re-render a frame without the target.
    """

    name: str
    frames: list[np.ndarray]
    groundtruth: np.ndarray
    attributes: dict[str, bool]
    visible_fraction: np.ndarray
    events: list[dict] = field(default_factory=list)
    scene: SyntheticScene | None = None

    @property
    def init_box(self) -> np.ndarray:
        """First-frame box (always visible)."""
        return self.groundtruth[0].copy()


def make_sequence(
    seed: int = 0, n_frames: int = 300, size: tuple[int, int] = (640, 360), **overrides
) -> SyntheticSequence:
    """Render a synthetic sequence in memory.

    Parameters
    ----------
    seed : int
        Same seed (and overrides) -> identical frames and ground truth.
    n_frames : int
    size : (width, height)
    **overrides
        Any other :class:`SceneConfig` field (``n_distractors=3``, ``n_out_of_view=0`` ...).

    Returns
    -------
    SyntheticSequence
    """
    width, height = size
    config = SceneConfig(seed=seed, n_frames=n_frames, width=width, height=height, **overrides)
    scene = SyntheticScene(config)
    return SyntheticSequence(
        name=config.name,
        frames=list(scene.frames()),
        groundtruth=scene.groundtruth,
        attributes=scene.attributes,
        visible_fraction=scene.visible_fraction,
        events=scene.events,
        scene=scene,
    )


# --------------------------------------------------------------------------------------------- assets


def _choose_photos(rng: np.random.Generator, config: SceneConfig) -> tuple[str, str, str]:
    target = config.target_photo or str(rng.choice(assets.TARGET_PHOTOS))
    if config.camouflage:
        return target, "photo", target
    kind = config.background or str(rng.choice(assets.BACKGROUND_KINDS))
    others = [p for p in assets.COLOUR_PHOTOS if p != target]
    photo = config.background_photo or str(rng.choice(others))
    return target, kind, photo


def _target_sprite(rng: np.random.Generator, config: SceneConfig, photo: str, script) -> assets.Sprite:
    crop = assets.cut_textured_crop(rng, photo, config.target_aspect)
    largest = float(np.max(script.target_boxes[:, 2:]))
    return assets.make_sprite(crop, long_side=int(np.ceil(largest)) + 2)


def _look_alike(rng: np.random.Generator, config: SceneConfig, target: assets.Sprite) -> assets.Sprite:
    hue = rng.choice([-1.0, 1.0]) * rng.uniform(0.4, 1.0) * config.distractor_recolour
    return assets.recolour_sprite(
        target,
        hue,
        saturation_gain=rng.uniform(0.8, 1.2),
        value_gain=rng.uniform(0.85, 1.15),
        flip=bool(rng.random() < 0.5),
    )


def _occluder(rng: np.random.Generator, boxes: np.ndarray) -> assets.Sprite:
    largest = float(np.max(boxes[:, 2:]))
    return assets.occluder_sprite(rng, long_side=int(np.ceil(largest)) + 2, aspect=float(boxes[0, 3] / boxes[0, 2]))


# --------------------------------------------------------------------------------------------- disk


def write_sequence(config: SceneConfig, out_dir: str | Path) -> Path:
    """Write one sequence to ``out_dir/<config.name>`` in the plain layout, atomically.

    Frames go to a hidden temporary folder that is renamed into place once complete. An existing
    folder whose ``meta.json`` carries the same fingerprint is kept as is (idempotent); one with
    another fingerprint is replaced.

    Returns
    -------
    Path
        The sequence folder.
    """
    out_dir = Path(out_dir)
    final = out_dir / config.name
    if is_complete(final, config):
        return final
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{config.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _write_folder(SyntheticScene(config), tmp)
        _move_into_place(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def is_complete(folder: Path, config: SceneConfig) -> bool:
    """True if ``folder`` holds a finished sequence generated from ``config``."""
    meta_path = Path(folder) / "meta.json"
    if not meta_path.is_file():
        return False
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return meta.get("fingerprint") == config.fingerprint()


def _write_folder(scene: SyntheticScene, folder: Path) -> None:
    (folder / "img").mkdir(parents=True)
    for index, frame in enumerate(scene.frames(), start=1):
        ok, data = cv2.imencode(".jpg", frame[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise DatasetError(f"JPEG encoding failed for frame {index} of {scene.config.name}")
        (folder / "img" / f"{index:04d}.jpg").write_bytes(data.tobytes())
    (folder / "groundtruth.txt").write_text(format_groundtruth(scene.groundtruth), encoding="utf-8")
    (folder / "attributes.txt").write_text(format_uav123_attributes(scene.attributes) + "\n", encoding="utf-8")
    (folder / "meta.json").write_text(
        json.dumps(scene.meta(), indent=1), encoding="utf-8"
    )  # written last: marks completion


def format_groundtruth(groundtruth: np.ndarray) -> str:
    """``x,y,w,h`` lines (4 decimals), ``NaN,NaN,NaN,NaN`` for absent frames."""
    lines = []
    for row in np.asarray(groundtruth, dtype=np.float64).reshape(-1, 4):
        lines.append("NaN,NaN,NaN,NaN" if not np.isfinite(row).all() else ",".join(f"{v:.4f}" for v in row))
    return "\n".join(lines) + "\n"


def remove_stale_temporaries(out_dir: Path) -> None:
    """Delete temporary folders (``.<name>.tmp-<pid>``, ``.<name>.old-<pid>``) left by processes that died."""
    if not out_dir.is_dir():
        return
    for path in out_dir.iterdir():
        match = _TEMPORARY_NAME.match(path.name)
        if match and path.is_dir() and not _process_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _move_into_place(tmp: Path, final: Path) -> None:
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


# --------------------------------------------------------------------------------------------- suites


def suite_configs(
    suite: str, seed: int = 0, frames_scale: float = 1.0, size: tuple[int, int] = (640, 360)
) -> list[SceneConfig]:
    """The sequence configs of a suite.

    Parameters
    ----------
    suite : {'synth-lt', 'synth-human'}
        ``synth-lt``: 20 mixed long-term sequences of 300-1000 frames; ``synth-human``: 10
        distractor-heavy sequences of 300-800 frames with person-shaped (tall) targets.
    seed : int
        Suite seed; every sequence derives its own seed from it.
    frames_scale : float
        Multiplies every sequence length (and, down to 0.3, event durations) for quick runs.
    size : (width, height)
    """
    if suite not in SUITE_NAMES:
        raise InputError(f"unknown synthetic suite {suite!r}, expected one of {', '.join(SUITE_NAMES)}")
    if not 0 < frames_scale <= 10:
        raise InputError(f"frames_scale must be in (0, 10], got {frames_scale}")
    count, make = (20, _long_term_config) if suite == "synth-lt" else (10, _human_config)
    configs = []
    for index in range(count):
        rng = np.random.default_rng(np.random.SeedSequence([seed, SUITE_NAMES.index(suite), index]))
        name = f"{suite}-{index + 1:02d}"
        configs.append(make(rng, name, frames_scale, size))
    return configs


def _common(rng: np.random.Generator, name: str, n_frames: int, frames_scale: float, size) -> dict:
    return {
        "name": name,
        "seed": int(rng.integers(2**31)),
        "n_frames": n_frames,
        "width": size[0],
        "height": size[1],
        "duration_scale": float(np.clip(frames_scale, 0.3, 1.0)),
        "clear_start": max(10, round(30 * min(frames_scale, 1.0))),
        "zoom_variation": float(rng.uniform(0.08, 0.25)),
        "scale_variation": float(rng.uniform(0.1, 0.3)),
        "illumination": float(rng.choice([0.0, rng.uniform(0.1, 0.35)])),
        "n_fast_motion": int(rng.integers(0, 3)),
        "n_blur": int(rng.integers(0, 3)),
        "noise_sigma": float(rng.uniform(1.0, 3.0)),
    }


def _long_term_config(rng: np.random.Generator, name: str, frames_scale: float, size) -> SceneConfig:
    n_frames = max(60, round(rng.integers(300, 1001) * frames_scale))
    per_400 = max(1, round(n_frames / (400 * min(frames_scale, 1.0))))  # events grow with the unscaled length
    return SceneConfig(
        **_common(rng, name, n_frames, frames_scale, size),
        target_size=float(rng.uniform(32, 70)),
        target_aspect=float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))),
        target_speed=float(rng.uniform(0.8, 2.2)),
        camouflage=bool(rng.random() < 0.2),
        n_out_of_view=int(rng.integers(1, per_400 + 1)),
        n_occlusions=int(rng.integers(0, per_400 + 1)),
        n_distractors=int(rng.choice([0, 0, 1, 2])),
    )


def _human_config(rng: np.random.Generator, name: str, frames_scale: float, size) -> SceneConfig:
    n_frames = max(60, round(rng.integers(300, 801) * frames_scale))
    return SceneConfig(
        **_common(rng, name, n_frames, frames_scale, size),
        target_size=float(rng.uniform(34, 60)),
        target_aspect=float(rng.uniform(1.6, 2.6)),
        target_photo="astronaut" if rng.random() < 0.4 else None,
        target_speed=float(rng.uniform(0.6, 1.5)),
        n_out_of_view=int(rng.integers(0, 2)),
        n_occlusions=int(rng.integers(1, 3)),
        n_distractors=int(rng.integers(3, 7)),
        distractor_spread=(0.9, 3.5),
        distractor_recolour=10.0,
    )


def generate_suite(
    suite: str,
    out_dir: str | Path,
    seed: int = 0,
    frames_scale: float = 1.0,
    jobs: int = 1,
    progress: Callable[[str, bool], None] | None = None,
) -> list[Path]:
    """Generate (or complete) a suite under ``out_dir``; finished sequences are skipped.

    Parameters
    ----------
    suite, seed, frames_scale
        See :func:`suite_configs`.
    jobs : int
        Worker processes (sequences are generated independently).
    progress : callable, optional
        Called as ``progress(name, generated)`` after each sequence (``generated`` is False when it
        was already complete).

    Returns
    -------
    list of Path
        The sequence folders, in suite order.
    """
    out_dir = Path(out_dir)
    configs = suite_configs(suite, seed, frames_scale)
    remove_stale_temporaries(out_dir)
    todo = [c for c in configs if not is_complete(out_dir / c.name, c)]
    for config in configs:
        if config not in todo and progress:
            progress(config.name, False)
    if jobs > 1 and len(todo) > 1:
        # spawn, not fork: a forked child can hang on thread-pool locks OpenCV holds in the parent
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            for config, _ in zip(todo, pool.map(write_sequence, todo, [out_dir] * len(todo))):
                if progress:
                    progress(config.name, True)
    else:
        for config in todo:
            write_sequence(config, out_dir)
            if progress:
                progress(config.name, True)
    return [out_dir / c.name for c in configs]
