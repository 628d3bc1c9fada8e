"""Long-term event metrics: a hand-counted sequence, edge cases, a slow frame-by-frame reference."""

import math

import numpy as np
import pytest

from dcfre.errors import InputError
from dcfre.evaluation import events
from dcfre.evaluation.events import EventThresholds, LongTermEvents, sequence_events, suite_events
from dcfre.io import read_results

BOX = [10.0, 10.0, 20.0, 20.0]
FAR = [200.0, 200.0, 20.0, 20.0]  # IoU 0 with BOX
NAN = [np.nan] * 4


def shifted(dx: float) -> list[float]:
    """BOX moved right by dx px: IoU = (20 - dx) * 20 / (800 - (20 - dx) * 20)."""
    return [BOX[0] + dx, BOX[1], BOX[2], BOX[3]]


def hand_sequence():
    """30 frames, counted by hand in the comments.

    gt absent on 10-15 (an episode of 6) and 25-26 (too short). Frame 0 reports a far box: if it
    were counted it would add a wrong lock.
    """
    gt = np.tile(BOX, (30, 1))
    gt[10:16] = np.nan
    gt[25:27] = np.nan
    pred = np.tile(BOX, (30, 1))
    present = np.ones(30, bool)
    pred[0] = FAR
    pred[8] = FAR                      # visible, present, IoU 0: wrong lock
    pred[9] = shifted(8)               # IoU 240/560 = 0.43: neither tracked nor wrong lock
    present[10:13] = False             # absent and reported absent
    pred[13:15] = FAR                  # 13: 0 -> 1 while absent: false re-detection
    present[15:18] = False             # 15 absent; 16, 17 visible but reported absent: false absences
    pred[18] = shifted(5)              # 18: 0 -> 1, IoU 300/500 = 0.6: correct, recovery latency 18 - 16 = 2
    present[25:27] = False             # short absence, reported absent
    pred[27] = FAR                     # 27: 0 -> 1 on a visible target, IoU 0: false re-detection, wrong lock
    pred[29] = shifted(13)             # IoU 140/660 = 0.21
    return pred, present, gt


def test_hand_counted_sequence():
    result = sequence_events(*hand_sequence())
    assert result == LongTermEvents(
        episodes=1, noticed=1,          # 4 of 6 frames (10, 11, 12, 15) reported absent
        returns=1, recovered=1, latencies=(2,),
        redetections=3, correct_redetections=1, false_redetections=2,  # frames 13, 18, 27
        visible_frames=21,              # 1-9, 16-24, 27-29
        false_absence_frames=2,         # 16, 17
        wrong_lock_frames=2,            # 8, 27
        tracked_frames=15,              # 1-7, 18-24, 28
    )
    assert result.noticed_share == 1.0 and result.recovered_share == 1.0 and result.median_latency == 2.0
    assert result.redetection_precision == pytest.approx(1 / 3)
    assert result.false_absence == pytest.approx(2 / 21) and result.wrong_lock == pytest.approx(2 / 21)
    assert result.tracked == pytest.approx(15 / 21)
    row = events.event_cells(result)
    assert row == ["100.0 (1/1)", "100.0 (1/1)", "2.0", "33.3", "1 / 2 / 3", "9.5", "9.5", "71.4"]
    assert len(row) == len(events.EVENT_HEADERS)


def test_hand_counted_result_file(tmp_path):
    """The same sequence through the results file format ``x,y,w,h,confidence,present``."""
    pred, present, gt = hand_sequence()
    lines = [f"{x:g},{y:g},{w:g},{h:g},0.5,{int(p)}" for (x, y, w, h), p in zip(pred, present)]
    path = tmp_path / "seq.txt"
    path.write_text("\n".join(lines) + "\n")
    boxes, _, flags = read_results(path)
    assert sequence_events(boxes, flags, gt) == sequence_events(pred, present, gt)


def test_no_episode_and_no_redetection_are_undefined():
    gt = np.tile(BOX, (20, 1))
    result = sequence_events(gt, np.ones(20), gt)
    assert result.episodes == 0 and result.returns == 0 and result.redetections == 0
    for value in (result.noticed_share, result.recovered_share, result.median_latency, result.redetection_precision):
        assert math.isnan(value)
    assert result.tracked == 1.0 and result.false_absence == 0.0
    cells = events.event_cells(result)
    assert cells[:4] == ["— (0/0)", "— (0/0)", "—", "—"]
    data = result.to_dict()
    assert data["noticed_share"] is None and data["redetection_precision"] is None and data["tracked"] == 1.0


@pytest.mark.parametrize("frames", [0, 1, 2, 4])
def test_short_sequences(frames):
    gt = np.full((frames, 4), np.nan)
    result = sequence_events(np.zeros((frames, 4)), np.zeros(frames, bool), gt)
    assert result.episodes == 0  # at most 3 absent frames after the excluded first one
    assert result.visible_frames == 0 and math.isnan(result.false_absence)


def test_first_frame_is_excluded_from_episodes():
    gt = np.tile(BOX, (12, 1))
    gt[0:5] = np.nan  # 5 absent frames, but frame 0 does not count: 4
    assert sequence_events(gt, np.zeros(12), gt).episodes == 0
    gt[5] = np.nan    # frames 1-5: an episode at the very start
    result = sequence_events(np.tile(BOX, (12, 1)), np.ones(12), gt)
    assert (result.episodes, result.noticed, result.returns, result.recovered, result.latencies) == (1, 0, 1, 1, (0,))


def test_episode_at_the_end_is_not_counted_for_recovery():
    gt = np.tile(BOX, (15, 1))
    gt[8:] = np.nan
    present = np.arange(15) < 8
    result = sequence_events(np.tile(BOX, (15, 1)), present, gt)
    assert (result.episodes, result.noticed, result.returns) == (1, 1, 0)
    assert math.isnan(result.recovered_share)


def test_return_never_found_is_not_recovered():
    gt = np.tile(BOX, (20, 1))
    gt[5:12] = np.nan
    pred = np.tile(FAR, (20, 1))
    pred[:5] = BOX
    result = sequence_events(pred, np.ones(20), gt)
    assert (result.returns, result.recovered, result.latencies) == (1, 0, ())
    assert result.recovered_share == 0.0 and math.isnan(result.median_latency)
    assert result.wrong_lock_frames == 8  # frames 12-19


@pytest.mark.parametrize("latency, recovered", [(0, True), (49, True), (50, True), (51, False)])
def test_recovery_window(latency, recovered):
    n = 80
    gt = np.tile(BOX, (n, 1))
    gt[3:10] = np.nan
    present = np.zeros(n, bool)
    present[:3] = True
    present[10 + latency:] = True
    result = sequence_events(np.tile(BOX, (n, 1)), present, gt)
    assert result.returns == 1 and result.recovered == int(recovered)
    assert result.latencies == ((latency,) if recovered else ())


@pytest.mark.parametrize("length, reported_absent, noticed", [(6, 3, True), (6, 2, False), (5, 3, True),
                                                              (5, 2, False), (4, 4, False)])
def test_notice_needs_half_of_the_episode(length, reported_absent, noticed):
    n = 20
    gt = np.tile(BOX, (n, 1))
    gt[5:5 + length] = np.nan
    present = np.ones(n, bool)
    present[5:5 + reported_absent] = False
    result = sequence_events(np.tile(BOX, (n, 1)), present, gt)
    assert result.episodes == int(length >= 5) and result.noticed == int(noticed)


def test_redetection_between_the_thresholds_is_neither_correct_nor_false():
    gt = np.tile(BOX, (4, 1))
    pred = np.tile(BOX, (4, 1))
    pred[2] = shifted(13)  # IoU 0.21: >= 0.1 and < 0.3
    result = sequence_events(pred, [1, 0, 1, 1], gt)
    assert (result.redetections, result.correct_redetections, result.false_redetections) == (1, 0, 0)
    assert result.redetection_precision == 0.0


def test_suite_sums_counts_not_shares():
    pred, present, gt = hand_sequence()
    clean = np.tile(BOX, (30, 1))
    other_gt = clean.copy()
    other_gt[3:8] = np.nan
    other_gt[12:18] = np.nan
    other_gt[22:30] = np.nan
    total = suite_events([(pred, present, gt), (clean, np.ones(30), other_gt)])
    assert total == sequence_events(pred, present, gt) + sequence_events(clean, np.ones(30), other_gt)
    assert (total.episodes, total.noticed, total.returns, total.recovered) == (4, 1, 3, 3)
    assert total.noticed_share == 0.25  # 1 of 4 episodes, not the mean of 1.0 and 0.0
    assert total.latencies == (2, 0, 0) and total.median_latency == 0.0
    assert suite_events([]) == LongTermEvents()


def test_thresholds_are_configurable_and_validated():
    pred, present, gt = hand_sequence()
    strict = sequence_events(pred, present, gt, EventThresholds(tracked_iou=0.99, min_absence=7))
    assert strict.tracked_frames == 14 and strict.episodes == 0  # frame 18 (IoU 0.6) no longer tracked
    with pytest.raises(InputError, match="min_absence"):
        EventThresholds(min_absence=0)
    with pytest.raises(InputError, match="tracked_iou"):
        EventThresholds(tracked_iou=1.5)
    with pytest.raises(InputError, match="false_iou"):
        EventThresholds(false_iou=0.5, correct_iou=0.3)


def test_bad_inputs():
    with pytest.raises(InputError, match="same number of frames"):
        sequence_events(np.zeros((3, 4)), np.ones(2), np.zeros((3, 4)))
    with pytest.raises(InputError, match="0/1"):
        sequence_events(np.zeros((2, 4)), [1, 2], np.zeros((2, 4)))
    with pytest.raises(InputError, match="0/1"):
        sequence_events(np.zeros((2, 4)), ["yes", "no"], np.zeros((2, 4)))
    with pytest.raises(InputError, match="shape"):
        sequence_events(np.zeros((2, 3)), [1, 1], np.zeros((2, 4)))


# ------------------------------------------------------------------------------------------ slow reference


def _slow_events(pred, present, gt) -> dict:
    """The definitions read literally, one frame at a time (boxes are finite and positive here)."""
    def iou(a, b):
        ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
        iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
        return min(1.0, ix * iy / (a[2] * a[3] + b[2] * b[3] - ix * iy))

    n = len(gt)
    visible = [bool(np.isfinite(g).all()) for g in gt]
    overlap = [iou(pred[t], gt[t]) if visible[t] else 0.0 for t in range(n)]
    out = dict(episodes=0, noticed=0, returns=0, recovered=0, redetections=0, correct=0, false=0,
               visible=0, false_absence=0, wrong_lock=0, tracked=0)
    t = 1
    while t < n:
        if visible[t]:
            t += 1
            continue
        start = t
        while t < n and not visible[t]:
            t += 1
        if t - start < 5:
            continue
        out["episodes"] += 1
        out["noticed"] += sum(not present[k] for k in range(start, t)) * 2 >= t - start
        if t < n:
            out["returns"] += 1
            found = next((k for k in range(t, n) if present[k] and overlap[k] >= 0.3), None)
            out["recovered"] += found is not None and found - t <= 50
    for t in range(1, n):
        if present[t] and not present[t - 1]:
            out["redetections"] += 1
            out["correct"] += visible[t] and overlap[t] >= 0.3
            out["false"] += (not visible[t]) or overlap[t] < 0.1
        if visible[t]:
            out["visible"] += 1
            out["false_absence"] += not present[t]
            out["wrong_lock"] += present[t] and overlap[t] == 0.0
            out["tracked"] += present[t] and overlap[t] >= 0.5
    return out


@pytest.mark.parametrize("seed", range(12))
def test_matches_a_slow_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 150))
    absent = np.zeros(n, bool)
    for _ in range(rng.integers(0, 5)):  # a few absence runs of random length
        start = rng.integers(0, n)
        absent[start:start + rng.integers(1, 12)] = True
    gt = np.where(absent[:, None], np.nan, np.tile(BOX, (n, 1)))
    pred = np.tile(BOX, (n, 1)) + np.c_[rng.choice([0.0, 4.0, 12.0, 16.0, 30.0], n), np.zeros((n, 3))]
    present = rng.random(n) < rng.uniform(0.3, 0.9)
    result = sequence_events(pred, present, gt)
    expected = _slow_events(pred, present, gt)
    assert (result.episodes, result.noticed, result.returns, result.recovered) == (
        expected["episodes"], expected["noticed"], expected["returns"], expected["recovered"])
    assert (result.redetections, result.correct_redetections, result.false_redetections) == (
        expected["redetections"], expected["correct"], expected["false"])
    assert (result.visible_frames, result.false_absence_frames, result.wrong_lock_frames, result.tracked_frames) == (
        expected["visible"], expected["false_absence"], expected["wrong_lock"], expected["tracked"])
