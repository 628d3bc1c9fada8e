"""Speed benchmark: several trackers on identical frames, timed the same way, in clean processes.

What is measured, per tracker and input (a synthetic sequence of a given size, or a sequence
folder):

- **per-frame time**: median and 95th percentile of the ``track`` call durations, milliseconds
  (tracker call only: frames are decoded beforehand and held in memory);
- **FPS** = frames / total tracker seconds (``initialize`` + every ``track``, the same definition
  as the runner's ``.time.json``), and **ratio to OpenCV CSRT's FPS** on the same input in the
  same run (when ``opencv-csrt`` is among the trackers);
- **first-frame time**: the ``initialize`` call, milliseconds;
- **peak memory**: the resident-set high-water mark of a fresh process that streams the input's
  frames one at a time through one tracker (Linux ``VmHWM``; ``ru_maxrss`` elsewhere), and its
  increase over the same process before the tracker was imported and built;

and, for a dcfre tracker with whole-frame re-detection (long-term mode ``local`` or ``global``),
per input (:func:`time_long_term_components`, after the timed runs, on a tracker initialized on
the input and warmed up):

- **re-detection ms**: median of one whole-frame re-detection scan (``scorer.features`` +
  ``scorer.score`` with the local and, in global mode, the global filters: what one attempt
  while the target is lost costs);
- **mining ms**: median of one hard-negative mining round (global mode only);

and per tracker (on the first input):

- **JIT compile time, cold and cached**: ``import + first initialize + first track`` in a fresh
  process whose ``NUMBA_CACHE_DIR`` is an empty temporary folder (cold: every numba kernel is
  compiled), then in a second fresh process with the same, now filled, folder (cached).

With ``with_losses`` every size gets a second synthetic input, ``synthetic-lt-WxH``, with the
generator's default events (a full occlusion and an out-of-view span, among others) and
:data:`LOSS_INPUT_FRAMES` frames by default, so that the per-frame times of long-term trackers
include the lost frames: re-detection attempts, local checks and the mining and training at a loss.

Per-frame numbers are the median over ``repeats`` runs, each on a fresh tracker after a warm-up
run on the same input (so JIT compilation, FFT planning and first-use costs are excluded);
trackers are interleaved and their order rotated between repeats so that a change of machine
load affects all of them alike.

Processes: the caller renders the synthetic sequences once (``dcfre.data.synthetic``) and
decodes the sequence folders once (``dcfre.io.open_source``), writes all frames as raw uint8
files to a temporary folder and runs ``python -m dcfre.evaluation.benchmark WORKER JOB OUT``
processes: one *timing* worker (every tracker on every input in one process), one *JIT* worker
per tracker and cache state, one *memory* worker per tracker and input. Each gets its
thread-limiting environment (``OMP/OPENBLAS/MKL/NUMBA/PYFFTW/OPENCV_FOR_THREADS...``) before it
imports any numerical library, and sets ``cv2.setNumThreads`` / ``numba.set_num_threads``.
``threads="all"`` sets them to the number of cores instead of 1. (A dcfre preset's own settings,
such as ``fft_threads`` and the ONNX backbone's ``threads``, are left as the preset has them.)

Only the standard library is imported at module level: worker processes import this module
before their thread environment takes effect in numpy and friends.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dcfre.errors import DcfreError, InputError
from dcfre.evaluation.runner import THREAD_ENV_VARS as RUNNER_THREAD_ENV_VARS

#: Tracker whose FPS the others are compared with.
REFERENCE_TRACKER = "opencv-csrt"
#: Trackers of the default run.
DEFAULT_TRACKERS = ("eco-hc", "opencv-csrt", "opencv-kcf")
#: Synthetic frame sizes (width, height) of the default run.
DEFAULT_SIZES = ((640, 360), (1280, 720))
#: Environment variables holding the thread count of numerical libraries in worker processes.
THREAD_ENV_VARS = RUNNER_THREAD_ENV_VARS
#: Frame size (height) at which the synthetic target has its base size; it scales with the height.
SYNTHETIC_BASE_HEIGHT = 360
#: Synthetic target side sqrt(w h) at the base height, pixels (SceneConfig's default).
SYNTHETIC_BASE_TARGET = 50.0
#: On-screen size range of the synthetic target at the base height (SceneConfig's default).
SYNTHETIC_BASE_LIMITS = (24.0, 110.0)
#: Packages whose versions are recorded with the results.
RECORDED_PACKAGES = ("numpy", "numba", "scipy", "pyFFTW", "onnxruntime", "opencv-contrib-python-headless")
#: Frames of a ``synthetic-lt-WxH`` input unless set: enough for every default event of the
#: generator to fit (with 150 frames the occlusion is dropped and the out-of-view span may be).
LOSS_INPUT_FRAMES = 300
#: Event kind of the generator that takes the target out of the frame.
OUT_OF_VIEW_EVENT = "out_of_view"
#: Frames scanned (and mining rounds) per repeat by the long-term component measurement.
LONG_TERM_SCANS_PER_REPEAT = 5
#: Report format version (bump when keys change).
REPORT_VERSION = 2


class BenchError(DcfreError):
    """A benchmark worker process failed."""


@dataclass
class BenchConfig:
    """What to benchmark and how.

    Attributes
    ----------
    trackers : tuple of str
        Tracker specs (:mod:`dcfre.evaluation.trackers`); the reference ``opencv-csrt`` is in the
        default list.
    sizes : tuple of (width, height)
        One synthetic sequence per size, rendered once.
    frames : int
        Frames per synthetic sequence; sequence folders are cut to their first ``frames``
        frames as well (None: synthetic 150, folders whole).
    sequences : tuple of str
        Sequence folders (any layout of :func:`dcfre.io.open_source`) or dataset folders holding
        several of them; the first ground-truth box initializes the trackers.
    threads : {'1', 'all'}
        Thread count of numerical libraries in the workers: one, or the number of cores.
    repeats : int
        Timed runs per tracker and input; per-frame numbers are medians over them.
    warmup_frames : int
        Frames tracked by the untimed warm-up run before the timed runs.
    seed : int
        Seed of the synthetic sequences.
    measure_jit : bool
        Run the cold and cached JIT workers.
    measure_memory : bool
        Run the memory workers.
    synthetic_overrides : dict
        :class:`~dcfre.data.synthetic.SceneConfig` fields for the synthetic sequences. Default:
        no full occlusion and no out-of-view span, so the target stays visible and moving
        (fast motion, blur, scale and illumination changes stay on).
    worker_timeout_s : float
        Longest time a worker process may take, seconds.
    with_losses : bool
        Also render, per size, ``synthetic-lt-WxH``: the generator's default events (full
        occlusion, out-of-view span, ...) on, so the target is absent in some frames.
    loss_frames : int or None
        Frames of the ``synthetic-lt-WxH`` inputs (None: the larger of :data:`LOSS_INPUT_FRAMES`
        and ``frames``). Rendering fails if no out-of-view span with absent frames fits.
    """

    trackers: tuple[str, ...] = DEFAULT_TRACKERS
    sizes: tuple[tuple[int, int], ...] = DEFAULT_SIZES
    frames: int | None = None
    sequences: tuple[str, ...] = ()
    threads: str = "1"
    repeats: int = 3
    warmup_frames: int = 10
    seed: int = 0
    measure_jit: bool = True
    measure_memory: bool = True
    synthetic_overrides: dict = field(default_factory=lambda: {"n_occlusions": 0, "n_out_of_view": 0})
    worker_timeout_s: float = 3600.0
    with_losses: bool = False
    loss_frames: int | None = None

    #: frames per synthetic sequence when ``frames`` is None
    DEFAULT_SYNTHETIC_FRAMES = 150

    def validate(self) -> None:
        """Raise InputError on an unusable setting (unknown tracker included)."""
        from dcfre.evaluation.trackers import parse_spec

        if not self.trackers:
            raise InputError("no trackers given")
        for spec in self.trackers:
            parse_spec(spec)
        if len(set(self.trackers)) != len(self.trackers):
            raise InputError(f"a tracker is listed twice in {','.join(self.trackers)}")
        if not self.sizes and not self.sequences:
            raise InputError("nothing to run: give at least one size or one sequence folder")
        for width, height in self.sizes:
            if width < 32 or height < 32:
                raise InputError(f"frame size must be at least 32x32, got {width}x{height}")
        if self.frames is not None and self.frames < 2:
            raise InputError(f"frames must be at least 2, got {self.frames}")
        if self.threads not in ("1", "all"):
            raise InputError(f"threads must be '1' or 'all', got {self.threads!r}")
        if self.repeats < 1:
            raise InputError(f"repeats must be at least 1, got {self.repeats}")
        if self.warmup_frames < 0:
            raise InputError(f"warmup_frames must be >= 0, got {self.warmup_frames}")
        if self.loss_frames is not None and self.loss_frames < 2:
            raise InputError(f"loss_frames must be at least 2, got {self.loss_frames}")
        if self.with_losses and not self.sizes:
            raise InputError("with_losses needs at least one synthetic size")

    @property
    def synthetic_frames(self) -> int:
        return self.frames if self.frames is not None else self.DEFAULT_SYNTHETIC_FRAMES

    @property
    def loss_input_frames(self) -> int:
        """Frames of each ``synthetic-lt-WxH`` input."""
        if self.loss_frames is not None:
            return self.loss_frames
        return max(LOSS_INPUT_FRAMES, self.synthetic_frames)


# ---------------------------------------------------------------------------------------------
# Argument parsing helpers


def parse_size(text: str) -> tuple[int, int]:
    """``'640x360'`` -> ``(640, 360)`` (width, height)."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"invalid size {text!r}, expected WIDTHxHEIGHT such as 640x360") from None
    if width < 32 or height < 32:
        raise InputError(f"invalid size {text!r}: at least 32x32")
    return width, height


def parse_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """``'640x360,1280x720'`` -> ``((640, 360), (1280, 720))``; empty text -> no sizes."""
    return tuple(parse_size(part) for part in text.split(",") if part.strip())


def parse_trackers(text: str) -> tuple[str, ...]:
    """``'eco-hc, opencv-csrt'`` -> ``('eco-hc', 'opencv-csrt')`` (duplicates dropped)."""
    return tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def thread_count(threads: str) -> int:
    """Threads per worker: 1, or every core available to this process for ``'all'``."""
    if threads == "1":
        return 1
    if threads == "all":
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not Linux
            return max(1, os.cpu_count() or 1)
    raise InputError(f"threads must be '1' or 'all', got {threads!r}")


def thread_environment(count: int) -> dict[str, str]:
    """Environment variables limiting numerical libraries to ``count`` threads."""
    return {name: str(int(count)) for name in THREAD_ENV_VARS}


# ---------------------------------------------------------------------------------------------
# Inputs: frames rendered or decoded once, stored raw for the workers


@dataclass
class BenchInput:
    """Frames of one benchmark input, in memory.

    Attributes
    ----------
    name : str
        ``synthetic-640x360`` or the sequence folder's name.
    kind : {'synthetic', 'sequence'}
    frames : ndarray, shape (N, H, W, 3) or (N, H, W), uint8
    init_box : ndarray, shape (4,), float64
        ``x, y, w, h`` of the target in the first frame.
    source : str
        How the frames were made (generator settings or folder path).
    groundtruth : ndarray, shape (N, 4), float64, optional
        ``x, y, w, h`` per frame, NaN rows where the target is absent (synthetic inputs).
    events : list of dict, optional
        The generator's events (``kind``, ``start``, ``stop``, ... frame indices; synthetic inputs).
    """

    name: str
    kind: str
    frames: Any
    init_box: Any
    source: str
    groundtruth: Any = None
    events: list | None = None

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)``."""
        return int(self.frames.shape[2]), int(self.frames.shape[1])

    @property
    def absent_spans(self) -> list[tuple[int, int]] | None:
        """Runs of frames without a visible target, 1-based inclusive ``(first, last)``; None without ground truth."""
        if self.groundtruth is None:
            return None
        from dcfre.data._synth_script import absent_spans

        return absent_spans(self.groundtruth)


def synthetic_input(size: tuple[int, int], n_frames: int, seed: int = 0, overrides: dict | None = None,
                    name: str | None = None) -> BenchInput:
    """Render a synthetic sequence with a moving target, its size proportional to the frame height.

    Parameters
    ----------
    size : (width, height)
    n_frames : int
    seed : int
    overrides : dict, optional
        More :class:`~dcfre.data.synthetic.SceneConfig` fields.
    name : str, optional
        Input name (default ``synthetic-WxH``).
    """
    import numpy as np

    from dcfre.data.synthetic import make_sequence

    width, height = size
    scale = height / SYNTHETIC_BASE_HEIGHT
    settings = {
        "target_size": SYNTHETIC_BASE_TARGET * scale,
        "screen_size_limits": tuple(v * scale for v in SYNTHETIC_BASE_LIMITS),
        "name": name or f"synthetic-{width}x{height}",
    }
    settings.update(overrides or {})
    sequence = make_sequence(seed=seed, n_frames=n_frames, size=(width, height), **settings)
    frames = np.ascontiguousarray(np.stack(sequence.frames))
    described = ", ".join(f"{k}={v}" for k, v in sorted(settings.items()) if k != "name")
    source = f"dcfre.data.synthetic.make_sequence(seed={seed}, n_frames={n_frames}, size={width}x{height}, {described})"
    groundtruth = np.asarray(sequence.groundtruth, dtype=np.float64)
    events = [dict(event) for event in sequence.events]
    return BenchInput(settings["name"], "synthetic", frames, sequence.init_box, source, groundtruth, events)


def loss_input(size: tuple[int, int], n_frames: int = LOSS_INPUT_FRAMES, seed: int = 0) -> BenchInput:
    """``synthetic-lt-WxH``: a synthetic input with the generator's default events, target absent at times.

    The events (full occlusion, out-of-view span, fast motion, blur) are those of
    :class:`~dcfre.data.synthetic.SceneConfig`'s defaults; they start after its ``clear_start``
    frames and are dropped when they do not fit into ``n_frames``.

    Raises
    ------
    InputError
        No out-of-view span, or no frame with the target absent, fits into ``n_frames``.
    """
    width, height = size
    item = synthetic_input(size, n_frames, seed, name=f"synthetic-lt-{width}x{height}")
    item.source += ", default events"
    kinds = [event["kind"] for event in item.events or []]
    if OUT_OF_VIEW_EVENT not in kinds or not item.absent_spans:
        raise InputError(
            f"{item.name}: no out-of-view span with absent frames fits into {n_frames} frames; "
            f"use {LOSS_INPUT_FRAMES} frames or more"
        )
    return item


def sequence_inputs(path: str | Path, max_frames: int | None = None) -> list[BenchInput]:
    """Decode a sequence folder (or every sequence folder of a dataset folder) into memory.

    Raises
    ------
    InputError
        No ground truth to initialize from, or frames of different sizes.
    """
    from dcfre.errors import DatasetError
    from dcfre.io import open_source

    try:
        sources = [open_source(path)]
    except DatasetError:
        from dcfre.data.folder import load_folder

        sources = [_SequenceAsSource(seq) for seq in load_folder(path)]
    return [_decode_source(source, max_frames, str(path)) for source in sources]


class _SequenceAsSource:
    """A :class:`~dcfre.data.sequence.Sequence` seen through the FrameSource attributes used here."""

    def __init__(self, sequence) -> None:
        self.name = sequence.name
        self.groundtruth = sequence.groundtruth
        self._sequence = sequence

    def __iter__(self):
        return self._sequence.iter_frames()


def _decode_source(source, max_frames: int | None, origin: str) -> BenchInput:
    import numpy as np

    if source.groundtruth is None or len(source.groundtruth) == 0:
        raise InputError(f"sequence {source.name!r} ({origin}) has no ground truth to take the first box from")
    init_box = np.asarray(source.groundtruth[0], dtype=np.float64)
    if not np.isfinite(init_box).all() or init_box[2] <= 0 or init_box[3] <= 0:
        raise InputError(f"sequence {source.name!r}: the first ground-truth box {init_box.tolist()} is not a visible target")
    frames = []
    for index, frame in enumerate(source):
        if max_frames is not None and index >= max_frames:
            break
        if frames and frame.shape != frames[0].shape:
            raise InputError(f"sequence {source.name!r}: frame {index + 1} has shape {frame.shape}, the first {frames[0].shape}")
        frames.append(frame)
    if len(frames) < 2:
        raise InputError(f"sequence {source.name!r} has fewer than 2 frames")
    stacked = np.ascontiguousarray(np.stack(frames).astype(np.uint8, copy=False))
    return BenchInput(source.name, "sequence", stacked, init_box, origin)


def make_inputs(config: BenchConfig, log: Callable[[str], None] = lambda message: None) -> list[BenchInput]:
    """Render the synthetic inputs and decode the sequence folders of ``config``."""
    inputs = []
    for size in config.sizes:
        log(f"rendering synthetic {size[0]}x{size[1]}, {config.synthetic_frames} frames")
        inputs.append(synthetic_input(size, config.synthetic_frames, config.seed, config.synthetic_overrides))
        if config.with_losses:
            log(f"rendering synthetic-lt {size[0]}x{size[1]}, {config.loss_input_frames} frames, with losses")
            inputs.append(loss_input(size, config.loss_input_frames, config.seed))
    for path in config.sequences:
        log(f"decoding {path}")
        inputs.extend(sequence_inputs(path, config.frames))
    names = [item.name for item in inputs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(f"two inputs are named {duplicates[0]!r}")
    return inputs


def write_input(item: BenchInput, folder: Path, index: int) -> dict:
    """Store an input's frames as one raw uint8 file; returns its description for the workers."""
    path = Path(folder) / f"input{index:02d}.u8"
    item.frames.tofile(path)
    return {
        "name": item.name,
        "kind": item.kind,
        "path": str(path),
        "shape": [int(n) for n in item.frames.shape],
        "init_box": [float(v) for v in item.init_box],
        "source": item.source,
        "absent_spans": item.absent_spans,
        "absent_frames": None if item.absent_spans is None else sum(b - a + 1 for a, b in item.absent_spans),
        "events": item.events,
    }


def load_frames(description: dict, count: int | None = None):
    """Read the first ``count`` (default all) frames of a stored input, shape (N, H, W[, 3]) uint8."""
    import numpy as np

    shape = list(description["shape"])
    n = shape[0] if count is None else min(int(count), shape[0])
    frame_size = int(np.prod(shape[1:]))
    data = np.fromfile(description["path"], dtype=np.uint8, count=n * frame_size)
    return data.reshape([n] + shape[1:])


def stream_frames(description: dict):
    """Yield a stored input's frames one at a time (each a fresh array; no memory map)."""
    import numpy as np

    shape = list(description["shape"])
    frame_size = int(np.prod(shape[1:]))
    with open(description["path"], "rb") as handle:
        for _ in range(shape[0]):
            buffer = np.empty(frame_size, dtype=np.uint8)
            handle.readinto(memoryview(buffer))
            yield buffer.reshape(shape[1:])


# ---------------------------------------------------------------------------------------------
# Statistics


def percentile(values, q: float) -> float:
    """``q``-th percentile with linear interpolation (numpy's default method)."""
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def run_statistics(init_seconds: float, track_seconds) -> dict:
    """Summary of one timed run.

    Parameters
    ----------
    init_seconds : float
        Duration of ``initialize``.
    track_seconds : sequence of float
        Duration of each ``track`` call (frames 2..N).

    Returns
    -------
    dict
        ``frames`` (N), ``median_ms``, ``p95_ms``, ``mean_ms``, ``max_ms`` of the track calls,
        ``init_ms``, ``track_s`` (sum of the track calls), ``total_s`` (init + track),
        ``fps`` = N / total_s and ``track_fps`` = (N - 1) / track_s.
    """
    import numpy as np

    track = np.asarray(track_seconds, dtype=np.float64)
    if track.size == 0:
        raise InputError("a timed run needs at least one track call")
    total = float(init_seconds + track.sum())
    return {
        "frames": int(track.size + 1),
        "median_ms": 1e3 * float(np.median(track)),
        "p95_ms": 1e3 * percentile(track, 95),
        "mean_ms": 1e3 * float(track.mean()),
        "max_ms": 1e3 * float(track.max()),
        "init_ms": 1e3 * float(init_seconds),
        "track_s": float(track.sum()),
        "total_s": total,
        "fps": (track.size + 1) / total if total > 0 else float("inf"),
        "track_fps": track.size / float(track.sum()) if track.sum() > 0 else float("inf"),
    }


#: Keys of :func:`run_statistics` summarized by their median over repeats.
STAT_KEYS = ("median_ms", "p95_ms", "mean_ms", "max_ms", "init_ms", "track_s", "total_s")


def median_over_runs(runs: list[dict]) -> dict:
    """Median of every :data:`STAT_KEYS` value over runs (each key separately).

    ``fps`` and ``track_fps`` are computed from the median times (N / median ``total_s``), so
    that they stay consistent with them for an even number of runs too.
    """
    import numpy as np

    if not runs:
        raise InputError("no runs to summarize")
    summary = {key: float(np.median([run[key] for run in runs])) for key in STAT_KEYS}
    frames = runs[0]["frames"]
    summary["frames"] = frames
    summary["fps"] = frames / summary["total_s"] if summary["total_s"] > 0 else float("inf")
    summary["track_fps"] = (frames - 1) / summary["track_s"] if summary["track_s"] > 0 else float("inf")
    for key in ("lost_frames", "redetections"):
        if all(key in run for run in runs):
            summary[key] = float(np.median([run[key] for run in runs]))
    return summary


def time_run(tracker, frames, init_box) -> dict:
    """Run a fresh tracker over ``frames`` timing each call with ``perf_counter``.

    Returns :func:`run_statistics` plus ``lost_frames`` (track calls whose state says the
    target is not present) and ``redetections`` (states with mode ``'redetected'``).
    """
    import numpy as np

    box = np.asarray(init_box, dtype=np.float64)
    start = time.perf_counter()
    tracker.initialize(frames[0], box.copy())
    init_seconds = time.perf_counter() - start
    durations, states = [], []
    for frame in frames[1:]:
        start = time.perf_counter()
        state = tracker.track(frame)
        durations.append(time.perf_counter() - start)
        states.append(state)
    stats = run_statistics(init_seconds, durations)
    stats["lost_frames"] = sum(1 for state in states if getattr(state, "present", True) is False)
    stats["redetections"] = sum(1 for state in states if getattr(state, "mode", None) == "redetected")
    return stats


def has_long_term_components(tracker) -> bool:
    """Whether ``tracker`` (initialized) scans whole frames to re-detect: a dcfre tracker whose mode is not off."""
    return getattr(tracker, "scorer", None) is not None


def time_long_term_components(tracker, frames, count: int = LONG_TERM_SCANS_PER_REPEAT) -> dict:
    """Time one whole-frame re-detection scan and one hard-negative mining round of a tracker.

    What is timed mirrors the tracker: a re-detection attempt while the target is lost scans the
    frame at the tracker's current position and scale (``scorer.features``) and scores it with
    the local filters and, in global mode, the global filters (``scorer.score``); the global model
    is trained first (untimed) when it has no filters yet or new distractors, as the tracker does
    before an attempt. A mining round is the tracker's own (whole-frame scan with the local
    filters, distractor selection, distractor samples for the global model). The choice among
    re-detection candidates (a threshold and an argmax) is not included. The tracker's state is
    not advanced (no ``track`` calls), but mining rounds add distractors to its global model.

    Parameters
    ----------
    tracker : dcfre.tracker.Tracker
        Initialized (and best warmed up on a few frames), long-term mode ``local`` or ``global``.
    frames : sequence of ndarray, (H, W, 3) or (H, W) uint8
        Frames of the tracker's size, used in turn (cycled when fewer than ``count``).
    count : int
        Scans timed, and mining rounds timed (global mode).

    Returns
    -------
    dict
        ``redetect_ms`` and ``redetect_max_ms``: median and largest scan time, milliseconds;
        ``mining_ms`` and ``mining_max_ms`` (None without a global model); ``global_train_ms``:
        one training of the global model after the mining rounds (what a loss costs besides a
        mining round; None without a global model); ``count``; ``filter_sets`` scored per scan.

    Raises
    ------
    InputError
        The tracker has no whole-frame re-detection (mode off, not a dcfre tracker, or not
        initialized), no frames, or ``count`` < 1.
    """
    import numpy as np

    if not has_long_term_components(tracker):
        raise InputError("tracker has no whole-frame re-detection (long-term mode off, or not initialized)")
    if count < 1:
        raise InputError(f"count must be at least 1, got {count}")
    if len(frames) == 0:
        raise InputError("no frames to scan")
    scorer, global_model = tracker.scorer, tracker.global_model
    redetect, mining, train_ms = [], [], None
    with _tracker_call_context(tracker):
        if global_model is not None and (not global_model.filters or global_model.pending):
            global_model.train()  # as Tracker._search_lost_target does before an attempt
        filter_sets = [tracker.confidence_model.model.filters]
        if global_model is not None and global_model.filters:
            filter_sets.append(global_model.filters)
        for k in range(count):
            frame = frames[k % len(frames)]
            start = time.perf_counter()
            features = scorer.features(frame, tracker.scale, tracker.position)
            scorer.score(features, filter_sets)
            redetect.append(time.perf_counter() - start)
        if global_model is not None:
            for k in range(count):
                frame = frames[k % len(frames)]
                number = tracker.frame_number + 1 + k
                start = time.perf_counter()
                # private method of the tracker: one mining round, exactly as the tracker runs it
                tracker._mine(frame, tracker.position, tracker.scale, number)
                mining.append(time.perf_counter() - start)
            start = time.perf_counter()
            global_model.train()
            train_ms = 1e3 * (time.perf_counter() - start)
    return {
        "redetect_ms": 1e3 * float(np.median(redetect)),
        "redetect_max_ms": 1e3 * float(np.max(redetect)),
        "mining_ms": 1e3 * float(np.median(mining)) if mining else None,
        "mining_max_ms": 1e3 * float(np.max(mining)) if mining else None,
        "global_train_ms": train_ms,
        "count": int(count),
        "filter_sets": len(filter_sets),
    }


def _tracker_call_context(tracker):
    """The BLAS thread limit a dcfre tracker applies around its own calls (no-op if it has none)."""
    import contextlib

    from dcfre import tracker as tracker_module

    limit = getattr(getattr(tracker, "config", None), "blas_threads", None)
    limiter = getattr(tracker_module, "_blas_threads", None)  # private helper of dcfre.tracker
    return limiter(limit) if limiter is not None else contextlib.nullcontext()


def rotated(items: list, shift: int) -> list:
    """``items`` rotated left by ``shift`` (the tracker order of repeat ``shift``)."""
    if not items:
        return []
    k = shift % len(items)
    return items[k:] + items[:k]


# ---------------------------------------------------------------------------------------------
# Memory


def memory_snapshot_mb() -> dict:
    """Current and peak resident set size of this process, MiB.

    On Linux both come from ``/proc/self/status`` (``VmRSS``, ``VmHWM``): ``ru_maxrss`` is not
    used there because a process started with fork/vfork + exec inherits the parent's high-water
    mark in it. Elsewhere ``peak_mb`` is ``ru_maxrss`` and ``current_mb`` is None.
    """
    status = Path("/proc/self/status")
    if status.exists():
        values = {}
        for line in status.read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024.0  # kB -> MiB
        if "VmRSS" in values and "VmHWM" in values:
            return {"current_mb": values["VmRSS"], "peak_mb": values["VmHWM"], "method": "VmHWM"}
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0
    return {"current_mb": None, "peak_mb": peak_mb, "method": "ru_maxrss"}


# ---------------------------------------------------------------------------------------------
# Workers (run in fresh processes: ``python -m dcfre.evaluation.benchmark KIND JOB OUT``)


def _limit_threads_after_import(count: int) -> dict:
    """Apply the thread count to OpenCV and numba if imported (never imports them); returns what is in effect.

    ``OPENCV_FOR_THREADS_NUM`` and ``NUMBA_NUM_THREADS`` in the environment already set the same
    defaults; this also covers a library that reads them differently.
    """
    info: dict[str, Any] = {}
    if "cv2" in sys.modules:
        import cv2

        cv2.setNumThreads(int(count))
        info["opencv"] = int(cv2.getNumThreads())
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(max(1, min(int(count), numba.config.NUMBA_NUM_THREADS)))
        info["numba"] = int(numba.get_num_threads())
    info["env"] = {name: os.environ.get(name) for name in THREAD_ENV_VARS}
    return info


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def timing_worker(job: dict) -> dict:
    """Warm up, then time every tracker on every input ``repeats`` times (one process)."""
    import gc

    from dcfre.evaluation.trackers import build_tracker

    threads = int(job["threads"])
    specs = list(job["trackers"])
    inputs = [(desc, load_frames(desc)) for desc in job["inputs"]]
    _limit_threads_after_import(threads)
    runs: dict[str, dict[str, list]] = {spec: {desc["name"]: [] for desc in job["inputs"]} for spec in specs}
    errors: dict[str, str] = {}
    warmup = int(job["warmup_frames"])
    for spec in specs:
        for desc, frames in inputs:
            try:
                tracker = build_tracker(spec)
                _limit_threads_after_import(threads)
                tracker.initialize(frames[0], list(desc["init_box"]))
                for frame in frames[1 : 1 + warmup]:
                    tracker.track(frame)
            except Exception as exc:  # noqa: BLE001 - one broken tracker must not stop the others
                errors.setdefault(spec, _error_text(exc))
    thread_info = _limit_threads_after_import(threads)
    live = [spec for spec in specs if spec not in errors]
    for repeat in range(int(job["repeats"])):
        for desc, frames in inputs:
            for spec in rotated(live, repeat):
                if spec in errors:
                    continue
                try:
                    tracker = build_tracker(spec)
                    gc.collect()
                    runs[spec][desc["name"]].append(time_run(tracker, frames, desc["init_box"]))
                except Exception as exc:  # noqa: BLE001
                    errors[spec] = _error_text(exc)
    components, component_errors = {}, {}
    count = LONG_TERM_SCANS_PER_REPEAT * int(job["repeats"])
    for spec in [spec for spec in specs if spec not in errors]:
        for desc, frames in inputs:
            try:
                result = _long_term_components_on(spec, desc, frames, warmup, count, threads)
            except Exception as exc:  # noqa: BLE001
                component_errors[f"{spec} on {desc['name']}"] = _error_text(exc)
                continue
            if result is not None:
                components.setdefault(spec, {})[desc["name"]] = result
    return {"runs": runs, "errors": errors, "threads": thread_info,
            "long_term": components, "long_term_errors": component_errors}


def _long_term_components_on(spec: str, desc: dict, frames, warmup: int, count: int, threads: int) -> dict | None:
    """:func:`time_long_term_components` on a fresh tracker warmed up on ``frames``; None without re-detection."""
    from dcfre.evaluation.trackers import build_tracker

    tracker = build_tracker(spec)
    _limit_threads_after_import(threads)
    tracker.initialize(frames[0], list(desc["init_box"]))
    if not has_long_term_components(tracker):
        return None
    warm = min(warmup, len(frames) - 2)
    for frame in frames[1 : 1 + warm]:
        tracker.track(frame)
    return time_long_term_components(tracker, frames[1 + warm :], count)


def jit_worker(job: dict) -> dict:
    """Time ``import + build + first initialize + first track`` of one tracker in this fresh process."""
    frames = load_frames(job["input"], 2)
    box = list(job["input"]["init_box"])
    memory_before = memory_snapshot_mb()
    start = time.perf_counter()
    from dcfre.evaluation.trackers import build_tracker

    tracker = build_tracker(job["tracker"])
    built = time.perf_counter()
    tracker.initialize(frames[0], box)
    initialized = time.perf_counter()
    tracker.track(frames[1])
    tracked = time.perf_counter()
    return {
        "import_s": built - start,
        "initialize_s": initialized - built,
        "track_s": tracked - initialized,
        "total_s": tracked - start,
        "peak_mb": memory_snapshot_mb()["peak_mb"],
        "baseline_mb": memory_before["peak_mb"],
        "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR"),
    }


def memory_worker(job: dict) -> dict:
    """Peak resident memory of this fresh process while one tracker runs over one input."""
    import numpy as np

    frames = stream_frames(job["input"])
    first = next(frames)
    before = memory_snapshot_mb()
    from dcfre.evaluation.trackers import build_tracker

    tracker = build_tracker(job["tracker"])
    _limit_threads_after_import(int(job["threads"]))
    tracker.initialize(first, np.asarray(job["input"]["init_box"], dtype=np.float64))
    count = 1
    for frame in frames:
        tracker.track(frame)
        count += 1
    after = memory_snapshot_mb()
    baseline = before["current_mb"] if before["current_mb"] is not None else before["peak_mb"]
    return {
        "peak_rss_mb": after["peak_mb"],
        "baseline_rss_mb": baseline,
        "tracker_rss_mb": max(0.0, after["peak_mb"] - baseline),
        "frames": count,
        "method": after["method"],
    }


WORKERS = {"timing": timing_worker, "jit": jit_worker, "memory": memory_worker}


def _worker_main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in WORKERS:
        print(f"usage: python -m dcfre.evaluation.benchmark {{{'|'.join(WORKERS)}}} JOB.json OUT.json", file=sys.stderr)
        return 2
    kind, job_path, out_path = argv
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    result = WORKERS[kind](job)
    Path(out_path).write_text(json.dumps(result), encoding="utf-8")
    return 0


# ---------------------------------------------------------------------------------------------
# Orchestration (caller side)


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def worker_environment(threads: int, extra: dict | None = None) -> dict[str, str]:
    """Environment of a worker: ours, dcfre importable, thread limits, plus ``extra``."""
    env = dict(os.environ)
    root = _package_root()
    existing = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = root + (os.pathsep + existing if existing else "")
    env.update(thread_environment(threads))
    env.update(extra or {})
    return env


def run_worker(kind: str, job: dict, folder: Path, env: dict, timeout: float) -> dict:
    """Run one worker process and return its JSON output, with its wall time as ``process_s``.

    Raises
    ------
    BenchError
        The process failed or timed out (message: the last line of its stderr).
    """
    folder = Path(folder)
    fd, job_name = tempfile.mkstemp(dir=folder, prefix=f"{kind}-", suffix=".job.json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(job, handle)
    out_path = Path(job_name[: -len(".job.json")] + ".out.json")
    command = [sys.executable, "-m", "dcfre.evaluation.benchmark", kind, job_name, str(out_path)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{kind} worker did not finish in {timeout:.0f} s") from None
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or not out_path.exists():
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise BenchError(f"{kind} worker failed (exit {done.returncode}): {lines[-1] if lines else 'no message'}")
    result = json.loads(out_path.read_text(encoding="utf-8"))
    result["process_s"] = elapsed
    return result


def machine_info() -> dict:
    """Host, cores, Python and package versions (without importing the packages)."""
    versions = {}
    for package in RECORDED_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "host": platform.node(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "packages": versions,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }


def load_average() -> list[float] | None:
    """``os.getloadavg()`` (1, 5, 15 min), None where unavailable."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _assemble(config: BenchConfig, descriptions: list[dict], timing: dict, jit: dict, memory: dict) -> list[dict]:
    """One result row per (input, tracker) with medians over repeats and the CSRT ratio."""
    rows = []
    for desc in descriptions:
        name = desc["name"]
        summaries = {}
        for spec in config.trackers:
            runs = timing["runs"].get(spec, {}).get(name, [])
            summaries[spec] = median_over_runs(runs) if runs else None
        reference = summaries.get(REFERENCE_TRACKER)
        for spec in config.trackers:
            row: dict[str, Any] = {"input": name, "tracker": spec}
            summary = summaries[spec]
            if summary is not None:
                row.update(summary)
                row["ratio_to_csrt"] = summary["fps"] / reference["fps"] if reference else None
                row["repeats"] = timing["runs"][spec][name]
            else:
                row["error"] = timing["errors"].get(spec, "not run")
            row.update(memory.get((spec, name), {}))
            long_term = timing.get("long_term", {}).get(spec, {}).get(name)
            row["long_term"] = long_term
            row["redetect_ms"] = long_term["redetect_ms"] if long_term else None
            row["mining_ms"] = long_term["mining_ms"] if long_term else None
            tracker_jit = jit.get(spec, {})
            row["jit_cold_s"] = tracker_jit.get("cold", {}).get("total_s")
            row["jit_cached_s"] = tracker_jit.get("cached", {}).get("total_s")
            rows.append(row)
    return rows


def run_benchmark(config: BenchConfig, log: Callable[[str], None] = lambda message: None, command: str | None = None) -> dict:
    """Run the whole benchmark (see the module docstring) and return the report.

    Parameters
    ----------
    config : BenchConfig
    log : callable
        Receives one-line progress messages.
    command : str, optional
        Command line recorded in the report.

    Returns
    -------
    dict
        JSON-ready: ``version``, ``command``, ``started``, ``wall_s``, ``machine``, ``load``
        (``start``/``timing_start``/``end`` triples of ``os.getloadavg``), ``config``,
        ``threads`` (requested, count, what the timing worker had in effect), ``inputs``,
        ``results`` (one row per input and tracker: ``median_ms``, ``p95_ms``, ``mean_ms``,
        ``max_ms``, ``init_ms``, ``fps``, ``track_fps``, ``total_s``, ``frames``,
        ``ratio_to_csrt``, ``lost_frames`` and ``redetections`` (states reported per run,
        median), ``repeats`` (each run's numbers), ``peak_rss_mb``,
        ``tracker_rss_mb``, ``baseline_rss_mb``, ``jit_cold_s``, ``jit_cached_s``,
        ``redetect_ms`` and ``mining_ms`` (None for a tracker without whole-frame re-detection
        or without mining) and ``long_term`` (:func:`time_long_term_components`' dict or None);
        or ``error``), ``jit`` (per tracker: ``cold`` and ``cached`` with ``import_s``,
        ``initialize_s``, ``track_s``, ``total_s``, ``process_s``) and ``errors``. ``inputs``
        entries of synthetic inputs have ``absent_spans``, ``absent_frames`` and ``events``.
    """
    config.validate()
    started = time.time()
    wall_start = time.perf_counter()
    load_start = load_average()
    threads = thread_count(config.threads)
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="dcfre-bench-") as tmp:
        folder = Path(tmp)
        inputs = make_inputs(config, log)
        descriptions = [write_input(item, folder, k) for k, item in enumerate(inputs)]
        del inputs
        env = worker_environment(threads)
        load_timing = load_average()
        log(f"timing {len(config.trackers)} tracker(s) on {len(descriptions)} input(s), {config.repeats} repeat(s)")
        timing_job = {
            "trackers": list(config.trackers),
            "inputs": descriptions,
            "repeats": config.repeats,
            "warmup_frames": config.warmup_frames,
            "threads": threads,
        }
        timing = run_worker("timing", timing_job, folder, env, config.worker_timeout_s)
        errors.update({f"timing {spec}": text for spec, text in timing["errors"].items()})
        errors.update({f"long-term {key}": text for key, text in timing.get("long_term_errors", {}).items()})
        jit = measure_jit(config, descriptions[0], folder, threads, log, errors) if config.measure_jit else {}
        memory = measure_memory(config, descriptions, folder, env, log, errors) if config.measure_memory else {}
        rows = _assemble(config, descriptions, timing, jit, memory)
    load_end = load_average()
    config_dict = asdict(config)
    config_dict["frames_synthetic"] = config.synthetic_frames
    config_dict["frames_loss_input"] = config.loss_input_frames if config.with_losses else None
    return {
        "version": REPORT_VERSION,
        "command": command,
        "started": datetime.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "wall_s": time.perf_counter() - wall_start,
        "machine": machine_info(),
        "load": {"start": load_start, "timing_start": load_timing, "end": load_end},
        "config": config_dict,
        "reference": REFERENCE_TRACKER if REFERENCE_TRACKER in config.trackers else None,
        "threads": {"requested": config.threads, "count": threads, "timing_worker": timing.get("threads")},
        "inputs": [{k: v for k, v in d.items() if k != "path"} for d in descriptions],
        "results": rows,
        "jit": jit,
        "errors": errors,
    }


def measure_jit(config: BenchConfig, description: dict, folder: Path, threads: int, log, errors: dict) -> dict:
    """Cold and cached ``import + initialize + first track`` per tracker (two fresh processes each)."""
    results = {}
    for spec in config.trackers:
        cache = Path(tempfile.mkdtemp(prefix="numba-cache-", dir=folder))
        env = worker_environment(threads, {"NUMBA_CACHE_DIR": str(cache)})
        job = {"tracker": spec, "input": description}
        results[spec] = {}
        for state in ("cold", "cached"):
            log(f"JIT {state}: {spec}")
            try:
                results[spec][state] = run_worker("jit", job, folder, env, config.worker_timeout_s)
            except BenchError as exc:
                errors[f"jit {state} {spec}"] = str(exc)
                break
    return results


def measure_memory(config: BenchConfig, descriptions: list[dict], folder: Path, env: dict, log, errors: dict) -> dict:
    """Peak RSS of one fresh process per tracker and input, keyed by ``(tracker, input name)``."""
    results = {}
    threads = int(env[THREAD_ENV_VARS[0]])
    for desc in descriptions:
        for spec in config.trackers:
            log(f"memory: {spec} on {desc['name']}")
            job = {"tracker": spec, "input": desc, "threads": threads}
            try:
                out = run_worker("memory", job, folder, env, config.worker_timeout_s)
            except BenchError as exc:
                errors[f"memory {spec} {desc['name']}"] = str(exc)
                continue
            results[(spec, desc["name"])] = {
                "peak_rss_mb": out["peak_rss_mb"],
                "tracker_rss_mb": out["tracker_rss_mb"],
                "baseline_rss_mb": out["baseline_rss_mb"],
                "memory_method": out["method"],
            }
    return results


# ---------------------------------------------------------------------------------------------
# Output


def _fmt(value, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and math.isnan(value):
        return "—"
    return f"{value:.{digits}f}{suffix}"


def format_markdown(report: dict) -> str:
    """The report as Markdown: conditions, a per-input speed table and a start-up table."""
    threads = report["threads"]
    load = report["load"]
    machine = report["machine"]
    config = report["config"]
    conditions = (
        f"Machine: {machine['processor']}, {machine['cpu_count']} cores, Python {machine['python']}; "
        f"threads per tracker: {threads['requested']} ({threads['count']}); repeats: {config['repeats']} "
        f"(median shown); warm-up: {config['warmup_frames']} frames"
    )
    lines = [
        conditions,
        f"Load average (1/5/15 min): start {_load_text(load['start'])}, end {_load_text(load['end'])}",
        "",
        "| input | tracker | median ms | p95 ms | FPS | track FPS | × CSRT | first frame ms | peak RSS MB | tracker RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    absent = {item["name"]: item.get("absent_frames") for item in report["inputs"]}
    for row in report["results"]:
        if "error" in row:
            lines.append(f"| {row['input']} | {row['tracker']} | error: {row['error']} | | | | | | | |")
            continue
        ratio = row.get("ratio_to_csrt")
        lines.append(
            f"| {row['input']} ({row['frames']} fr{_absent_text(absent.get(row['input']))}) | {row['tracker']} | {_fmt(row['median_ms'], 2)} | "
            f"{_fmt(row['p95_ms'], 2)} | {_fmt(row['fps'], 1)} | {_fmt(row['track_fps'], 1)} | {_fmt(ratio, 2, '×')} | {_fmt(row['init_ms'], 1)} | "
            f"{_fmt(row.get('peak_rss_mb'), 0)} | {_fmt(row.get('tracker_rss_mb'), 0)} |"
        )
    lines += _long_term_table(report)
    if report["jit"]:
        first_input = report["inputs"][0]["name"] if report["inputs"] else "?"
        lines += [
            "",
            f"Start-up (import + first initialize + first track, fresh process, on {first_input}):",
            "",
            "| tracker | JIT cold s | JIT cached s | cold: import / init / track s | cached: import / init / track s |",
            "|---|---|---|---|---|",
        ]
        for spec, states in report["jit"].items():
            cold, cached = states.get("cold", {}), states.get("cached", {})
            lines.append(
                f"| {spec} | {_fmt(cold.get('total_s'), 2)} | {_fmt(cached.get('total_s'), 2)} | "
                f"{_split_text(cold)} | {_split_text(cached)} |"
            )
    lines += [
        "",
        (
            "median/p95 ms: track() calls; FPS = frames / (initialize + track seconds); track FPS = track calls / "
            "their seconds; × CSRT = FPS / OpenCV CSRT's FPS on the same input; peak RSS: high-water mark of a fresh "
            "process running only that tracker on that input (tracker RSS = increase over the process before the "
            "tracker was imported)."
        ),
    ]
    if any(row.get("long_term") for row in report["results"]):
        lines.append(
            "re-detection ms: one whole-frame scan (features + local and global filter scores) as while the target "
            "is lost; mining ms: one hard-negative mining round (global mode); medians over "
            f"{LONG_TERM_SCANS_PER_REPEAT} x repeats frames after the warm-up, measured apart from the timed runs."
        )
    if any(item.get("absent_frames") for item in report["inputs"]):
        lines.append(
            "synthetic-lt inputs: the target is absent (occluded or out of view) in some frames; their per-frame "
            "times include lost frames, re-detection attempts and mining."
        )
    for key, text in report.get("errors", {}).items():
        lines.append(f"error ({key}): {text}")
    return "\n".join(lines)


def _absent_text(frames: int | None) -> str:
    return f", {frames} absent" if frames else ""


def _long_term_table(report: dict) -> list[str]:
    """Lines of the long-term component table (none when no tracker re-detects)."""
    rows = [row for row in report["results"] if row.get("long_term")]
    if not rows:
        return []
    lines = [
        "",
        "Long-term components: whole-frame re-detection and mining round, median ms",
        "",
        "| input | tracker | re-detection ms | mining ms | lost frames / re-detections per timed run |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lost = f"{_fmt(row.get('lost_frames'), 0)} / {_fmt(row.get('redetections'), 0)}"
        lines.append(
            f"| {row['input']} | {row['tracker']} | {_fmt(row['redetect_ms'], 1)} | {_fmt(row['mining_ms'], 1)} | {lost} |"
        )
    return lines


def _load_text(load) -> str:
    return "n/a" if load is None else " / ".join(f"{v:.2f}" for v in load)


def _split_text(state: dict) -> str:
    if not state:
        return "—"
    return " / ".join(_fmt(state.get(key), 2) for key in ("import_s", "initialize_s", "track_s"))


def _json_ready(value):
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_report(report: dict, path: str | Path) -> Path:
    """Write the report as JSON (atomic; NaN and infinities as null)."""
    from dcfre.io import atomic_write_text

    path = Path(path)
    atomic_write_text(path, json.dumps(_json_ready(report), indent=2) + "\n")
    return path


def command_line(argv: Iterable[str] | None = None, prefix: str = "python -m dcfre") -> str:
    """The command that produced a report, shell-quoted."""
    args = list(sys.argv[1:] if argv is None else argv)
    return prefix + (" " + shlex.join(args) if args else "")


if __name__ == "__main__":
    raise SystemExit(_worker_main(sys.argv[1:]))
