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


def build_parser(argv=None) -> argparse.ArgumentParser:
    """The ``python -m dcfre`` parser.

    Parameters
    ----------
    argv : list of str, optional
        The arguments about to be parsed. When they name a known command, only that command's
        module is imported and registered: each command module pulls in its own dependencies, and
        ``python -m dcfre track ...`` must not pay for the others. Otherwise (top-level ``--help``,
        no or a mistyped command) every command is registered so that help and errors list them all.
    """
    parser = argparse.ArgumentParser(
        prog="python -m dcfre",
        description="Long-term single-object tracking with ECO/UPDT correlation filters and re-detection.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in _modules_to_register(argv):
        try:
            module = importlib.import_module(f"dcfre.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"dcfre.cli.{module_name}":
                continue  # command not available in this build
            raise
        module.register(sub)
    return parser


def _modules_to_register(argv) -> list[str]:
    """Modules of the commands the parser needs: the one named in ``argv``, or all of them."""
    command = next((arg for arg in argv if not arg.startswith("-")), None) if argv is not None else None
    if command in COMMANDS:
        return [COMMANDS[command]]
    return list(COMMANDS.values())


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DcfreError as exc:
        print(f"dcfre: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dcfre: interrupted", file=sys.stderr)
        return 130
