"""Whole-process benchmark: one fresh process per tracker and sequence, as a user or the VOT toolkit runs it.

The in-process benchmark (:mod:`dcfre.evaluation.benchmark`) times tracker calls on frames held in
memory. A caller that starts one process per sequence also pays the interpreter start, the imports,
loading the JIT cache, decoding the frames and writing the results. Here every run is a fresh process:

- a dcfre spec ``PRESET`` or ``PRESET:MODE`` runs ``python -m dcfre track SEQUENCE --preset PRESET
  [--redetect MODE] --quiet --out FILE``, the command users run;
- an OpenCV baseline (``opencv-csrt``, ``opencv-kcf``) runs ``python -m dcfre.evaluation.bench_process
  SPEC SEQUENCE FILE``: the same loop as ``dcfre track`` (same frame decoding read ahead, one result line
  written and flushed per frame) around :class:`~dcfre.evaluation.baselines.OpenCVTracker`.

Both therefore decode the same frames with the same decoder (:func:`dcfre.frames.read_frame`: OpenCV's
libjpeg-turbo for JPEG, in a reader thread); the baseline's only extra per-frame work is the RGB -> BGR
conversion OpenCV's trackers expect (~0.2 ms at 640x480, about 1 % of a CSRT frame).

The caller watches the result file (every :data:`POLL_SECONDS`) and notes when each line appears. Per run:

- ``first_result_s``: process start to the first result line (start-up: interpreter, imports, JIT cache
  load; then decoding and initializing on the first frame);
- ``wall_s``: process start to exit; ``fps`` = frames / ``wall_s``, the whole-process rate;
- ``steady_fps``: (frames - 1) / (last line time - first line time), the rate once running;
- ``cpu_s``: the process's user + system CPU seconds.

Runs are repeated ``repeats`` times, trackers interleaved and their order rotated between repeats
(machine load drifts affect all alike); the medians are reported with ``fps`` relative to OpenCV CSRT's
on the same sequence. Numerical libraries get one thread (``threads='1'``) or all cores, as in the
in-process benchmark. Standard library only at module level.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dcfre.errors import InputError
from dcfre.evaluation.bench_config import REFERENCE_TRACKER, BenchConfig, BenchError, thread_count
from dcfre.evaluation.bench_inputs import synthetic_scene_settings
from dcfre.evaluation.bench_measure import rotated

#: Seconds between two looks at the result file of a running process (bounds the time resolution).
POLL_SECONDS = 0.002
#: Per-run numbers whose median is reported.
RUN_KEYS = ("first_result_s", "wall_s", "steady_fps", "cpu_s")


@dataclass(frozen=True)
class ProcessInput:
    """A sequence folder tracked by every process.

    Attributes
    ----------
    name : str
    folder : Path
        Any layout :func:`dcfre.io.open_source` reads, with ground truth (the first box initializes).
    """

    name: str
    folder: Path


def process_inputs(config: BenchConfig, workdir: Path, log=lambda message: None) -> list[ProcessInput]:
    """The sequence folders of a whole-process run: one synthetic folder per size, written as JPEG into
    ``workdir``, then the given sequence folders (dataset folders expand to their sequences)."""
    inputs = []
    if config.sizes:
        from dcfre.data.synthetic import SceneConfig, write_sequence

        for width, height in config.sizes:
            log(f"writing synthetic-{width}x{height} ({config.synthetic_frames} frames)")
            settings = synthetic_scene_settings((width, height), config.synthetic_overrides)
            scene = SceneConfig(seed=config.seed, n_frames=config.synthetic_frames, width=width, height=height, **settings)
            inputs.append(ProcessInput(scene.name, write_sequence(scene, workdir)))
    for path in config.sequences:
        inputs += [ProcessInput(folder.name, folder) for folder in _sequence_folders(Path(path))]
    if not inputs:
        raise InputError("nothing to run: give at least one size or one sequence folder")
    return inputs


def _sequence_folders(path: Path) -> list[Path]:
    from dcfre.data.folder import load_folder

    folders = []
    for sequence in load_folder(path):
        folder = Path(sequence.frames[0]).parent
        folder = folder.parent if folder.name in ("img", "color") else folder
        if folder not in folders:
            folders.append(folder)
    return folders


def track_command(spec: str, folder: Path, out: Path, max_frames: int | None = None) -> list[str]:
    """The command line of one run (see the module docstring)."""
    from dcfre.evaluation.trackers import BASELINES, parse_spec

    base, mode = parse_spec(spec)
    if base in BASELINES:
        command = [sys.executable, "-m", "dcfre.evaluation.bench_process", spec, str(folder), str(out)]
    else:
        command = [sys.executable, "-m", "dcfre", "track", str(folder), "--preset", base, "--quiet", "--out", str(out)]
        if mode is not None:
            command += ["--redetect", mode]
    if max_frames is not None:
        command += ["--max-frames", str(max_frames)]
    return command


def run_process(command: list[str], out: Path, env: dict, timeout: float) -> dict:
    """Run one tracking process and time it from outside (see the module docstring for the keys).

    Raises
    ------
    BenchError
        The process failed, timed out or wrote no result line.
    """
    out.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    line_times, size, newlines = [], 0, 0
    while True:
        done = process.poll() is not None
        now = time.perf_counter() - start
        size, newlines = _new_lines(out, size, newlines, now, line_times)
        if done:
            break
        if now > timeout:
            process.kill()
            process.wait()
            raise BenchError(f"{' '.join(command[1:4])} ... did not finish in {timeout:.0f} s")
        time.sleep(POLL_SECONDS)
    wall = time.perf_counter() - start
    stderr = process.stderr.read().decode("utf-8", "replace")
    process.stderr.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0 or not line_times:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        raise BenchError(f"exit {process.returncode}: {lines[-1] if lines else 'no result line written'}")
    frames = len(line_times)
    span = line_times[-1] - line_times[0]
    return {
        "frames": frames,
        "first_result_s": line_times[0],
        "wall_s": wall,
        "fps": frames / wall,
        "steady_fps": (frames - 1) / span if span > 0 else float("inf"),
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
    }


def _new_lines(out: Path, size: int, newlines: int, now: float, line_times: list) -> tuple[int, int]:
    """Note the time ``now`` for every line completed in ``out`` since the last look."""
    try:
        current = out.stat().st_size
    except FileNotFoundError:
        return size, newlines
    if current == size:
        return size, newlines
    with open(out, "rb") as handle:
        handle.seek(size)
        chunk = handle.read(current - size)
    count = chunk.count(b"\n")
    line_times.extend([now] * count)
    return size + len(chunk), newlines + count


def run_whole_process(config: BenchConfig, log=lambda message: None) -> dict:
    """Run every tracker on every input, ``config.repeats`` times, each in a fresh process.

    Returns
    -------
    dict
        ``inputs`` (name, folder), ``results`` (one row per input and tracker: the medians of
        :data:`RUN_KEYS`, ``frames``, ``fps`` = frames / median ``wall_s``, ``ratio_to_csrt`` and
        ``runs``; or ``error``), ``threads`` and ``errors``.
    """
    from dcfre.evaluation.benchmark import worker_environment

    config.validate()
    threads = thread_count(config.threads)
    env = worker_environment(threads)
    runs: dict[tuple[str, str], list[dict]] = {}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="dcfre-bench-process-") as tmp:
        workdir = Path(tmp)
        inputs = process_inputs(config, workdir, log)
        out = workdir / "result.txt"
        for repeat in range(config.repeats):
            for item in inputs:
                for spec in rotated(list(config.trackers), repeat):
                    key = f"{spec} {item.name}"
                    if key in errors:
                        continue
                    log(f"whole process {repeat + 1}/{config.repeats}: {spec} on {item.name}")
                    command = track_command(spec, item.folder, out, config.frames)
                    try:
                        runs.setdefault((spec, item.name), []).append(
                            run_process(command, out, env, config.worker_timeout_s)
                        )
                    except BenchError as exc:
                        errors[key] = str(exc)
    rows = [_summary_row(item.name, spec, runs, errors, config.trackers) for item in inputs for spec in config.trackers]
    return {
        "inputs": [{"name": item.name, "folder": str(item.folder)} for item in inputs],
        "results": rows,
        "threads": {"requested": config.threads, "count": threads},
        "errors": errors,
    }


def _summary_row(name: str, spec: str, runs: dict, errors: dict, trackers) -> dict:
    row = {"input": name, "tracker": spec}
    mine = runs.get((spec, name))
    if not mine or f"{spec} {name}" in errors:
        row["error"] = errors.get(f"{spec} {name}", "not run")
        return row
    row.update(_medians(mine))
    reference = runs.get((REFERENCE_TRACKER, name)) if REFERENCE_TRACKER in trackers else None
    row["ratio_to_csrt"] = row["fps"] / _medians(reference)["fps"] if reference else None
    row["runs"] = mine
    return row


def _medians(runs: list[dict]) -> dict:
    summary = {key: statistics.median(run[key] for run in runs) for key in RUN_KEYS}
    summary["frames"] = runs[0]["frames"]
    summary["fps"] = summary["frames"] / summary["wall_s"]
    return summary


def format_whole_process(report: dict) -> str:
    """Markdown table of :func:`run_whole_process`'s report."""
    from dcfre.evaluation.bench_report import format_value

    lines = [
        f"Whole process (fresh process per run; threads per tracker: {report['threads']['requested']}; median shown)",
        "",
        "| input | tracker | first result s | wall s | FPS | × CSRT | steady FPS | CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["results"]:
        if "error" in row:
            lines.append(f"| {row['input']} | {row['tracker']} | error: {row['error']} | | | | | |")
            continue
        lines.append(
            f"| {row['input']} ({row['frames']} fr) | {row['tracker']} | {format_value(row['first_result_s'], 2)} | "
            f"{format_value(row['wall_s'], 2)} | {format_value(row['fps'], 1)} | {format_value(row['ratio_to_csrt'], 2, '×')} | "
            f"{format_value(row['steady_fps'], 1)} | {format_value(row['cpu_s'], 2)} |"
        )
    lines += [
        "",
        "first result s: process start to the first result line (start-up + first frame); FPS = frames / wall s "
        "(the whole process); × CSRT = FPS / OpenCV CSRT's FPS on the same sequence; steady FPS = frames after the "
        "first / the time between the first and the last result line.",
    ]
    for key, text in report.get("errors", {}).items():
        lines.append(f"error ({key}): {text}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# An OpenCV baseline run the way ``dcfre track`` runs (the process started by track_command)


def track_baseline(spec: str, folder: str, out: str, max_frames: int | None = None) -> int:
    """Track ``folder`` with an OpenCV baseline, writing one result line per frame to ``out``."""
    from dcfre.evaluation.baselines import OpenCVTracker
    from dcfre.evaluation.trackers import BASELINES
    from dcfre.io import ResultWriter, open_source
    from dcfre.prefetch import read_ahead

    if spec not in BASELINES:
        raise InputError(f"not an OpenCV baseline: {spec!r} (expected one of {', '.join(BASELINES)})")
    source = open_source(folder)
    tracker = OpenCVTracker(BASELINES[spec], threads=int(os.environ.get("OMP_NUM_THREADS", "1")))
    frames = read_ahead(source)
    try:
        with ResultWriter(out) as results:
            for index, frame in enumerate(frames):
                if max_frames is not None and index >= max_frames:
                    break
                state = tracker.initialize(frame, source.groundtruth[0]) if index == 0 else tracker.track(frame)
                results.write(state.box, state.confidence, state.present)
    finally:
        frames.close()
    return 0


def _main(argv: list[str]) -> int:
    if len(argv) == 5 and argv[3] == "--max-frames":
        return track_baseline(argv[0], argv[1], argv[2], int(argv[4]))
    if len(argv) != 3:
        print("usage: python -m dcfre.evaluation.bench_process SPEC SEQUENCE OUT [--max-frames N]", file=sys.stderr)
        return 2
    return track_baseline(*argv)


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
