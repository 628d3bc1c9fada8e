"""``python -m dcfre synth``: generate a synthetic long-term benchmark suite on disk."""

from __future__ import annotations

import argparse
import time

from dcfre.data.suites import SUITE_NAMES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="generate a synthetic long-term tracking suite",
        description="Generate the synthetic synth-lt or synth-human suite (plain layout: <name>/img/%04d.jpg, "
        "groundtruth.txt, attributes.txt, meta.json). Finished sequences are skipped, so an interrupted "
        "run can be resumed by running the same command again.",
    )
    parser.add_argument("--suite", required=True, choices=SUITE_NAMES, help="suite to generate")
    parser.add_argument("--out", required=True, help="output folder (one sub-folder per sequence)")
    parser.add_argument("--seed", type=int, default=0, help="suite seed (default: 0)")
    parser.add_argument(
        "--frames-scale",
        type=float,
        default=1.0,
        help="multiply sequence lengths by this factor, e.g. 0.25 for quick runs",
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default: 1)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dcfre.data.synthetic import generate_suite, suite_configs

    configs = suite_configs(args.suite, args.seed, args.frames_scale)
    total_frames = sum(c.n_frames for c in configs)
    print(f"{args.suite}: {len(configs)} sequences, {total_frames} frames -> {args.out}", flush=True)
    start = time.perf_counter()
    done = 0

    def report(name: str, generated: bool) -> None:
        nonlocal done
        done += 1
        status = "generated" if generated else "already complete"
        print(f"[{done}/{len(configs)}] {name}: {status} ({time.perf_counter() - start:.1f} s)", flush=True)

    generate_suite(
        args.suite, args.out, seed=args.seed, frames_scale=args.frames_scale, jobs=max(1, args.jobs), progress=report
    )
    print(f"done in {time.perf_counter() - start:.1f} s", flush=True)
    return 0
