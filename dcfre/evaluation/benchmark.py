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

Modules: :mod:`~dcfre.evaluation.bench_config` (settings, defaults, option parsing),
:mod:`~dcfre.evaluation.bench_inputs` (frames rendered or decoded once, stored raw),
:mod:`~dcfre.evaluation.bench_measure` (what the worker processes measure),
:mod:`~dcfre.evaluation.bench_report` (Markdown and JSON output),
:mod:`~dcfre.evaluation.bench_process` (the whole-process mode) and this one (running the workers and
assembling the report; it re-exports the public names of the others).
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dcfre.evaluation.bench_config import (  # noqa: F401  (re-exported: the benchmark's API)
    BenchConfig,
    BenchError,
    DEFAULT_SIZES,
    DEFAULT_TRACKERS,
    LONG_TERM_SCANS_PER_REPEAT,
    LOSS_INPUT_FRAMES,
    OUT_OF_VIEW_EVENT,
    RECORDED_PACKAGES,
    REFERENCE_TRACKER,
    REPORT_VERSION,
    SYNTHETIC_BASE_HEIGHT,
    SYNTHETIC_BASE_LIMITS,
    SYNTHETIC_BASE_TARGET,
    THREAD_ENV_VARS,
    parse_size,
    parse_sizes,
    parse_trackers,
    thread_count,
    thread_environment,
)
from dcfre.evaluation.bench_inputs import (  # noqa: F401  (re-exported: the benchmark's API)
    BenchInput,
    load_frames,
    loss_input,
    make_inputs,
    sequence_inputs,
    stream_frames,
    synthetic_input,
    write_input,
)
from dcfre.evaluation.bench_measure import (  # noqa: F401  (re-exported: the benchmark's API)
    STAT_KEYS,
    WORKERS,
    _worker_main,
    has_long_term_components,
    jit_worker,
    median_over_runs,
    memory_snapshot_mb,
    memory_worker,
    percentile,
    rotated,
    run_statistics,
    time_long_term_components,
    time_run,
    timing_worker,
)
from dcfre.evaluation.bench_report import (  # noqa: F401  (re-exported: the benchmark's API)
    command_line,
    format_markdown,
    load_average,
    machine_info,
    write_report,
)


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


if __name__ == "__main__":
    raise SystemExit(_worker_main(sys.argv[1:]))
