"""Long-run soak test: memory growth, NaN/Inf and tracking quality over a very long synthetic sequence (issue 6).

Runs the full method (``updt``, long-term mode ``global`` by default) on one generated scene of
``--frames`` frames: continuous target motion and size change, with full occlusions, out-of-view
spans, fast motion, blur (as many per frame as in the 600-frame scenes of the synthetic suites) and
two look-alike distractors. ``--loop N`` instead replays a scene of N frames until ``--frames`` are
tracked: at every wrap-around the target jumps back to its first position and size in one frame
(a harsher, artificial test of re-detection). Frames are rendered on the fly (no frame cache), so
the process memory is the tracker's.

Reported: a table every ``--report-every`` frames, then RSS at start / after warm-up / end, overall
FPS (tracker time only) and how re-detections compare with the ground truth. Table columns:
``RSS MB`` and ``dRSS`` (since start), ``FPS`` of the window, cumulative ``losses`` and re-detections
(``redet``; ``ok``: IoU > 0.3 with the ground truth; ``centre``: box centre inside the ground-truth
box), ``lost%`` of frames so far, ``hit%`` (visible frames of the window tracked with IoU > 0.5),
``distr`` (distractors held by the global model), ``scale`` (the tracker's scale factor), ``size``
(median sqrt(box area / ground-truth area) over the window's visible frames: 1 = right size),
``scan Mpx`` (size of a whole-frame scan at that scale, capped at ``max_scan_pixels``) and the
current ``mode``.

Checked: every ``--check-every`` frames, each appearance model's filters and projection, the
global model's filters, the scale filter and the confidence average must be finite; every frame's
box and confidence must be finite; the tracker must not log a non-finite warning (its guard
re-initializes a model silently otherwise). After ``--warmup`` frames, RSS may grow by at most
``--max-growth-mb`` (default 100 MB: the models and sample memories are bounded, so a healthy run
stays flat apart from allocator noise).

Exit status: 0 if both checks pass, 1 if memory grew beyond the bound, 2 if a NaN/Inf appeared
(3 if both).

Usage::

    python scripts/long_run.py [--preset updt] [--mode global] [--frames 20000] [--size 320x240]
        [--loop N] [--seed 3] [--report-every 1000] [--check-every 100] [--warmup 2000]
        [--max-growth-mb 100] [--csv rows.csv]
"""

from __future__ import annotations

import os

# Pin BLAS / OpenMP threads before numpy is imported, as ``python -m dcfre`` does: the tracking
# loop is single-threaded and multi-threaded BLAS on tiny matrices only adds contention.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import csv
import gc
import logging
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # run from a source checkout without installing

from dcfre.config import preset_names
from dcfre.data.synthetic import SceneConfig, SyntheticScene
from dcfre.evaluation.metrics import iou
from dcfre.tracker import Tracker

MB = 1024.0 * 1024.0
#: IoU with the ground truth above which a re-detection counts as correct.
CORRECT_REDETECTION_IOU = 0.3
#: IoU above which a visible frame counts as tracked (``hit%``)
HIT_IOU = 0.5
EXIT_MEMORY, EXIT_NONFINITE = 1, 2


# --------------------------------------------------------------------------------------------- probes


def rss_mb() -> float:
    """Resident set size of this process, MB (psutil when available, else /proc)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / MB
    except ImportError:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    return math.nan


def nonfinite_arrays(tracker: Tracker) -> list[str]:
    """Names of the tracker arrays that hold NaN or Inf (empty when all are finite)."""
    found = []

    def check(name: str, arrays) -> None:
        if arrays is None:
            return
        for index, array in enumerate(arrays if isinstance(arrays, (list, tuple)) else [arrays]):
            if array is not None and not np.isfinite(array).all():
                found.append(f"{name}[{index}]")

    for number, model in enumerate(tracker.models):
        features = "+".join(spec.name for spec in model.extractor.specs)
        check(f"model{number}({features}).filters", model.model.filters)
        check(f"model{number}({features}).projections", model.model.projections)
    if tracker.global_model is not None:
        check("global.filters", tracker.global_model.filters)
        check("global.distractor_spectra", [s for _, spectra in tracker.global_model.distractors for s in spectra])
    scale = getattr(tracker, "scale_filter", getattr(tracker, "_scale_filter", None))  # no public accessor yet
    if scale is not None:
        check("scale.filter_num", scale.filter_num)
        check("scale.filter_den", scale.filter_den)
    average = tracker.monitor.average
    if average is None or not math.isfinite(average):
        found.append(f"monitor.average={average}")
    return found


class WarningCounter(logging.Handler):
    """Counts the tracker's warnings (its non-finite guard logs one each time it fires)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


# --------------------------------------------------------------------------------------------- run


@dataclass
class RunStats:
    """Counters accumulated over the run."""

    frames: int = 0
    tracker_seconds: float = 0.0
    losses: int = 0
    redetections: int = 0
    correct_redetections: int = 0  #: IoU with the ground truth above CORRECT_REDETECTION_IOU
    centred_redetections: int = 0  #: box centre inside the ground-truth box (any size)
    size_ratios: list = field(default_factory=list)  #: sqrt(box area / gt area) while both visible
    window_overlaps: list = field(default_factory=list)  #: IoU of the window's visible frames (0 if reported absent)
    visible_frames: int = 0
    hits: int = 0  #: visible frames tracked with IoU > HIT_IOU
    frames_lost: int = 0
    nonfinite_events: list = field(default_factory=list)
    rows: list = field(default_factory=list)


#: events per 600 frames, as in the synthetic suites' scenes
EVENTS_PER_600 = {"n_occlusions": 3, "n_out_of_view": 2, "n_fast_motion": 1, "n_blur": 1}


def scene_length(args) -> int:
    """Frames of the generated scene: the whole run, or the replayed ``--loop``."""
    return args.loop or args.frames


def build_scene(args) -> SyntheticScene:
    width, height = args.size
    n_frames = scene_length(args)
    events = {name: max(1, round(count * n_frames / 600)) for name, count in EVENTS_PER_600.items()}
    config = SceneConfig(
        seed=args.seed, n_frames=n_frames, width=width, height=height, name="long-run",
        target_size=min(width, height) / 8, screen_size_limits=(16.0, min(width, height) / 3),
        n_distractors=2, **events,
    )
    return SyntheticScene(config)


def run(args) -> int:
    scene = build_scene(args)
    start_rss = rss_mb()  # after the scene (its script of every frame is not the tracker's memory)
    groundtruth = scene.groundtruth  # (scene frames, 4), NaN while hidden
    n_scene = len(groundtruth)
    overrides = {} if args.mode is None else {"redetect": args.mode}
    tracker = Tracker.from_preset(args.preset, **overrides)
    counter = WarningCounter()
    logging.getLogger("dcfre").addHandler(counter)

    stats = RunStats()
    absent = int(np.isnan(groundtruth[:, 0]).sum())
    print(f"preset {args.preset}, mode {args.mode or 'preset default'}, {args.frames} frames of "
          f"{args.size[0]}x{args.size[1]}, " + (f"scene of {n_scene} frames replayed ({absent} absent per loop), "
                                                if args.loop else f"one continuous scene ({absent} frames absent), ") +
          f"seed {args.seed}", flush=True)
    print(f"RSS at start: {start_rss:.1f} MB", flush=True)
    header = (f"{'frame':>7} {'RSS MB':>8} {'dRSS':>7} {'FPS':>6} {'losses':>6} {'redet':>6} {'ok':>5} "
              f"{'centre':>6} {'lost%':>6} {'hit%':>5} {'distr':>5} {'scale':>6} {'size':>5} {'scan Mpx':>8} {'mode':>10}")
    print(header, flush=True)

    warmup_rss = None
    window_start, window_seconds = 0, 0.0
    previous_mode = "tracking"
    for index in range(args.frames):
        frame = scene.render(index % n_scene)
        gt = groundtruth[index % n_scene]
        tic = time.perf_counter()
        if index == 0:
            state = tracker.initialize(frame, gt)
        else:
            state = tracker.track(frame)
        elapsed = time.perf_counter() - tic
        stats.tracker_seconds += elapsed
        window_seconds += elapsed
        stats.frames += 1

        if not (np.isfinite(state.box).all() and math.isfinite(state.confidence)):
            stats.nonfinite_events.append((index + 1, f"state box={state.box} confidence={state.confidence}"))
        if state.mode == "lost":
            stats.frames_lost += 1
            if previous_mode != "lost":
                stats.losses += 1
        elif state.mode == "redetected":
            stats.redetections += 1
            if np.isfinite(gt).all() and iou(state.box, gt)[0] > CORRECT_REDETECTION_IOU:
                stats.correct_redetections += 1
            stats.centred_redetections += bool(np.isfinite(gt).all() and centre_inside(state.box, gt))
        if state.present and np.isfinite(gt).all():
            stats.size_ratios.append(math.sqrt(state.box[2] * state.box[3] / (gt[2] * gt[3])))
        if np.isfinite(gt).all():
            overlap = float(iou(state.box, gt)[0]) if state.present else 0.0
            stats.window_overlaps.append(overlap)
            stats.visible_frames += 1
            stats.hits += overlap > HIT_IOU
        previous_mode = state.mode
        if counter.messages:
            stats.nonfinite_events += [(index + 1, f"tracker warning: {m}") for m in counter.messages]
            counter.messages.clear()
        if (index + 1) % args.check_every == 0:
            stats.nonfinite_events += [(index + 1, name) for name in nonfinite_arrays(tracker)]

        if index + 1 == args.warmup:
            gc.collect()
            warmup_rss = rss_mb()
        if (index + 1) % args.report_every == 0 or index + 1 == args.frames:
            gc.collect()
            row = report_row(index + 1, tracker, stats, window_seconds, index + 1 - window_start, state.mode,
                             start_rss)
            stats.rows.append(row)
            print(format_row(row), flush=True)
            window_start, window_seconds = index + 1, 0.0

    logging.getLogger("dcfre").removeHandler(counter)
    return summarize(args, stats, start_rss, warmup_rss)


def centre_inside(box: np.ndarray, gt: np.ndarray) -> bool:
    """Whether the centre of ``box`` lies inside ``gt`` (both x, y, w, h)."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return bool(gt[0] <= cx <= gt[0] + gt[2] and gt[1] <= cy <= gt[1] + gt[3])


def report_row(frame: int, tracker: Tracker, stats: RunStats, seconds: float, frames: int, mode: str,
               start_rss: float) -> dict:
    rss = rss_mb()
    distractors = len(tracker.global_model.distractors) if tracker.global_model is not None else 0
    size_ratio = float(np.median(stats.size_ratios)) if stats.size_ratios else math.nan
    stats.size_ratios.clear()
    overlaps = np.asarray(stats.window_overlaps)
    hit_percent = 100.0 * float(np.mean(overlaps > HIT_IOU)) if overlaps.size else math.nan
    stats.window_overlaps.clear()
    # the whole-frame scan resizes the frame by 1 / scale (up to a cap)
    frame_hw = np.asarray(tracker.frame_size, dtype=np.float64)
    longterm = tracker.config.longterm
    scan_pixels = min(float(np.prod(frame_hw / tracker.scale)), longterm.max_scan_pixels,
                      longterm.max_scan_frame_ratio * float(np.prod(frame_hw)))
    return {
        "frame": frame, "rss_mb": rss, "rss_growth_mb": rss - start_rss,
        "fps": frames / seconds if seconds > 0 else math.inf, "losses": stats.losses,
        "redetections": stats.redetections, "correct_redetections": stats.correct_redetections,
        "centred_redetections": stats.centred_redetections, "size_ratio": size_ratio,
        "lost_percent": 100.0 * stats.frames_lost / max(stats.frames, 1), "hit_percent": hit_percent,
        "distractors": distractors,
        "scale": tracker.scale, "scan_mpx": scan_pixels / 1e6, "mode": mode,
    }


def format_row(row: dict) -> str:
    return (f"{row['frame']:>7} {row['rss_mb']:>8.1f} {row['rss_growth_mb']:>+7.1f} {row['fps']:>6.1f} "
            f"{row['losses']:>6} {row['redetections']:>6} {row['correct_redetections']:>5} "
            f"{row['centred_redetections']:>6} {row['lost_percent']:>6.1f} {row['hit_percent']:>5.1f} {row['distractors']:>5} "
            f"{row['scale']:>6.3f} {row['size_ratio']:>5.2f} {row['scan_mpx']:>8.2f} {row['mode']:>10}")


def summarize(args, stats: RunStats, start_rss: float, warmup_rss: float | None) -> int:
    end_rss = rss_mb()
    after = [r for r in stats.rows if r["frame"] > args.warmup]
    baseline = warmup_rss if warmup_rss is not None else (stats.rows[0]["rss_mb"] if stats.rows else end_rss)
    peak_after = max([r["rss_mb"] for r in after] + [end_rss])
    growth = peak_after - baseline
    slope = math.nan
    if len(after) >= 2:
        frames = np.array([r["frame"] for r in after], dtype=np.float64)
        rss = np.array([r["rss_mb"] for r in after])
        slope = float(np.polyfit(frames / 1000.0, rss, 1)[0])
    fps = stats.frames / stats.tracker_seconds if stats.tracker_seconds > 0 else math.inf
    print()
    print(f"frames tracked:        {stats.frames}")
    print(f"tracker time:          {stats.tracker_seconds:.1f} s, {fps:.1f} FPS (rendering excluded)")
    print(f"RSS start / warm-up / end / peak after warm-up: {start_rss:.1f} / "
          f"{baseline:.1f} / {end_rss:.1f} / {peak_after:.1f} MB")
    print(f"RSS growth after warm-up ({args.warmup} frames): {growth:+.1f} MB "
          f"(bound {args.max_growth_mb:.0f} MB), trend {slope:+.2f} MB per 1000 frames")
    print(f"losses: {stats.losses}, re-detections: {stats.redetections} "
          f"({stats.correct_redetections} with IoU > {CORRECT_REDETECTION_IOU} to the ground truth, "
          f"{stats.centred_redetections} centred inside it), "
          f"frames reported lost: {stats.frames_lost} ({100.0 * stats.frames_lost / max(stats.frames, 1):.1f}%)")
    print(f"visible frames tracked with IoU > {HIT_IOU}: {stats.hits} of {stats.visible_frames} "
          f"({100.0 * stats.hits / max(stats.visible_frames, 1):.1f}%)")
    print(f"non-finite events:     {len(stats.nonfinite_events)}")
    for frame, what in stats.nonfinite_events[:20]:
        print(f"  frame {frame}: {what}")
    if args.csv:
        write_csv(args.csv, stats.rows)
    status = 0
    if growth > args.max_growth_mb:
        print(f"FAIL: memory grew by {growth:.1f} MB after warm-up (bound {args.max_growth_mb:.0f} MB)")
        status |= EXIT_MEMORY
    if stats.nonfinite_events:
        print("FAIL: NaN/Inf appeared in the tracker state")
        status |= EXIT_NONFINITE
    if status == 0:
        print("PASS: memory bounded and no NaN/Inf")
    return status


def write_csv(path: str, rows: list[dict]) -> None:
    if not rows:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


# --------------------------------------------------------------------------------------------- CLI


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, got {text!r}") from None
    if width < 64 or height < 64:
        raise argparse.ArgumentTypeError(f"size must be at least 64x64, got {text!r}")
    return width, height


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="updt", choices=preset_names(), help="tracker preset (default updt)")
    parser.add_argument("--mode", default="global", choices=["off", "local", "global"],
                        help="long-term mode (default global: the paper's full method)")
    parser.add_argument("--frames", type=positive_int, default=20000, help="frames to track (default 20000)")
    parser.add_argument("--size", type=parse_size, default=(320, 240), help="frame size WxH (default 320x240)")
    parser.add_argument("--loop", type=int, default=0,
                        help="replay a scene of this many frames (default 0: one continuous scene of --frames)")
    parser.add_argument("--seed", type=int, default=3, help="scene seed (default 3)")
    parser.add_argument("--report-every", type=positive_int, default=1000, help="table row period (frames)")
    parser.add_argument("--check-every", type=positive_int, default=100, help="NaN/Inf check period (frames)")
    parser.add_argument("--warmup", type=positive_int, default=2000, help="frames before the memory baseline")
    parser.add_argument("--max-growth-mb", type=float, default=100.0, help="allowed RSS growth after warm-up (MB)")
    parser.add_argument("--csv", default=None, help="also write the table rows to this CSV file")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.loop == 1 or args.loop < 0:
        raise SystemExit("--loop must be 0 (one continuous scene) or at least 2")
    args.warmup = min(args.warmup, args.frames)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
