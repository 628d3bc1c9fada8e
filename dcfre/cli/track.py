"""``python -m dcfre track SOURCE``: track one target through a video or a sequence folder."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from dcfre.errors import InputError

if TYPE_CHECKING:
    import numpy as np


def register(subparsers) -> None:
    from dcfre.config import preset_names

    p = subparsers.add_parser(
        "track",
        help="track a target in a video, a folder of frames or a sequence folder",
        description="Track one target. Boxes are x,y,w,h in the same pixel convention as the init box.",
    )
    p.add_argument("source", metavar="SOURCE",
                   help="video file, folder of frames, or OTB / VOT / plain sequence folder")
    p.add_argument("--init", metavar="x,y,w,h", help="initial box (default: first ground-truth box of SOURCE)")
    p.add_argument("--preset", default=None, choices=preset_names(),
                   help="tracker preset (default: updt with global re-detection when available, else eco-hc)")
    p.add_argument("--redetect", choices=["off", "local", "global"], default=None,
                   help="long-term mode (default: the preset's)")
    p.add_argument("--out", metavar="FILE", help="write x,y,w,h,confidence,present per frame")
    p.add_argument("--save-video", metavar="FILE", help="write the frames with the box drawn, as MP4 "
                   "(with --trace also the mined distractors and re-detection candidates)")
    p.add_argument("--trace", metavar="FILE", help="write one JSON line per frame with the long-term decisions "
                   "(rbar_p, events, candidates, distractors; keys in dcfre.state.INFO_KEYS)")
    p.add_argument("--max-frames", type=_positive_int, default=None, help="stop after this many frames")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--on-bad-frame", choices=["error", "skip"], default="error",
                   help="a frame that cannot be decoded: end with an error (default), or skip it with a warning "
                        "(its result line: last box, confidence 0, absent); a video stops at its first bad frame")
    p.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def default_preset() -> str:
    """The preset ``track`` uses when none is given: the paper's full method when available."""
    from dcfre.config import PRESETS

    return "updt" if "updt" in PRESETS else "eco-hc"


def run(args: argparse.Namespace) -> int:
    import numpy as np  # here, not at the top: the parser (``track --help``) must not load numerical libraries

    from dcfre.io import ResultWriter, iter_frames_skipping_bad, open_source, parse_box
    from dcfre.prefetch import read_ahead
    from dcfre.tracker import Tracker, pin_blas_threads

    source = open_source(args.source, groundtruth_optional=args.init is not None)
    if source.groundtruth_problem is not None:
        print(f"dcfre: warning: ground truth ignored (--init given): {source.groundtruth_problem}", file=sys.stderr)
    init_box = _initial_box(args.init, source, parse_box)
    overrides = {} if args.redetect is None else {"redetect": args.redetect}
    if args.trace:
        overrides["longterm.trace"] = True
    tracker = Tracker.from_preset(args.preset or default_preset(), **overrides)
    pin_blas_threads(tracker.config.blas_threads)  # this process only tracks: no per-frame limit calls

    total = source.num_frames
    if args.max_frames is not None:
        total = min(total, args.max_frames) if total is not None else args.max_frames
    results = ResultWriter(args.out) if args.out else None
    video = None
    if args.save_video:
        from dcfre.annotate import AnnotatedVideoWriter  # OpenCV and ffmpeg: loaded only to write a video

        video = AnnotatedVideoWriter(args.save_video, fps=source.fps or 30.0)
    trace = None
    if args.trace:
        from dcfre.trace import TraceWriter, overlays

        trace = TraceWriter(args.trace)
    show_progress = not args.quiet and (total is None or total > 50)
    bar = _progress_bar(total) if show_progress else _NoProgress()
    seconds, frames = 0.0, 0
    skipped, state = [], None  # state: the last frame's output, repeated for a skipped frame
    if args.on_bad_frame == "skip":
        frame_iter = iter_frames_skipping_bad(source, lambda message: _warn_bad_frame(message, bar))
    else:
        frame_iter = source
    decoded = read_ahead(frame_iter)  # the next frame decodes while this one is tracked
    try:
        for index, frame in enumerate(decoded):
            if args.max_frames is not None and index >= args.max_frames:
                break
            if frame is None:  # --on-bad-frame skip: undecodable frame (warned); the tracker does not see it
                if index == 0:
                    raise InputError(f"{source.name}: the first frame cannot be decoded, nothing to initialize on")
                skipped.append(index + 1)
                if results is not None:
                    results.write(state.box, 0.0, False)
                bar.update(1)
                continue
            start = time.perf_counter()
            state = tracker.initialize(frame, init_box) if index == 0 else tracker.track(frame)
            seconds += time.perf_counter() - start
            frames += 1
            if index == 0:
                state.box = np.asarray(init_box, dtype=np.float64)  # the init line is the given box exactly
            if results is not None:
                results.write(state.box, state.confidence, state.present)
            if trace is not None:
                trace.write(state)
            if video is not None:
                gt = source.groundtruth[index] if source.groundtruth is not None and index < len(source.groundtruth) else None
                video.write(frame, state.box, state.mode, state.confidence, gt_box=gt,
                            overlays=overlays(state) if trace is not None else None)
            bar.update(1)
    finally:
        decoded.close()
        bar.close()
        if results is not None:
            results.close()
        if video is not None:
            video.close()
        if trace is not None:
            trace.close()
    if frames == 0:
        raise InputError(f"source {args.source} has no frames")
    fps = frames / seconds if seconds > 0 else float("inf")
    print(f"frames {frames}, seconds {seconds:.2f}, FPS {fps:.1f}", file=sys.stderr)
    if skipped:
        shown = ", ".join(map(str, skipped[:10])) + (", ..." if len(skipped) > 10 else "")
        print(f"dcfre: warning: {len(skipped)} undecodable frame(s) skipped (frame numbers {shown})", file=sys.stderr)
    return 0


def _progress_bar(total: int | None):
    from tqdm import tqdm  # ~40 ms of imports: only when a bar is shown

    return tqdm(total=total, unit="frame", file=sys.stderr, dynamic_ncols=True)


class _NoProgress:
    """The part of tqdm's interface ``run`` uses, for runs without a progress bar."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    @staticmethod
    def write(message: str, file=None) -> None:
        print(message, file=file or sys.stderr)


def _warn_bad_frame(message: str, bar) -> None:
    bar.write(f"dcfre: warning: {message}", file=sys.stderr)


def _initial_box(text, source, parse_box) -> np.ndarray:
    import numpy as np

    if text is not None:
        return parse_box(text)
    gt = source.groundtruth
    if gt is None or len(gt) == 0:
        raise InputError(f"{source.name}: no ground truth to initialize from; give --init x,y,w,h")
    if not np.isfinite(gt[0]).all():
        raise InputError(f"{source.name}: the first ground-truth box is empty (target absent); give --init x,y,w,h")
    return gt[0]
