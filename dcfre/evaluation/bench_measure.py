"""Benchmark measurements, run inside the worker processes: per-frame timing, long-term components,
JIT start-up and peak memory (``python -m dcfre.evaluation.benchmark KIND JOB OUT``).

Standard library only at module level: workers import this module before their thread environment
takes effect in numpy and friends (see :mod:`dcfre.evaluation.benchmark`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from dcfre.errors import InputError
from dcfre.evaluation.bench_config import LONG_TERM_SCANS_PER_REPEAT, THREAD_ENV_VARS
from dcfre.evaluation.bench_inputs import load_frames, stream_frames


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
