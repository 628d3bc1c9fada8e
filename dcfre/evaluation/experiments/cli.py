"""Command-line helpers shared by scripts/reproduce_table1.py and scripts/table2_ltb35.py."""

from __future__ import annotations

from pathlib import Path

from dcfre.evaluation.experiments.config import load_config
from dcfre.evaluation.experiments.running import RunOptions


def comma_list(text: str) -> list[str]:
    """argparse type: a non-empty comma-separated list."""
    import argparse

    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def _positive(kind):
    import argparse

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse


def add_common_arguments(parser, default_config: Path) -> None:
    """Options shared by both scripts (see :class:`RunOptions`)."""
    parser.add_argument("--config", default=str(default_config),
                        help="experiment config JSON (default: %(default)s)")
    parser.add_argument("--root", default=None,
                        help="dataset root; without it the offline synthetic datasets of the config are used")
    parser.add_argument("--out", default="results",
                        help="output folder: raw results in OUT/runs (resumable), tables and figures beside "
                             "(default: ./results, git-ignored in the repository)")
    parser.add_argument("--cache", default=None,
                        help="synthetic suite cache folder (default: $DCFRE_CACHE or ~/.cache/dcfre)")
    parser.add_argument("--datasets", type=comma_list, default=None,
                        help="subset of the config's datasets, by label or name (e.g. synth-lt)")
    parser.add_argument("--workers", type=_positive(int), default=1, help="local worker processes (default 1)")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address tcp://host:port (overrides --workers)")
    parser.add_argument("--frames-scale", type=_positive(float), default=None,
                        help="synthetic suites: length scale of the generated sequences (config default 1.0); "
                             "real datasets: keep this fraction of each sequence's first frames")
    parser.add_argument("--seed", type=int, default=None, help="synthetic suite seed (config default 0)")
    parser.add_argument("--max-frames", type=_positive(int), default=None,
                        help="track only the first N frames of each sequence")
    parser.add_argument("--limit", type=_positive(int), default=None,
                        help="use only the first N sequences of each dataset")
    parser.add_argument("--absent", choices=("exclude", "failure"), default=None,
                        help="absent-target frames in the success AUC: count them as failures (config default "
                             "for Table 1, the UAV123 toolkit's convention) or exclude them")
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def options_from_args(args, command: str) -> RunOptions:
    """:class:`RunOptions` from the parsed common arguments."""
    return RunOptions(
        out_dir=Path(args.out),
        root=args.root,
        cache=args.cache,
        datasets=args.datasets,
        workers=args.workers,
        scheduler=args.scheduler,
        frames_scale=args.frames_scale,
        seed=args.seed,
        max_frames=args.max_frames,
        limit=args.limit,
        absent_policy=args.absent,
        plots=not args.no_plots,
        progress=not args.quiet,
        command=command,
    )


def command_line(script: str, argv) -> str:
    """The command that ran, for the JSON record."""
    import shlex

    return shlex.join(["python", script] + list(argv))


def run_script(name: str, parser, run, argv=None) -> int:
    """Shared ``main`` of the table scripts: parse, run, print the table and where files went.

    ``run(config, options, args)`` returns a Table1Result/Table2Result. Exit code 0 when every run
    succeeded, 1 when some failed (the rest is still reported), 2 on bad input.
    """
    import sys

    from dcfre.errors import DcfreError

    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        options = options_from_args(args, command_line(f"scripts/{name}.py", argv))
        result = run(config, options, args)
    except DcfreError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    print(result.markdown)
    for kind, path in result.paths.items():
        print(f"{kind}: {path}")
    failed = sum(len(d["failed"]) for d in result.record["datasets"])
    if failed:
        print(f"{name}: {failed} run(s) failed (see the JSON record)", file=sys.stderr)
    return 1 if failed else 0
