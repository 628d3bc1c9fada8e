"""Accuracy and speed of several trackers on real sequence folders.

Usage::

    python scripts/compare_on_sequences.py /work/shared/sequences --trackers eco-hc,opencv-csrt,opencv-kcf
        [--out-dir DIR] [--json FILE] [--max-frames N] [--threads 1|all] [--workers W] [--no-warmup]
        [--reference README.md]

Each PATH is a sequence folder or a folder of sequence folders (any layout of
:mod:`dcfre.data.folder`). Every tracker is initialized with the first ground-truth box and
runs through :func:`dcfre.evaluation.runner.run_experiment` (results in ``--out-dir``, which
makes the run resumable, or in a temporary folder). Scores, per sequence:

- success AUC: mean over the 21 IoU thresholds ``0, 0.05, ..., 1`` of the fraction of frames
  with IoU above the threshold; DP@20: fraction of frames with centre error <= 20 px
  (:mod:`dcfre.evaluation.metrics`, frames whose ground truth is absent excluded, every other
  frame scored including the first);
- FPS: frames / tracker seconds (``initialize`` + ``track`` calls, no image decoding).

``--reference FILE`` reads reference scores from the Markdown tables of FILE (e.g. the README of
the shared sequences folder: rows ``| tracker | ... |`` whose columns are sequence names, full or
the part after the dataset prefix, with cells such as ``0.53`` or ``0.53 (0.79)``) and prints them
beside the measured rows, each with the measured trackers' mean over the same sequences.

Per tracker: mean AUC and mean DP@20 over sequences, FPS = all frames / all tracker seconds,
and the mean of the per-sequence FPS. Before the timed runs each tracker is warmed up in this
process (one initialize and a few track calls on the first frames of the first sequence) so
that loading numba's compiled kernels is not charged to the first sequence; with
``--workers`` > 1 the jobs run in fresh processes and that first-use cost is included.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Thread-count variables set before numerical libraries are imported (``--threads 1``).
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS", "PYFFTW_NUM_THREADS", "OPENCV_FOR_THREADS_NUM", "DCFRE_NUM_THREADS",
)
DEFAULT_TRACKERS = "eco-hc,opencv-csrt,opencv-kcf"
#: Frames of the warm-up run (initialize + this many track calls).
WARMUP_FRAMES = 3
#: Absent-frame policy of the short-term scores.
ABSENT_POLICY = "exclude"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python scripts/compare_on_sequences.py",
        description="Success AUC, DP@20 and FPS of trackers on sequence folders.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="sequence folder or folder of sequence folders")
    parser.add_argument("--trackers", default=DEFAULT_TRACKERS, metavar="A,B,...",
                        help="tracker specs (default: %(default)s)")
    parser.add_argument("--out-dir", metavar="DIR", help="keep the results here (resumable); default: a temporary folder")
    parser.add_argument("--json", metavar="FILE", help="write every score as JSON")
    parser.add_argument("--max-frames", type=int, default=None, metavar="N", help="track only the first N frames")
    parser.add_argument("--threads", choices=["1", "all"], default="1", help="threads of numerical libraries (default: 1)")
    parser.add_argument("--workers", type=int, default=1, help="parallel worker processes (default: 1)")
    parser.add_argument("--no-warmup", action="store_true", help="do not warm the trackers up before the timed runs")
    parser.add_argument("--reference", metavar="FILE",
                        help="Markdown file with reference AUC tables to print beside the results")
    return parser


def _pin_threads(threads: str) -> int | None:
    """Set thread-count variables before numpy/numba/OpenCV are imported; returns the runner's limit."""
    if threads == "all":
        return None
    for name in THREAD_ENV_VARS:
        os.environ[name] = "1"
    return 1


def load_sequences(paths):
    """Every sequence with ground truth under the given folders (names must be unique)."""
    from dcfre.data.folder import load_folder

    sequences = []
    for path in paths:
        sequences.extend(load_folder(path))
    return sequences


def warm_up(specs, sequence, frames: int = WARMUP_FRAMES) -> None:
    """Run each tracker briefly so that first-use costs (JIT cache loading) are paid before timing."""
    import numpy as np

    from dcfre.evaluation.trackers import build_tracker

    images = []
    for index, frame in enumerate(sequence.iter_frames()):
        if index > frames:
            break
        images.append(frame)
    for spec in specs:
        tracker = build_tracker(spec)
        tracker.initialize(images[0], np.asarray(sequence.init_box, dtype=np.float64))
        for image in images[1:]:
            tracker.track(image)


def score(sequences, results) -> dict:
    """Per tracker: per-sequence AUC, DP@20, FPS and frames, and their aggregates."""
    import numpy as np

    from dcfre.evaluation import metrics

    table = {}
    for spec, per_sequence in results.items():
        rows = {}
        for sequence in sequences:
            result = per_sequence.get(sequence.name)
            if result is None:
                continue
            gt = np.asarray(sequence.groundtruth, dtype=np.float64)[: len(result.boxes)]
            success = metrics.success_curve(result.boxes, gt, ABSENT_POLICY)
            precision = metrics.precision_curve(result.boxes, gt, ABSENT_POLICY)
            rows[sequence.name] = {
                "auc": metrics.auc(success),
                "dp20": metrics.precision_at(precision),
                "fps": result.fps,
                "frames": int(result.frames),
                "seconds": float(result.seconds),
            }
        aucs = [r["auc"] for r in rows.values() if np.isfinite(r["auc"])]
        dps = [r["dp20"] for r in rows.values() if np.isfinite(r["dp20"])]
        frames = sum(r["frames"] for r in rows.values())
        seconds = sum(r["seconds"] for r in rows.values())
        table[spec] = {
            "mean_auc": float(np.mean(aucs)) if aucs else float("nan"),
            "mean_dp20": float(np.mean(dps)) if dps else float("nan"),
            "fps": frames / seconds if seconds > 0 else float("nan"),
            "mean_sequence_fps": float(np.mean([r["fps"] for r in rows.values()])) if rows else float("nan"),
            "sequences": rows,
        }
    return table


def _num(value, digits: int) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def format_tables(table: dict, names: list[str]) -> str:
    """Markdown: AUC per sequence with the means, then FPS per sequence."""
    header = "| tracker | mean AUC | mean DP@20 | FPS | " + " | ".join(names) + " |"
    rule = "|---" * (4 + len(names)) + "|"
    lines = ["Success AUC per sequence:", "", header, rule]
    for spec, entry in table.items():
        cells = [_num(entry["sequences"].get(n, {}).get("auc"), 3) for n in names]
        lines.append(f"| {spec} | {_num(entry['mean_auc'], 3)} | {_num(entry['mean_dp20'], 3)} | "
                     f"{_num(entry['fps'], 1)} | " + " | ".join(cells) + " |")
    lines += ["", "FPS per sequence:", "", "| tracker | mean | " + " | ".join(names) + " |",
              "|---" * (2 + len(names)) + "|"]
    for spec, entry in table.items():
        cells = [_num(entry["sequences"].get(n, {}).get("fps"), 1) for n in names]
        lines.append(f"| {spec} | {_num(entry['mean_sequence_fps'], 1)} | " + " | ".join(cells) + " |")
    lines += ["", "DP@20 per sequence:", "", "| tracker | " + " | ".join(names) + " |", "|---" * (1 + len(names)) + "|"]
    for spec, entry in table.items():
        cells = [_num(entry["sequences"].get(n, {}).get("dp20"), 3) for n in names]
        lines.append(f"| {spec} | " + " | ".join(cells) + " |")
    lines += [
        "",
        (
            "AUC: mean of the success curve over 21 IoU thresholds; DP@20: share of frames with centre error "
            f"<= 20 px; absent frames: {ABSENT_POLICY}d. FPS (first table) = all frames / all tracker seconds; "
            "mean = mean of the per-sequence FPS."
        ),
    ]
    return "\n".join(lines)


def _reference_value(cell: str) -> float | None:
    """Leading number of a table cell (``0.53`` or ``0.53 (0.79)``); None for ``—`` or text."""
    head = cell.strip().split(" ")[0] if cell.strip() else ""
    try:
        return float(head)
    except ValueError:
        return None


def _match_sequence(column: str, names: list[str]) -> str | None:
    """The sequence a column header names: the full name, or the part after a dataset prefix."""
    column = column.strip()
    for name in names:
        if name == column or name.endswith("_" + column):
            return name
    return None


def parse_reference_tables(text: str, names: list[str]) -> dict[str, dict[str, float]]:
    """Reference AUC per table row and sequence from the Markdown tables of ``text``.

    Only columns that name one of ``names`` are read; each table is kept apart (its rows are a
    group of sequences). Returns ``{"tracker [table k]": {sequence: auc}}`` with the tracker name
    cut before a parenthesized note, in order of appearance.
    """
    out: dict[str, dict[str, float]] = {}
    n_tables = 0
    header: list[str] | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
            n_tables += 1
            continue
        if all(set(c) <= set("-: ") for c in cells):
            continue  # the rule under the header
        tracker = cells[0].split(" (")[0]  # "pyECO-HC (numpy + ...)" -> "pyECO-HC"
        for column, cell in zip(header[1:], cells[1:]):
            sequence = _match_sequence(column, names)
            value = _reference_value(cell)
            if sequence is not None and value is not None:
                out.setdefault(f"{tracker} [table {n_tables}]", {})[sequence] = value
    return out


def format_reference(table: dict, references: dict[str, dict[str, float]], names: list[str]) -> str:
    """Markdown: each reference row beside the measured trackers, means over that row's sequences."""
    lines = ["Success AUC beside the reference rows (mean over the sequences each reference row covers):", ""]
    lines += ["| row | sequences | mean AUC | " + " | ".join(names) + " |", "|---" * (3 + len(names)) + "|"]
    for tracker, values in references.items():
        covered = [n for n in names if n in values]
        mean = sum(values[n] for n in covered) / len(covered)
        cells = [_num(values.get(n), 2) for n in names]
        lines.append(f"| {tracker} (reference) | {len(covered)} | {_num(mean, 3)} | " + " | ".join(cells) + " |")
        for spec, entry in table.items():
            measured = [entry["sequences"].get(n, {}).get("auc") for n in covered]
            measured = [m for m in measured if m is not None and not math.isnan(m)]
            if len(measured) != len(covered):
                continue
            row = []
            for n in names:
                auc = entry["sequences"].get(n, {}).get("auc")
                mark = "" if n not in values or auc is None else (" +" if round(auc, 2) >= values[n] else " -")
                row.append(_num(auc, 2) + mark)
            lines.append(f"| {spec} | {len(covered)} | {_num(sum(measured) / len(measured), 3)} | "
                         + " | ".join(row) + " |")
    lines += ["", "+ / -: the measured AUC (to 2 decimals) is at least / below the reference row above it."]
    return "\n".join(lines)


def _load_text(load) -> str:
    return " / ".join(f"{v:.2f}" for v in load)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    threads = _pin_threads(args.threads)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))  # run from a source checkout without installing

    from dcfre.errors import DcfreError
    from dcfre.evaluation.benchmark import load_average, machine_info, write_report
    from dcfre.evaluation.runner import limit_threads, run_experiment
    from dcfre.evaluation.trackers import parse_spec

    command = shlex.join(["python", "scripts/compare_on_sequences.py", *argv])
    specs = [s.strip() for s in args.trackers.split(",") if s.strip()]
    try:
        for spec in specs:
            parse_spec(spec)
        sequences = load_sequences(args.paths)
        load_start = load_average()
        start = time.perf_counter()
        if not args.no_warmup and args.workers == 1:
            print("warming up ...", file=sys.stderr, flush=True)
            with limit_threads(threads):
                warm_up(specs, sequences[0])
        with tempfile.TemporaryDirectory(prefix="dcfre-compare-") as tmp:
            out_dir = args.out_dir or tmp
            run = run_experiment(sequences, specs, out_dir, workers=args.workers, max_frames=args.max_frames,
                                 threads=threads, raise_on_error=False)
            table = score(sequences, run.results)
    except DcfreError as exc:
        print(f"compare_on_sequences: error: {exc}", file=sys.stderr)
        return 2
    names = [s.name for s in sequences]
    print(format_tables(table, names))
    if args.reference:
        references = parse_reference_tables(Path(args.reference).read_text(encoding="utf-8"), names)
        if references:
            print()
            print(format_reference(table, references, names))
        else:
            print(f"\nno reference row in {args.reference} names one of these sequences")
    load_end = load_average()
    print(f"\nLoad average (1/5/15 min): start {_load_text(load_start)}, end {_load_text(load_end)}; "
          f"threads: {args.threads}; wall {time.perf_counter() - start:.0f} s")
    for (spec, name), message in run.failed.items():
        print(f"failed: {spec} on {name}: {message}")
    print(f"command: {command}")
    if args.json:
        report = {"command": command, "machine": machine_info(), "load": {"start": load_start, "end": load_end},
                  "threads": args.threads, "policy": ABSENT_POLICY, "sequences": names, "trackers": table,
                  "failed": {f"{k[0]} {k[1]}": v for k, v in run.failed.items()}}
        write_report(report, args.json)
        print(f"wrote {args.json}")
    return 1 if run.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
