"""``python -m dcfre eval``: run trackers on a dataset, then score, report and plot.

Example::

    python -m dcfre eval --dataset uav123 --root /data/UAV123 \\
        --trackers eco-hc,eco-hc:global,opencv-csrt --out results/uav123 --workers 2

Results go to ``OUT/<tracker>/<sequence>.txt`` (resumable: rerunning skips finished
sequences), the report to ``OUT/summary.{md,csv,json}`` and figures to ``OUT/plots/``.
"""

from __future__ import annotations

import argparse
import sys

from dcfre.errors import InputError

DATASETS = ("uav123", "uav20l", "uav-human", "ltb35", "otb", "folder", "synth-lt", "synth-human")


def _csv_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="evaluate trackers on a dataset (AUC, DP@20, FPS, long-term F-score and events)",
        description=(
            "Run trackers on a dataset (resumable: finished sequences are skipped), then write "
            "OUT/summary.{md,csv,json} and figures in OUT/plots/. Example: python -m dcfre eval --dataset uav123 "
            "--root /data/UAV123 --trackers eco-hc,eco-hc:global,opencv-csrt --out results/uav123 --workers 2"
        ),
    )
    parser.add_argument("--dataset", required=True, choices=DATASETS, help="dataset to evaluate on")
    parser.add_argument("--root", default=None, help="dataset root folder (not needed for synth-*)")
    parser.add_argument(
        "--trackers",
        required=True,
        type=_csv_list,
        help="comma-separated tracker specs: opencv-csrt, opencv-kcf, a dcfre preset, or PRESET:off|local|global",
    )
    parser.add_argument("--out", required=True, help="results folder (reused: finished sequences are skipped)")
    parser.add_argument("--workers", type=_positive_int, default=1, help="local worker processes (default 1)")
    parser.add_argument(
        "--scheduler", default=None, help="Dask scheduler address tcp://host:port (overrides --workers)"
    )
    parser.add_argument("--absent", choices=("exclude", "failure"), default="exclude",
                        help="absent-target frames in AUC/DP: exclude them (default) or count them as failures")
    parser.add_argument("--max-frames", type=_positive_int, default=None, help="track only the first N frames")
    parser.add_argument("--sequences", type=_csv_list, default=None, help="comma-separated subset of sequence names")
    parser.add_argument("--threads", type=_positive_int, default=1, help="threads per tracker job (default 1)")
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def select_sequences(sequences, names):
    """The sequences named in ``names`` (in that order); InputError naming unknown ones."""
    if names is None:
        return list(sequences)
    by_name = {s.name: s for s in sequences}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        sample = ", ".join(sorted(by_name)[:10])
        raise InputError(f"unknown sequence(s) {', '.join(unknown)}; available (first 10): {sample}")
    return [by_name[n] for n in dict.fromkeys(names)]


def truncate_groundtruth(sequences, max_frames):
    """Sequences whose ground truth keeps only the first ``max_frames`` rows (for scoring quick runs)."""
    if max_frames is None:
        return sequences
    import dataclasses

    return [dataclasses.replace(s, groundtruth=s.groundtruth[:max_frames]) for s in sequences]


def _load_dataset(name, root):
    try:
        from dcfre.data import load_dataset
    except ImportError:  # older layout: the loaders module only
        from dcfre.data.loaders import load_dataset
    return load_dataset(name, root)


def run(args) -> int:
    from dcfre.evaluation import plots, report, trackers
    from dcfre.evaluation.runner import run_experiment

    for spec in args.trackers:  # fail fast, before loading a dataset
        trackers.parse_spec(spec)
    sequences = select_sequences(_load_dataset(args.dataset, args.root), args.sequences)
    if not sequences:
        raise InputError(f"dataset {args.dataset} has no sequences")
    outcome = run_experiment(
        sequences,
        args.trackers,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
        max_frames=args.max_frames,
        threads=args.threads,
        raise_on_error=False,
    )
    for (tracker, name), message in outcome.failed.items():
        print(f"dcfre: failed: {tracker} on {name}: {message}", file=sys.stderr)
    scored = {name: per_seq for name, per_seq in outcome.results.items() if per_seq}
    if not scored:
        raise InputError("every job failed; nothing to report")
    summary = report.summarize(truncate_groundtruth(sequences, args.max_frames), scored, args.absent,
                               allow_missing=bool(outcome.failed))
    paths = report.write_summary(summary, args.out)
    print(report.policy_line(summary))
    print(f"{len(outcome.ran)} sequence run(s) computed, {len(outcome.skipped)} reused from {args.out}")
    print(report.format_table(summary))
    print()
    print(report.format_events_table(summary))
    if not args.no_plots:
        figures = plots.plot_all(summary, f"{args.out}/plots")
        print(f"figures: {len(figures)} files in {args.out}/plots")
    print(f"report: {paths['md']}")
    return 1 if outcome.failed else 0
