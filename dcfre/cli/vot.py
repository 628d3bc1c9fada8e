"""``python -m dcfre vot``: run dcfre as a TraX tracker under the VOT toolkit (or print its trackers.ini entry)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    from dcfre.config import preset_names

    p = subparsers.add_parser(
        "vot",
        help="TraX server for the VOT toolkit (vot evaluate); --print-ini NAME prints the trackers.ini entry",
        description="Speak the TraX protocol on stdin/stdout: rectangle regions, image paths, the color channel. "
        "Started by the VOT toolkit once per sequence; logs go to stderr. Needs the optional package "
        "vot-trax (pip install vot-trax==4.0.2). With --print-ini NAME, print a trackers.ini entry that "
        "runs this command with absolute paths, and exit.",
    )
    p.add_argument("--preset", default=None, choices=preset_names(),
                   help="tracker preset (default: the one dcfre track uses)")
    p.add_argument("--redetect", choices=["off", "local", "global"], default=None,
                   help="long-term mode (default: the preset's)")
    p.add_argument("--print-ini", metavar="NAME", default=None,
                   help="print a trackers.ini section named NAME for these options and exit")
    p.add_argument("--timeout", type=int, default=None, metavar="SECONDS",
                   help="with --print-ini: seconds the toolkit waits for each reply (default: 300)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dcfre.integrations import vot

    if args.print_ini is not None:
        timeout = vot.DEFAULT_TIMEOUT_S if args.timeout is None else args.timeout
        sys.stdout.write(vot.trackers_ini_entry(args.print_ini, preset=args.preset, redetect=args.redetect,
                                                timeout=timeout))
        return 0
    trax = vot.import_trax()  # fail before the handshake, with the install hint, if TraX is missing
    del trax
    preset = args.preset or _default_preset()
    overrides = {} if args.redetect is None else {"redetect": args.redetect}

    def make_tracker():
        from dcfre.tracker import Tracker

        return Tracker.from_preset(preset, **overrides)

    return vot.serve(make_tracker, name="dcfre", description=f"dcfre {preset}")


def _default_preset() -> str:
    from dcfre.cli.track import default_preset

    return default_preset()
