"""Report: scores from result folders against the metrics, output files, plots, the eval CLI."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from dcfre.data.sequence import Sequence
from dcfre.errors import InputError
from dcfre.evaluation import metrics, plots, report, trackers
from dcfre.evaluation.runner import TrackingOutput, load_result, save_output

GT_BOX = np.array([10.0, 10.0, 20.0, 20.0])


def _sequences():
    """Three sequences of 10 frames; 'b' has 3 absent frames; attributes FOC on a and b, OV on c."""
    gt = np.tile(GT_BOX, (10, 1))
    gt_absent = gt.copy()
    gt_absent[4:7] = np.nan
    frames = [Path(f"/nonexistent/{i}.png") for i in range(10)]
    return [
        Sequence("a", frames, gt, {"FOC": True, "OV": False}),
        Sequence("b", frames, gt_absent, {"FOC": True, "OV": False}),
        Sequence("c", frames, gt + [3, 0, 0, 0], {"FOC": False, "OV": True}),
    ]


def _write(out, tracker, name, boxes, confidence, present, seconds):
    save_output(out, TrackingOutput(tracker, name, np.asarray(boxes, float), np.asarray(confidence, float),
                                    np.asarray(present, bool), seconds))


@pytest.fixture
def results_dir(tmp_path):
    """'good' = ground truth shifted by 2 px (reports absence on b); 'drift:global' drifts away."""
    rng = np.random.default_rng(1)
    for seq in _sequences():
        n = len(seq.groundtruth)
        good = np.where(np.isfinite(seq.groundtruth), seq.groundtruth + [2, 0, 0, 0], GT_BOX)
        present = np.isfinite(seq.groundtruth).all(axis=1)
        _write(tmp_path, "good", seq.name, good, np.where(present, 0.9, 0.2), present, 0.5)
        drift = np.tile(GT_BOX, (n, 1)) + np.outer(np.arange(n), [4, 1, 0, 0])
        _write(tmp_path, "drift:global", seq.name, drift, rng.random(n), np.ones(n, bool), 0.25)
    return tmp_path


def test_scores_match_metrics(results_dir):
    sequences = _sequences()
    summary = report.evaluate(sequences, results_dir, policy="exclude")
    assert set(summary.trackers) == {"good", "drift:global"}  # folder drift@global mapped back
    assert (results_dir / "drift@global").is_dir()
    drift = summary.trackers["drift:global"]
    per_seq = []
    for seq in sequences:
        boxes = np.tile(GT_BOX, (10, 1)) + np.outer(np.arange(10), [4, 1, 0, 0])
        curve = metrics.success_curve(boxes, seq.groundtruth, "exclude")
        assert drift.sequences[seq.name].auc == pytest.approx(metrics.auc(curve))
        per_seq.append(metrics.auc(curve))
    assert drift.auc == pytest.approx(np.mean(per_seq))  # mean over sequences of per-sequence AUC
    assert drift.fps == pytest.approx(30 / 0.75) and drift.frames == 30
    foc = [drift.sequences[n].auc for n in ("a", "b")]
    assert drift.attributes["FOC"].auc == pytest.approx(np.mean(foc)) and drift.attributes["FOC"].n == 2
    assert drift.attributes["OV"].auc == pytest.approx(drift.sequences["c"].auc)
    # the 'good' tracker: shifted 2 px -> IoU 18/22 on visible frames, centre error 2 px
    good = summary.trackers["good"]
    assert good.sequences["a"].auc == pytest.approx(np.mean(18 / 22 > metrics.SUCCESS_THRESHOLDS))
    assert good.dp20 == 1.0
    # long-term: it reports absence exactly on the absent frames -> Pr = Re = F = 18/22
    assert good.longterm.f_score == pytest.approx(18 / 22)
    assert good.longterm.precision_at_best == pytest.approx(18 / 22) == good.longterm.recall_at_best
    expected = metrics.longterm_scores(
        (np.tile(GT_BOX, (10, 1)) + np.outer(np.arange(10), [4, 1, 0, 0]), r.confidence, r.present, s.groundtruth)
        for s, r in ((s, load_result(results_dir, "drift:global", s.name)) for s in sequences)
    )
    np.testing.assert_allclose(drift.longterm.f, expected.f)
    assert drift.longterm.f_score == pytest.approx(expected.f_score)
    assert summary.ranked()[0].name == "good"


def test_absent_policy_changes_only_sequences_with_absent_frames(results_dir):
    sequences = _sequences()
    exclude = report.evaluate(sequences, results_dir, policy="exclude").trackers["good"]
    failure = report.evaluate(sequences, results_dir, policy="failure").trackers["good"]
    assert exclude.sequences["a"].auc == failure.sequences["a"].auc
    assert failure.sequences["b"].auc == pytest.approx(exclude.sequences["b"].auc * 7 / 10)
    assert failure.sequences["b"].dp20 == pytest.approx(0.7) and exclude.sequences["b"].dp20 == 1.0
    assert failure.longterm.f_score == exclude.longterm.f_score  # long-term scores ignore the policy


def test_summary_files(results_dir):
    summary = report.evaluate(_sequences(), results_dir, policy="failure")
    paths = report.write_summary(summary, results_dir)
    data = json.loads(paths["json"].read_text())
    assert data["policy"] == "failure"
    for t in data["trackers"].values():
        for key in ("auc", "dp20", "fps", "f_score", "precision", "recall"):
            assert isinstance(t[key], float)
        assert 0 <= t["auc"] <= 1 and 0 <= t["dp20"] <= 1
        assert set(t["sequences"]) == {"a", "b", "c"}
        assert set(t["sequences"]["b"]) >= {"auc", "dp20", "fps", "frames"}
        assert t["sequences"]["b"]["frames"] == 10
    assert data["trackers"]["good"]["auc"] == pytest.approx(summary.trackers["good"].auc)
    rows = list(csv.DictReader(paths["csv"].open()))
    assert [r["tracker"] for r in rows] == ["good", "drift:global"]
    assert float(rows[0]["dp20"]) == pytest.approx(summary.trackers["good"].dp20)
    md = paths["md"].read_text()
    assert "Absent-target policy: failure" in md and "| good |" in md and "| FOC | 2 |" in md
    assert report.policy_line(summary).startswith("Absent-target policy: failure")


def test_missing_results(results_dir):
    sequences = _sequences() + [Sequence("d", [], np.tile(GT_BOX, (3, 1)))]
    with pytest.raises(InputError, match="no finished results"):
        report.evaluate(sequences, results_dir)
    summary = report.evaluate(sequences, results_dir, allow_missing=True)
    assert summary.trackers["good"].missing == ["d"] and "Missing results" in report.markdown_report(summary)
    with pytest.raises(InputError, match="no tracker results"):
        report.evaluate(sequences, results_dir / "empty")


def test_plots_written(results_dir):
    summary = report.evaluate(_sequences(), results_dir)
    paths = plots.plot_all(summary, results_dir / "plots")
    names = sorted(p.name for p in paths)
    for stem in ("success", "precision", "attributes", "longterm_pr", "longterm_f"):
        assert f"{stem}.png" in names and f"{stem}.pdf" in names
    assert all(p.stat().st_size > 1000 for p in paths)
    assert plots.plot_attribute_success(summary, results_dir / "none", attributes=("LR",)) == []


def test_eval_cli_on_a_folder_dataset(tmp_path, capsys, monkeypatch):
    import dcfre.data
    from test_runner import FakeTracker, read_sequences, write_sequences

    from dcfre.cli import main

    try:
        from dcfre.data.loaders import load_dataset  # noqa: F401  (the real folder loader)
    except ImportError:  # the loaders are developed separately: minimal stand-in
        monkeypatch.setattr(dcfre.data, "load_dataset", lambda name, root: read_sequences(Path(root)), raising=False)

    write_sequences(tmp_path / "seqs", lengths=(12, 12, 8))
    trackers.register_tracker("fake", FakeTracker)
    try:
        args = ["eval", "--dataset", "folder", "--root", str(tmp_path / "seqs"), "--trackers", "opencv-kcf,fake",
                "--out", str(tmp_path / "out"), "--absent", "failure", "--max-frames", "10", "--quiet"]
        assert main(args) == 0
        first = capsys.readouterr().out
        assert "Absent-target policy: failure" in first and "| opencv-kcf |" in first
        assert "| Tracker | AUC (%) | F-score | Absences noticed (%) |" in first  # the events table
        assert main(args + ["--sequences", "seq0,seq1", "--no-plots"]) == 0
        assert "0 sequence run(s) computed, 4 reused" in capsys.readouterr().out
        assert main(args[:-1] + ["--sequences", "nope"]) == 2
        assert main(["eval", "--dataset", "folder", "--root", "x", "--trackers", "nope", "--out", "y"]) == 2
    finally:
        trackers.unregister_tracker("fake")
    data = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert data["trackers"]["fake"]["sequences"]["seq0"]["frames"] == 10
    assert (tmp_path / "out" / "plots" / "success.pdf").is_file()


def test_long_term_events_in_every_summary_file(tmp_path):
    """Hand-counted events: 'lt' has a 6-frame absence, 'plain' none; the suite sums their counts."""
    far = [200.0, 200.0, 20.0, 20.0]
    frames = [Path(f"/nonexistent/{i}.png") for i in range(15)]
    gt = np.tile(GT_BOX, (15, 1))
    gt[5:11] = np.nan
    sequences = [Sequence("lt", frames, gt), Sequence("plain", frames[:10], np.tile(GT_BOX, (10, 1)))]
    boxes = np.tile(GT_BOX, (15, 1))
    present = np.ones(15, bool)
    present[5:10] = False  # 5 of the 6 absent frames reported absent: noticed
    boxes[10:12] = far     # 10: 0 -> 1 on an absent target (false re-detection); 11: returned, wrong lock
    _write(tmp_path, "t", "lt", boxes, np.ones(15), present, 1.0)  # 12: found again, latency 1
    _write(tmp_path, "t", "plain", np.tile(GT_BOX, (10, 1)), np.ones(10), np.ones(10, bool), 1.0)
    summary = report.evaluate(sequences, tmp_path)
    ev = summary.trackers["t"].events
    assert (ev.episodes, ev.noticed, ev.returns, ev.recovered, ev.latencies) == (1, 1, 1, 1, (1,))
    assert (ev.redetections, ev.correct_redetections, ev.false_redetections) == (1, 0, 1)
    assert (ev.visible_frames, ev.false_absence_frames, ev.wrong_lock_frames, ev.tracked_frames) == (17, 0, 1, 16)

    paths = report.write_summary(summary, tmp_path)
    data = json.loads(paths["json"].read_text())["trackers"]["t"]
    assert data["events"]["noticed_share"] == 1.0 and data["events"]["median_latency"] == 1.0
    assert data["events"]["wrong_lock"] == pytest.approx(1 / 17) and data["events"]["redetection_precision"] == 0.0
    assert data["sequences"]["plain"]["events"]["episodes"] == 0
    assert data["sequences"]["plain"]["events"]["noticed_share"] is None  # no episode: undefined
    assert data["sequences"]["lt"]["events"]["tracked_frames"] == 7  # 1-4 and 12-14
    row = next(csv.DictReader(paths["csv"].open()))
    assert row["episodes"] == "1" and float(row["tracked"]) == pytest.approx(16 / 17)
    assert row["redetection_precision"] == "0.000000" and row["policy"] == "exclude"
    md = paths["md"].read_text()
    assert "## Long-term events" in md and "at least 5 absent frames" in md
    line = next(line for line in md.splitlines() if line.startswith("| t |") and "(1/1)" in line)
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[3:] == ["100.0 (1/1)", "100.0 (1/1)", "1.0", "0.0", "0 / 1 / 1", "0.0", "5.9", "94.1"]
