"""``python -m dcfre bench``: speed of trackers on the same frames (per-frame ms, FPS, JIT, memory).

See :mod:`dcfre.evaluation.benchmark` for what is measured and how, and
:mod:`dcfre.evaluation.bench_process` for ``--whole-process`` (a fresh process per tracker and sequence).
"""

from __future__ import annotations

import argparse
import sys

from dcfre.evaluation import bench_config  # settings only: the benchmark itself is imported by run()


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="time trackers on identical frames: per-frame ms, FPS, ratio to OpenCV CSRT, JIT, memory",
        description=(
            "Time trackers on the same in-memory frames: synthetic sequences with a moving target at the "
            "given sizes, plus any sequence folder. Per-frame median/p95 ms (tracker call only), FPS, ratio "
            "to OpenCV CSRT, first-frame time, JIT compile time cold and cached, and peak memory, each tracker "
            "in clean processes; for trackers with whole-frame re-detection also the cost of one re-detection "
            "scan and one mining round. Prints Markdown tables and the machine load."
        ),
    )
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the benchmark options to ``p`` (shared with ``scripts/benchmark_speed.py``)."""
    p.add_argument("--trackers", default=",".join(bench_config.DEFAULT_TRACKERS), metavar="A,B,...",
                   help="tracker specs: opencv-csrt, opencv-kcf, PRESET or PRESET:MODE (default: %(default)s)")
    p.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in bench_config.DEFAULT_SIZES), metavar="WxH,...",
                   help="synthetic frame sizes; '' for none (default: %(default)s)")
    p.add_argument("--frames", type=int, default=None, metavar="N",
                   help="frames per synthetic sequence; also cuts sequence folders to their first N frames "
                        f"(default: {bench_config.BenchConfig.DEFAULT_SYNTHETIC_FRAMES} synthetic, folders whole)")
    p.add_argument("--sequence", action="extend", nargs="+", default=[], metavar="DIR",
                   help="sequence folder (or folder of sequence folders) with ground truth; repeatable")
    p.add_argument("--threads", choices=["1", "all"], default="1",
                   help="threads of numba/pyFFTW/onnxruntime/BLAS/OpenCV in each tracker process (default: 1)")
    p.add_argument("--repeats", type=int, default=3, metavar="R", help="timed runs per tracker and input; median shown (default: 3)")
    p.add_argument("--warmup", type=int, default=10, metavar="N", help="frames of the untimed warm-up run (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic sequences (default: 0)")
    p.add_argument("--with-losses", action="store_true",
                   help="also time, per size, synthetic-lt-WxH: the generator's default events on (full occlusion, "
                        "out-of-view span, ...), so long-term trackers' times include lost frames and re-detections; "
                        f"{bench_config.LOSS_INPUT_FRAMES} frames (or --frames if larger) so that the events fit")
    p.add_argument("--loss-frames", type=int, default=None, metavar="N",
                   help="frames of the synthetic-lt inputs (default: the larger of "
                        f"{bench_config.LOSS_INPUT_FRAMES} and --frames); an error if no out-of-view span fits")
    p.add_argument("--whole-process", action="store_true",
                   help="instead: run each tracker in a fresh process per sequence (python -m dcfre track for dcfre, the "
                        "same loop for OpenCV), as the VOT toolkit does; report time to the first result line, whole-"
                        "process FPS and its ratio to CSRT (synthetic sizes are written as JPEG folders first)")
    p.add_argument("--no-jit", action="store_true", help="skip the cold/cached JIT compile measurement")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    p.add_argument("--out", metavar="FILE.json", help="write every number as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress messages")


def config_from_args(args: argparse.Namespace) -> bench_config.BenchConfig:
    """Build and validate the benchmark configuration from parsed arguments."""
    config = bench_config.BenchConfig(
        trackers=bench_config.parse_trackers(args.trackers),
        sizes=bench_config.parse_sizes(args.sizes),
        frames=args.frames,
        sequences=tuple(args.sequence),
        threads=args.threads,
        repeats=args.repeats,
        warmup_frames=args.warmup,
        seed=args.seed,
        measure_jit=not args.no_jit,
        measure_memory=not args.no_memory,
        with_losses=args.with_losses,
        loss_frames=args.loss_frames,
    )
    config.validate()
    return config


def equivalent_command(args: argparse.Namespace) -> str:
    """The ``python -m dcfre bench ...`` command running the same benchmark as ``args``."""
    from dcfre.evaluation.bench_report import command_line

    parts = ["bench", "--trackers", args.trackers, "--sizes", args.sizes]
    if args.frames is not None:
        parts += ["--frames", str(args.frames)]
    for folder in args.sequence:
        parts += ["--sequence", folder]
    parts += ["--threads", args.threads, "--repeats", str(args.repeats), "--warmup", str(args.warmup),
              "--seed", str(args.seed)]
    parts += ["--with-losses"] * args.with_losses + ["--whole-process"] * args.whole_process
    if args.loss_frames is not None:
        parts += ["--loss-frames", str(args.loss_frames)]
    parts += ["--no-jit"] * args.no_jit + ["--no-memory"] * args.no_memory
    if args.out:
        parts += ["--out", args.out]
    return command_line(parts)


def run(args: argparse.Namespace, command: str | None = None) -> int:
    """Run the benchmark, print the tables (and write JSON); exit code 1 if a tracker failed."""
    config = config_from_args(args)
    command = command or equivalent_command(args)

    def log(message: str) -> None:
        if not args.quiet:
            print(f"bench: {message}", file=sys.stderr, flush=True)

    from dcfre.evaluation import benchmark as bench_run

    if args.whole_process:
        from dcfre.evaluation.bench_process import format_whole_process, run_whole_process

        report = run_whole_process(config, log=log)
        report.update(command=command, machine=bench_run.machine_info())
        print(format_whole_process(report))
    else:
        report = bench_run.run_benchmark(config, log=log, command=command)
        print(bench_run.format_markdown(report))
    if args.out:
        path = bench_run.write_report(report, args.out)
        print(f"\nwrote {path}")
    return 1 if report["errors"] else 0
