"""Speed report: dcfre's ECO-HC against OpenCV CSRT and KCF on the same frames (issue 2).

Every tracker runs on identical in-memory frames (synthetic sequences with a moving target, plus
any ``--sequence`` folder), single-threaded (numba, pyFFTW, onnxruntime, BLAS and OpenCV pinned
to one thread before they are imported), after an untimed warm-up run, with per-frame numbers
the median of several timed runs. JIT compile time (cold: empty numba cache; cached), first
frame time and peak memory are measured separately in fresh processes. See
:mod:`dcfre.evaluation.benchmark` for the definitions.

Usage::

    python scripts/benchmark_speed.py [--trackers eco-hc,opencv-csrt,opencv-kcf] [--sizes 640x360,1280x720]
        [--frames 200] [--repeats 5] [--sequence DIR ...] [--out speed.json]

It accepts every option of ``python -m dcfre bench`` (only the defaults differ: more frames and
repeats) and prints the tables, the exact command line and the equivalent ``dcfre bench`` call.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # run from a source checkout without installing

from dcfre.cli import bench
from dcfre.errors import DcfreError

#: Frames per synthetic sequence of the speed report.
REPORT_FRAMES = 200
#: Timed runs per tracker and input.
REPORT_REPEATS = 5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python scripts/benchmark_speed.py",
        description="ECO-HC vs OpenCV CSRT/KCF speed on the same frames, one thread each, median of several runs.",
    )
    bench.add_arguments(parser)
    parser.set_defaults(frames=REPORT_FRAMES, repeats=REPORT_REPEATS, threads="1")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    exact = shlex.join(["python", "scripts/benchmark_speed.py", *argv])
    try:
        code = bench.run(args, command=exact)
    except DcfreError as exc:
        print(f"benchmark_speed: error: {exc}", file=sys.stderr)
        return 2
    print(f"\ncommand: {exact}")
    print(f"equivalent: {bench.equivalent_command(args)}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
