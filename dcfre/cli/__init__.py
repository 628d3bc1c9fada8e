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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dcfre",
        description="Long-term single-object tracking with ECO/UPDT correlation filters and re-detection.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(f"dcfre.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"dcfre.cli.{module_name}":
                continue  # command not available in this build
            raise
        module.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DcfreError as exc:
        print(f"dcfre: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dcfre: interrupted", file=sys.stderr)
        return 130
