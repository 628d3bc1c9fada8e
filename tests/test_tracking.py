"""End-to-end tracking on generated sequences (real photos from scikit-image, known ground truth)."""

import numpy as np
import pytest
from skimage import data, transform

from dcfre.errors import InputError
from dcfre.tracker import Tracker


def iou(a, b):
    x1 = np.maximum(a[:, 0], b[:, 0])
    y1 = np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / (a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter)


def moving_object_sequence(n_frames=200, size=(240, 320), seed=0, gray=False):
    """A textured object (cut from chelsea()) moving over astronaut() with scale change and rotation.

    Returns frames (n, H, W, 3) uint8 and ground-truth boxes (n, 4) as x, y, w, h (0-based).
    """
    rng = np.random.default_rng(seed)
    h, w = size
    background = (transform.resize(data.astronaut(), (h, w), anti_aliasing=True) * 255).astype(np.float32)
    obj = data.chelsea()[60:240, 120:320].astype(np.float32)  # the cat's face, 180x200
    base = np.array([44.0, 48.0])  # object height, width at scale 1
    t = np.arange(n_frames)
    cy = h / 2 + 0.28 * h * np.sin(2 * np.pi * t / n_frames + rng.uniform(0, 1))
    cx = w / 2 + 0.30 * w * np.sin(4 * np.pi * t / n_frames)
    scale = 1.0 + 0.35 * np.sin(2 * np.pi * t / n_frames)
    angle = 8.0 * np.sin(6 * np.pi * t / n_frames)
    frames, boxes = [], []
    for i in range(n_frames):
        oh, ow = base * scale[i]
        patch = transform.resize(obj, (int(round(oh)), int(round(ow))), anti_aliasing=True)
        patch = transform.rotate(patch, angle[i], mode="edge")
        frame = background.copy()
        y0, x0 = int(round(cy[i] - patch.shape[0] / 2)), int(round(cx[i] - patch.shape[1] / 2))
        frame[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]] = patch
        frame = np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8)
        if gray:
            frame = frame.mean(axis=2).astype(np.uint8)
        frames.append(frame)
        boxes.append([x0, y0, patch.shape[1], patch.shape[0]])
    return np.stack(frames), np.array(boxes, dtype=np.float64)


def run(tracker, frames, init):
    states = [tracker.initialize(frames[0], init)]
    states += [tracker.track(f) for f in frames[1:]]
    return np.array([s.box for s in states]), states


@pytest.fixture(scope="module")
def sequence():
    return moving_object_sequence()


def test_eco_hc_tracks_moving_scaling_rotating_object(sequence):
    frames, gt = sequence
    boxes, states = run(Tracker.from_preset("eco-hc"), frames, gt[0])
    overlap = iou(boxes, gt)
    assert overlap.mean() > 0.85, overlap.mean()
    assert overlap.min() > 0.6
    assert all(s.present for s in states)
    # the estimated size follows the true size change (scale filter)
    ratio = (boxes[:, 2] * boxes[:, 3]) / (gt[:, 2] * gt[:, 3])
    assert np.median(np.abs(np.log(ratio))) < 0.2


def test_eco_hc_on_gray_frames():
    frames, gt = moving_object_sequence(n_frames=80, gray=True, seed=1)
    boxes, _ = run(Tracker.from_preset("eco-hc"), frames, gt[0])
    assert iou(boxes, gt).mean() > 0.5


def test_tiny_and_huge_targets_and_rgba_frames():
    frames, gt = moving_object_sequence(n_frames=30, seed=2)
    # tiny 8x8 box inside the object, RGBA frames
    rgba = np.concatenate([frames, np.full(frames.shape[:3] + (1,), 255, np.uint8)], axis=3)
    tiny = np.array([gt[0, 0] + 15, gt[0, 1] + 15, 8, 8])
    boxes, _ = run(Tracker.from_preset("eco-hc"), rgba, tiny)
    assert np.isfinite(boxes).all()
    # a box larger than half the frame, and one partly outside the image
    huge = np.array([10, 10, 280, 200])
    boxes, _ = run(Tracker.from_preset("eco-hc"), frames[:10], huge)
    assert np.isfinite(boxes).all()
    partly_outside = np.array([-20, -10, 60, 50])
    boxes, _ = run(Tracker.from_preset("eco-hc"), frames[:10], partly_outside)
    assert np.isfinite(boxes).all()


@pytest.mark.parametrize(
    "box, message",
    [([10, 10, 0, 20], "zero"), ([1000, 1000, 20, 20], "outside"), ([1, 2, 3], "4 numbers"),
     ([np.nan, 1, 2, 3], "non-finite")],
)
def test_bad_boxes_raise_clear_errors(box, message):
    frame = np.zeros((100, 120, 3), np.uint8)
    with pytest.raises(InputError, match=message):
        Tracker.from_preset("eco-hc").initialize(frame, box)


def test_bad_frames_raise_clear_errors():
    tracker = Tracker.from_preset("eco-hc")
    with pytest.raises(InputError, match="shape"):
        tracker.initialize(np.zeros((10, 10, 5), np.uint8), [1, 1, 4, 4])
    with pytest.raises(InputError, match="before initialize"):
        Tracker.from_preset("eco-hc").track(np.zeros((50, 50, 3), np.uint8))
    frames, gt = moving_object_sequence(n_frames=2, seed=3)
    tracker.initialize(frames[0], gt[0])
    with pytest.raises(InputError, match="size changed"):
        tracker.track(frames[1][:100])


def test_unknown_preset_and_override():
    with pytest.raises(InputError, match="unknown preset"):
        Tracker.from_preset("nope")
    with pytest.raises(InputError, match="unknown override"):
        Tracker.from_preset("eco-hc", learning_rat=0.1)


def test_updt_tracks_at_least_as_well_as_eco_hc(sequence):
    frames, gt = sequence
    eco_hc = iou(run(Tracker.from_preset("eco-hc"), frames, gt[0])[0], gt).mean()
    updt = iou(run(Tracker.from_preset("updt", redetect="off"), frames, gt[0])[0], gt).mean()
    assert updt >= eco_hc - 0.02, (updt, eco_hc)
    assert updt > 0.85


def test_updt_models_share_their_patches_with_the_same_scores(sequence):
    """UPDT cuts the search patches once for both models; each model's own patches score the same."""
    frames, gt = sequence
    tracker = Tracker.from_preset("updt", redetect="off")
    tracker.initialize(frames[0], gt[0])
    assert tracker._shared_patches
    loc = tracker.localize(frames[1])
    scales = tracker.scale * tracker._search_factors
    for model, shared in zip(tracker.models, loc.detections):
        own = model.detect(frames[1], tracker.position, scales)
        np.testing.assert_array_equal(own.score_spectra, shared.score_spectra)


def test_tracking_with_updt_never_imports_torch():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from dcfre.tracker import Tracker\n"
        "rng = np.random.default_rng(0)\n"
        "frames = rng.integers(0, 255, (4, 120, 160, 3), dtype=np.uint8)\n"
        "t = Tracker.from_preset('updt')\n"
        "t.initialize(frames[0], (60, 40, 30, 30))\n"
        "[t.track(f) for f in frames[1:]]\n"
        "assert not any(m == 'torch' or m.startswith('torch.') for m in sys.modules), 'torch imported'\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_results_are_reproducible_across_processes():
    import subprocess
    import sys

    code = (
        "import hashlib, sys, numpy as np\n"
        "sys.path.insert(0, 'tests')\n"
        "from test_tracking import moving_object_sequence\n"
        "from dcfre.tracker import Tracker\n"
        "frames, gt = moving_object_sequence(n_frames=40, seed=7)\n"
        "t = Tracker.from_preset('eco-hc')\n"
        "t.initialize(frames[0], gt[0])\n"
        "boxes = np.array([t.track(f).box for f in frames[1:]])\n"
        "print(hashlib.sha256(boxes.tobytes()).hexdigest())\n"
    )
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=root)
            for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    assert runs[0].stdout == runs[1].stdout


def test_pinned_blas_threads_set_the_process_once_and_skip_the_per_call_limit(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    from dcfre import tracker as tracker_module

    monkeypatch.setitem(tracker_module._BLAS, "pinned", None)
    with threadpool_limits(limits=2, user_api="blas"):  # restores the test process's pools afterwards
        assert type(tracker_module._blas_threads(1)).__name__ != "nullcontext"
        tracker_module.pin_blas_threads(1)
        assert all(info["num_threads"] == 1 for info in threadpool_info() if info["user_api"] == "blas")
        assert type(tracker_module._blas_threads(1)).__name__ == "nullcontext"
        assert type(tracker_module._blas_threads(2)).__name__ != "nullcontext"  # another limit is still applied
        tracker_module.pin_blas_threads(None)
        assert tracker_module._BLAS["pinned"] == 1


def test_detection_peak_is_found_on_first_use_and_keeps_the_learning_scale():
    from dcfre.eco.appearance import Detection
    from dcfre.eco.peak import Peak

    calls = []

    def locate():
        calls.append(1)
        return Peak(np.array([1.0, 2.0]), 3.0, 0), np.zeros((2, 3, 3))

    detection = Detection(np.zeros(2), np.ones(2), [], np.zeros((2, 3, 2)), locate)
    detection.set_scale_index(1)
    assert detection.scale_index == 1 and calls == []  # learning needs no peak
    assert detection.peak.scale_index == 1 and detection.peak.score == 3.0 and calls == [1]
    assert detection.maps.shape == (2, 3, 3) and calls == [1]
    detection.set_scale_index(0)
    assert detection.peak.scale_index == 0 and list(detection.peak.displacement) == [1.0, 2.0]
