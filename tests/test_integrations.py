"""dcfre behind OpenCV's and got10k's tracker interfaces.

The OpenCV-style adapter is fed BGR frames from ``cv2.VideoCapture`` and must give exactly what the tracker
gives on the same frames converted to RGB by OpenCV itself. The got10k-style tracker is run by got10k's own
``ExperimentOTB`` (got10k 0.1.3 works with numpy 2) on a generated folder in OTB layout.
"""

from __future__ import annotations

import importlib.util
import json
from collections import namedtuple

import cv2
import numpy as np
import pytest
from PIL import Image

from dcfre.errors import InputError
from dcfre.integrations import Got10kTracker, OpenCVStyleTracker
from dcfre.integrations.opencv import bgr_to_rgb
from dcfre.tracker import Tracker

N = 12


@pytest.fixture(scope="module")
def clip():
    from dcfre.data.synthetic import make_sequence

    seq = make_sequence(seed=4, n_frames=N, size=(240, 180), target_size=36.0, n_out_of_view=0, n_occlusions=0,
                        n_fast_motion=0, clear_start=N)
    return np.stack(seq.frames), seq.groundtruth


def _reference(frames_rgb, box, **overrides):
    tracker = Tracker.from_preset("eco-hc", **overrides)
    out = [tracker.initialize(frames_rgb[0], box)]
    out += [tracker.track(f) for f in frames_rgb[1:]]
    return out


def test_opencv_adapter_on_videocapture_frames(clip, tmp_path):
    frames, gt = clip
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (frames.shape[2], frames.shape[1]))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    capture = cv2.VideoCapture(str(video))
    decoded = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        decoded.append(frame)
    capture.release()
    assert len(decoded) == N

    adapter = OpenCVStyleTracker("eco-hc")
    assert adapter.init(decoded[0], tuple(gt[0])) is None
    results = [adapter.update(frame) for frame in decoded[1:]]
    expected = _reference([cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in decoded], gt[0])
    for (ok, box), state in zip(results, expected[1:]):
        assert ok is True and isinstance(box, tuple) and len(box) == 4
        np.testing.assert_array_equal(box, state.box)
    assert adapter.state.confidence == expected[-1].confidence


def test_opencv_adapter_ok_is_the_present_flag():
    adapter = OpenCVStyleTracker("eco-hc")
    with pytest.raises(InputError, match="before init"):
        adapter.update(np.zeros((20, 20, 3), np.uint8))
    seen = []

    class Fake:
        def track(self, frame):
            seen.append(frame)
            return namedtuple("S", "box confidence present")(np.array([1.0, 2.0, 3.0, 4.0]), 0.1, False)

    adapter._tracker, adapter.state = Fake(), object()
    bgr = np.zeros((4, 5, 3), np.uint8)
    bgr[..., 0] = 200  # blue in BGR
    assert adapter.update(bgr) == (False, (1.0, 2.0, 3.0, 4.0))
    assert seen[0][..., 2].min() == 200 and seen[0][..., 0].max() == 0  # handed over as RGB
    assert bgr_to_rgb(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5, 3)  # BGRA: alpha dropped
    assert bgr_to_rgb(np.zeros((4, 5), np.uint8)).shape == (4, 5)


def test_got10k_interface_on_pil_images(clip):
    frames, gt = clip
    tracker = Got10kTracker("eco-hc")
    assert tracker.name == "dcfre-eco-hc" and Got10kTracker("eco-hc", name="mine").name == "mine"
    tracker.init(Image.fromarray(frames[0]), gt[0])
    boxes = [tracker.update(Image.fromarray(f)) for f in frames[1:]]
    expected = _reference(frames, gt[0])
    np.testing.assert_array_equal(np.array(boxes), np.array([s.box for s in expected[1:]]))
    # gray PIL images are tracked as gray frames
    gray = Got10kTracker("eco-hc")
    gray.init(Image.fromarray(frames[0]).convert("L"), gt[0])
    assert gray.update(Image.fromarray(frames[1]).convert("L")).shape == (4,)


@pytest.mark.skipif(importlib.util.find_spec("got10k") is None, reason="got10k is not installed")
def test_got10k_experiment_otb_runs_dcfre(clip, tmp_path, monkeypatch):
    """got10k's ExperimentOTB on a generated OTB-layout folder; no download is attempted because a folder
    exists for every sequence name of the chosen OTB version (all but one left empty, so only it is found)."""
    import matplotlib

    matplotlib.use("Agg")
    from got10k.datasets import OTB
    from got10k.experiments import ExperimentOTB

    frames, gt = clip
    root = tmp_path / "OTB"
    names = OTB._OTB__version_dict[2013]  # got10k's list of the OTB-2013 sequence names
    for name in names:
        (root / name).mkdir(parents=True)
    seq = root / names[0]
    (seq / "img").mkdir()
    for index, frame in enumerate(frames, 1):
        Image.fromarray(frame).save(seq / "img" / f"{index:04d}.jpg", quality=95)
    np.savetxt(seq / "groundtruth_rect.txt", gt, fmt="%.4f", delimiter=",")

    monkeypatch.chdir(tmp_path)
    experiment = ExperimentOTB(str(root), version=2013, result_dir="results", report_dir="reports")
    tracker = Got10kTracker("eco-hc")
    experiment.run(tracker)
    recorded = np.loadtxt(tmp_path / "results" / "OTB2013" / tracker.name / f"{names[0]}.txt", delimiter=",")
    decoded = [np.asarray(Image.open(p).convert("RGB")) for p in sorted((seq / "img").glob("*.jpg"))]
    first_box = np.loadtxt(seq / "groundtruth_rect.txt", delimiter=",")[0]  # the box got10k read (4 decimals)
    expected = np.array([s.box for s in _reference(decoded, first_box)])
    np.testing.assert_allclose(recorded, expected, atol=1e-3)  # got10k writes 3 decimals
    performance = experiment.report([tracker.name])[tracker.name]["overall"]
    assert performance["success_score"] > 0.5
    assert json.loads((tmp_path / "reports" / "OTB2013" / tracker.name / "performance.json").read_text())
