"""``python -m dcfre demo``: track a generated long-term sequence and write a video, a plot and metrics.

Needs no dataset: the sequence (full occlusion, out of view, look-alike distractors) is generated.
See :mod:`dcfre.demo` for what is written.
"""

from __future__ import annotations

import argparse
import sys


def _size(text: str) -> tuple[int, int]:
    parts = text.lower().replace("x", ",").split(",")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 640x360, got {text!r}") from None
    if width < 64 or height < 64:
        raise argparse.ArgumentTypeError(f"frame size must be at least 64x64, got {text!r}")
    return width, height


def _frames(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected at least 2 frames, got {value}")
    return value


def register(subparsers) -> None:
    from dcfre.config import preset_names
    from dcfre.demo import DemoConfig

    defaults = DemoConfig()
    p = subparsers.add_parser(
        "demo",
        help="track a generated long-term sequence; write an annotated video, a confidence plot and metrics",
        description=(
            "Generate a synthetic long-term sequence (full occlusion, out of view, look-alike distractors), track it "
            "with the full method (PRESET with global re-detection) and, for comparison, the same preset without "
            "re-detection, then write demo.mp4, confidence.png, metrics.json/metrics.txt and per-frame results."
        ),
    )
    p.add_argument("--out", default="dcfre_demo", metavar="DIR", help="output folder (default: ./dcfre_demo)")
    p.add_argument("--frames", type=_frames, default=defaults.n_frames, metavar="N",
                   help=f"frames to generate (default {defaults.n_frames})")
    p.add_argument("--size", type=_size, default=defaults.size, metavar="WxH",
                   help=f"frame size (default {defaults.size[0]}x{defaults.size[1]})")
    p.add_argument("--preset", default=defaults.preset, choices=preset_names(),
                   help=f"tracker preset, run in mode global (default {defaults.preset})")
    p.add_argument("--seed", type=int, default=defaults.seed, help=f"scene seed (default {defaults.seed})")
    p.add_argument("--compare-baseline", action=argparse.BooleanOptionalAction, default=defaults.compare_baseline,
                   help="also run the preset with redetect=off on the same frames (default: on)")
    p.add_argument("--absent", choices=("exclude", "failure"), default=defaults.absent_policy,
                   help="absent-target frames in AUC/DP@20: exclude them (default) or count them as failures")
    p.add_argument("--no-groundtruth", action="store_true", help="do not draw the ground-truth box in the video")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dcfre.demo import DemoConfig, run_demo

    config = DemoConfig(
        n_frames=args.frames,
        size=tuple(args.size),
        seed=args.seed,
        preset=args.preset,
        compare_baseline=args.compare_baseline,
        absent_policy=args.absent,
        draw_groundtruth=not args.no_groundtruth,
    )
    result = run_demo(config, args.out, progress=not args.quiet, log=lambda message: print(message, file=sys.stderr))
    print(result.text)
    print()
    paths = result.paths
    print(f"video:      {paths['video']}")
    print(f"confidence: {paths['plot']}")
    print(f"metrics:    {paths['metrics_text']}  {paths['metrics_json']}")
    for name, path in paths["results"].items():
        print(f"results:    {path}  ({name}: x,y,w,h,confidence,present per frame)")
    print(f"done in {result.seconds:.1f} s")
    return 0
