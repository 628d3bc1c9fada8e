"""Cost of the long-term components: one whole-frame re-detection and one mining round.

    python scripts/benchmark_redetection.py [--presets eco-hc,updt] [--sizes 640x360,1280x720] [--repeats 10]
                                            [--onnx-threads 1]

For each preset and frame size a tracker (mode ``global``) is initialized on a generated sequence and
tracks a few frames; then, on the following frames, it times ``scorer.features`` + ``scorer.score``
with the local and the global filter sets (what one re-detection attempt costs) and one hard-negative
mining round (whole-frame scan of the local model, distractor extraction). Prints medians in ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def measure(preset: str, size: tuple[int, int], repeats: int, onnx_threads: int) -> dict:
    from dcfre.data.synthetic import make_sequence
    from dcfre.tracker import Tracker

    warmup = 8
    sequence = make_sequence(1, n_frames=warmup + 2 * repeats + 2, size=size)
    frames, gt = sequence.frames, sequence.groundtruth
    overrides = {"redetect": "global"}
    if preset == "updt" or preset == "eco":
        key = "deep.features.deep.threads" if preset == "updt" else "local.features.deep.threads"
        overrides[key] = onnx_threads
    tracker = Tracker.from_preset(preset, **overrides)
    tracker.initialize(frames[0], gt[0])
    for frame in frames[1:warmup]:
        tracker.track(frame)
    local = tracker.confidence_model.model.filters
    redetect, mining = [], []
    for frame in frames[warmup: warmup + repeats]:
        start = time.perf_counter()
        features = tracker.scorer.features(frame, tracker.scale, tracker.position)
        tracker.scorer.score(features, [local, tracker.global_model.filters or local])
        redetect.append(time.perf_counter() - start)
    for i, frame in enumerate(frames[warmup + repeats: warmup + 2 * repeats]):
        start = time.perf_counter()
        tracker._mine(frame, tracker.position, tracker.scale, warmup + repeats + i)
        mining.append(time.perf_counter() - start)
    return {"redetect_ms": 1000 * float(np.median(redetect)), "mining_ms": 1000 * float(np.median(mining))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default="eco-hc,updt")
    parser.add_argument("--sizes", default="640x360,1280x720")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--onnx-threads", type=int, default=1)
    args = parser.parse_args(argv)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
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
