"""The demo: ``python -m dcfre demo`` end to end on a tiny setting, and the pieces it is built from."""

import contextlib
import io
import json

import imageio.v3 as iio
import numpy as np
import pytest

from dcfre.cli import main
from dcfre.demo import (
    DemoConfig,
    RedetectionHighlight,
    SideBySide,
    TrackRun,
    _spans,
    confidence_figure,
    score_run,
    video_states,
)
from dcfre.errors import InputError
from dcfre.io import read_results

N_FRAMES, WIDTH, HEIGHT = 60, 256, 144


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One tiny demo run through the CLI entry point (in process), shared by the end-to-end checks."""
    out = tmp_path_factory.mktemp("demo") / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        code = main(["demo", "--out", str(out), "--frames", str(N_FRAMES), "--size", f"{WIDTH}x{HEIGHT}",
                     "--seed", "1", "--quiet"])
    return code, out, printed.getvalue()


def test_demo_writes_every_output(demo_run):
    code, out, printed = demo_run
    assert code == 0
    for name in ("demo.mp4", "confidence.png", "metrics.json", "metrics.txt", "results/updt@global.txt",
                 "results/updt@off.txt"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    for name in ("demo.mp4", "confidence.png", "metrics.txt", "metrics.json"):
        assert str(out / name) in printed  # tells the user where each file is


def test_demo_video_decodes_with_every_frame(demo_run):
    _, out, _ = demo_run
    frames = list(iio.imiter(out / "demo.mp4", plugin="FFMPEG"))
    assert len(frames) == N_FRAMES
    assert frames[0].shape == (HEIGHT, WIDTH, 3)
    # the tracking box is drawn in green (0, 220, 0) on the first frame (init box, state tracking)
    green = (frames[0][..., 1] > 180) & (frames[0][..., 0] < 80) & (frames[0][..., 2] < 80)
    assert green.sum() > 50


def test_demo_plot_is_a_png_image(demo_run):
    _, out, _ = demo_run
    image = iio.imread(out / "confidence.png")
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 600


def test_demo_metrics_state_the_policy_and_have_both_rows(demo_run):
    _, out, printed = demo_run
    payload = json.loads((out / "metrics.json").read_text())
    assert payload["absent_policy"] == "exclude"
    assert set(payload["metrics"]) == {"updt:global", "updt:off"}
    for row in payload["metrics"].values():
        for key in ("auc", "dp20", "f_score", "precision", "recall", "fps"):
            assert row[key] is not None and 0.0 <= row[key] <= (1.0 if key != "fps" else np.inf)
        assert row["frames"] == N_FRAMES
    text = (out / "metrics.txt").read_text()
    assert "Absent-target policy: exclude" in text
    assert "updt:global" in printed and "updt:off" in printed and "Absent-target policy" in printed


def test_demo_results_match_the_reported_metrics(demo_run):
    """Re-score the written result files independently against the regenerated ground truth."""
    from dcfre.demo import make_demo_sequence

    _, out, _ = demo_run
    payload = json.loads((out / "metrics.json").read_text())
    config = DemoConfig(n_frames=N_FRAMES, size=(WIDTH, HEIGHT), seed=1)
    gt = make_demo_sequence(config).groundtruth - np.array([1.0, 1.0, 0.0, 0.0])
    boxes, _, _ = read_results(out / "results" / "updt@global.txt")
    assert len(boxes) == N_FRAMES
    np.testing.assert_allclose(boxes[0], gt[0], atol=1e-4)
    visible = np.isfinite(gt).all(axis=1)
    overlaps = _slow_iou(boxes[visible], gt[visible])
    auc = np.mean([np.mean(overlaps > t) for t in np.linspace(0, 1, 21)])
    assert payload["metrics"]["updt:global"]["auc"] == pytest.approx(auc, abs=1e-3)


def _slow_iou(a, b):
    out = []
    for p, g in zip(a, b):
        w = max(0.0, min(p[0] + p[2], g[0] + g[2]) - max(p[0], g[0]))
        h = max(0.0, min(p[1] + p[3], g[1] + g[3]) - max(p[1], g[1]))
        out.append(w * h / (p[2] * p[3] + g[2] * g[3] - w * h))
    return np.array(out)


# ---------------------------------------------------------------------------------------------- pieces


def test_spans_are_half_open_runs():
    assert _spans(np.array([0, 1, 1, 0, 1], dtype=bool)) == [(1, 3), (4, 5)]
    assert _spans(np.zeros(3, dtype=bool)) == []
    assert _spans(np.ones(2, dtype=bool)) == [(0, 2)]


def test_redetected_highlight_lasts_n_frames_and_stops_on_loss():
    modes = ["tracking", "lost", "redetected", "tracking", "tracking", "tracking", "lost", "redetected", "tracking"]
    assert video_states(modes, 3) == ["tracking", "lost", "redetected", "redetected", "redetected", "tracking",
                                      "lost", "redetected", "redetected"]
    highlight = RedetectionHighlight(1)
    assert [highlight(m) for m in ("redetected", "tracking")] == ["redetected", "tracking"]


def _run_from(boxes, gt, present=None, confidence=None):
    n = len(boxes)
    run = TrackRun.empty("t", n)
    run.boxes[:] = boxes
    run.present[:] = True if present is None else present
    run.confidence[:] = 1.0 if confidence is None else confidence
    run.seconds = 2.0
    return run


def test_score_run_perfect_tracker():
    gt = np.tile([10.0, 20.0, 30.0, 40.0], (10, 1))
    gt[4:6] = np.nan
    present = np.isfinite(gt).all(axis=1)
    boxes = np.where(present[:, None], gt, gt[0])
    row = score_run(_run_from(boxes, gt, present), gt, "exclude")
    assert row["auc"] == pytest.approx(20 / 21)  # IoU 1 exceeds every threshold but 1.0
    assert row["dp20"] == 1.0
    assert row["f_score"] == pytest.approx(1.0)
    assert row["fps"] == pytest.approx(5.0)
    # under 'failure' the 2 absent frames of 10 count as failures at every threshold
    assert score_run(_run_from(boxes, gt, present), gt, "failure")["auc"] == pytest.approx(0.8 * 20 / 21)


def test_score_run_shifted_boxes_against_direct_computation():
    gt = np.tile([0.0, 0.0, 40.0, 40.0], (6, 1))
    shifts = np.array([0, 4, 8, 16, 24, 30], dtype=float)
    boxes = gt.copy()
    boxes[:, 0] += shifts
    overlaps = (40 - shifts) * 40 / (2 * 1600 - (40 - shifts) * 40)
    expected_auc = np.mean([np.mean(overlaps > t) for t in np.linspace(0, 1, 21)])
    row = score_run(_run_from(boxes, gt), gt)
    assert row["auc"] == pytest.approx(expected_auc)
    assert row["dp20"] == pytest.approx(np.mean(shifts <= 20))


class _ScriptedTracker:
    """Returns scripted modes; the box moves one pixel per frame."""

    def __init__(self, modes):
        self.modes = list(modes)
        self.index = 0

    def initialize(self, frame, box):
        self.box = np.asarray(box, dtype=float)
        return _State(self.box.copy(), 1.0, True, "tracking")

    def track(self, frame):
        self.index += 1
        self.box = self.box + [1, 0, 0, 0]
        mode = self.modes[self.index]
        return _State(self.box.copy(), 0.5, mode != "lost", mode)


class _State:
    def __init__(self, box, confidence, present, mode):
        self.box, self.confidence, self.present, self.mode = box, confidence, present, mode


def test_side_by_side_feeds_every_tracker_every_frame():
    modes = ["tracking", "tracking", "lost", "redetected"]
    side = SideBySide({"a": _ScriptedTracker(modes), "b": _ScriptedTracker(["tracking"] * 4)}, 4)
    frame = np.zeros((8, 8, 3), np.uint8)
    for index in range(4):
        side.step(index, frame, np.array([1.0, 2.0, 3.0, 4.0]) if index == 0 else None)
    a = side.runs["a"]
    np.testing.assert_allclose(a.boxes[:, 0], [1, 2, 3, 4])
    assert a.modes == modes and a.present.tolist() == [True, True, False, True]
    assert a.lost.tolist() == [False, False, True, False] and a.redetections.tolist() == [3]
    assert side.runs["b"].modes == ["tracking"] * 4 and a.seconds >= 0


def test_confidence_figure_draws_three_panels():
    gt = np.tile([10.0, 10.0, 20.0, 20.0], (30, 1))
    gt[10:15] = np.nan
    run = _run_from(gt.copy(), gt, confidence=np.linspace(1, 0, 30))
    run.modes = ["tracking"] * 12 + ["lost"] * 5 + ["redetected"] + ["tracking"] * 12
    fig = confidence_figure(run, gt, 0.6, baseline=_run_from(gt.copy(), gt))
    assert len(fig.axes) == 3
    assert any(line.get_label().startswith("tau_min") for line in fig.axes[0].lines)


@pytest.mark.parametrize("fields, message", [
    ({"n_frames": 1}, "at least 2 frames"),
    ({"size": (32, 200)}, "at least 64x64"),
    ({"absent_policy": "drop"}, "absent policy"),
])
def test_bad_config_raises_clear_errors(fields, message):
    with pytest.raises(InputError, match=message):
        DemoConfig(**fields)


def test_cli_rejects_bad_size_and_unknown_preset(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--size", "640by360"])
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--preset", "nope"])
