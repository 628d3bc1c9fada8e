"""Cost of the long-term components: one whole-frame re-detection and one mining round.

    python scripts/benchmark_redetection.py [--presets eco-hc,updt] [--sizes 640x360,1280x720] [--repeats 10]
                                            [--onnx-threads 1]

For each preset and frame size a tracker (mode ``global``) is initialized on a generated sequence
(``make_sequence(1, size=...)``, the generator's default 50-pixel target) and tracks a few frames;
then :func:`dcfre.evaluation.benchmark.time_long_term_components` times, on the following frames,
``scorer.features`` + ``scorer.score`` with the local and the global filter sets (what one
re-detection attempt costs) and one hard-negative mining round. Prints medians in ms.

``python -m dcfre bench`` reports the same numbers for every tracker with re-detection, on its own
inputs (target size proportional to the frame height) and in a thread-limited worker process.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # run from a source checkout without installing

from dcfre.evaluation.benchmark import parse_sizes, time_long_term_components

#: Frames tracked before the measurement.
WARMUP_FRAMES = 8
#: ONNX thread setting per preset with a deep backbone.
ONNX_THREAD_KEYS = {"updt": "deep.features.deep.threads", "eco": "local.features.deep.threads"}


def measure(preset: str, size: tuple[int, int], repeats: int, onnx_threads: int) -> dict:
    """:func:`time_long_term_components` of ``preset`` in global mode at ``size`` (``repeats`` scans)."""
    from dcfre.data.synthetic import make_sequence
    from dcfre.tracker import Tracker

    sequence = make_sequence(1, n_frames=WARMUP_FRAMES + repeats + 2, size=size)
    frames, gt = sequence.frames, sequence.groundtruth
    overrides = {"redetect": "global"}
    if preset in ONNX_THREAD_KEYS:
        overrides[ONNX_THREAD_KEYS[preset]] = onnx_threads
    tracker = Tracker.from_preset(preset, **overrides)
    tracker.initialize(frames[0], gt[0])
    for frame in frames[1:WARMUP_FRAMES]:
        tracker.track(frame)
    return time_long_term_components(tracker, frames[WARMUP_FRAMES:WARMUP_FRAMES + repeats], repeats)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default="eco-hc,updt")
    parser.add_argument("--sizes", default="640x360,1280x720")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--onnx-threads", type=int, default=1)
    args = parser.parse_args(argv)
    sizes = parse_sizes(args.sizes)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print("| preset | frame | re-detection ms (median) | mining round ms (median) |")
    print("|---|---|---:|---:|")
    for preset in args.presets.split(","):
        for size in sizes:
            result = measure(preset, size, args.repeats, args.onnx_threads)
            print(f"| {preset} | {size[0]}x{size[1]} | {result['redetect_ms']:.1f} | {result['mining_ms']:.1f} |")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
