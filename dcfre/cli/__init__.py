"""Command line interface: ``python -m dcfre COMMAND ...``.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)`` (adds its parser and sets ``func``) so that commands stay independent.
"""

import argparse
import importlib
import sys

from dcfre.errors import DcfreError

#: sub-command name -> module (inside dcfre.cli) that implements it
COMMANDS = {
    "track": "track",
    "eval": "evaluate",
    "synth": "synth",
    "demo": "demo",
    "bench": "bench",
    "vot": "vot",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser; with ``only``, just that sub-command's (so that starting one command does not
    import the modules of all the others: the VOT toolkit starts ``dcfre vot`` once per sequence)."""
    parser = argparse.ArgumentParser(
        prog="python -m dcfre",
        description="Long-term single-object tracking with ECO/UPDT correlation filters and re-detection.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            module = importlib.import_module(f"dcfre.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"dcfre.cli.{module_name}":
                continue  # command not available in this build
            raise
        module.register(sub)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DcfreError as exc:
        print(f"dcfre: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dcfre: interrupted", file=sys.stderr)
        return 130
