"""Metrics against hand-computed cases, slow direct references and properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcfre.errors import InputError
from dcfre.evaluation import metrics

NAN_BOX = [np.nan] * 4
GT = [0.0, 0.0, 10.0, 10.0]


# ------------------------------------------------------------------------------------------ IoU


def test_iou_hand_cases():
    pred = [[5, 0, 10, 10], [0, 0, 10, 10], [10, 0, 10, 10], [0, 0, 10, 5], [2, 2, 5, 5], [20, 20, 3, 3]]
    gt = [GT] * len(pred)
    expected = [50 / 150, 1.0, 0.0, 0.5, 25 / 100, 0.0]
    np.testing.assert_allclose(metrics.iou(pred, gt), expected, rtol=0, atol=1e-12)


def test_iou_empty_boxes():
    pred = [NAN_BOX, GT, NAN_BOX, [0, 0, 0, 10], [0, 0, 10, -1], GT]
    gt = [GT, NAN_BOX, NAN_BOX, GT, GT, [np.inf, 0, 10, 10]]
    out = metrics.iou(pred, gt)
    np.testing.assert_array_equal(out[[0, 1, 3, 4, 5]], 0.0)
    assert math.isnan(out[2])  # both empty: undefined


def test_iou_single_box_and_shape_errors():
    assert metrics.iou(GT, GT).shape == (1,)
    assert metrics.iou(np.zeros((0, 4)), np.zeros((0, 4))).shape == (0,)
    with pytest.raises(InputError):
        metrics.iou([[0, 0, 1]], [[0, 0, 1]])
    with pytest.raises(InputError):
        metrics.iou([GT, GT], [GT])


def _raster_iou(a, b):
    """Independent reference on integer boxes: count pixels of two masks."""
    size = int(max(a[0] + a[2], b[0] + b[2], a[1] + a[3], b[1] + b[3])) + 1
    ma = np.zeros((size, size), bool)
    mb = np.zeros((size, size), bool)
    ma[a[1]:a[1] + a[3], a[0]:a[0] + a[2]] = True
    mb[b[1]:b[1] + b[3], b[0]:b[0] + b[2]] = True
    return (ma & mb).sum() / (ma | mb).sum()


int_box = st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(1, 20), st.integers(1, 20))
float_box = st.tuples(
    st.floats(-1e3, 1e3), st.floats(-1e3, 1e3), st.floats(1e-3, 1e3), st.floats(1e-3, 1e3)
)


@settings(max_examples=150, deadline=None)
@given(int_box, int_box)
def test_iou_matches_raster_reference(a, b):
    assert metrics.iou(a, b)[0] == pytest.approx(_raster_iou(a, b), abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(float_box, float_box)
def test_iou_properties(a, b):
    ab, ba = metrics.iou(a, b)[0], metrics.iou(b, a)[0]
    assert ab == pytest.approx(ba, abs=1e-12)  # symmetry
    assert 0.0 <= ab <= 1.0  # bounds
    assert metrics.iou(a, a)[0] == pytest.approx(1.0)  # identity


# ------------------------------------------------------------------------------------------ centre error


def test_center_error_hand_cases():
    pred = [[3, 4, 10, 10], [0, 0, 10, 10], [0, 0, 20, 20], NAN_BOX, NAN_BOX]
    gt = [GT, GT, GT, GT, NAN_BOX]
    out = metrics.center_error(pred, gt)
    np.testing.assert_allclose(out[:3], [5.0, 0.0, math.hypot(5, 5)])
    assert out[3] == math.inf and math.isnan(out[4])


# ------------------------------------------------------------------------------------------ success / precision


def _boxes_with_ious():
    """Predictions with IoU 1, 0.5, 0.25, 0 against GT and centre errors 0, 2.5, 2.5*sqrt(2), 30."""
    pred = np.array([[0, 0, 10, 10], [0, 0, 10, 5], [0, 0, 5, 5], [30, 0, 10, 10]], float)
    return pred, np.array([GT] * 4)


def test_success_curve_hand_case_and_reference():
    pred, gt = _boxes_with_ious()
    curve = metrics.success_curve(pred, gt)
    overlaps = [1.0, 0.5, 0.25, 0.0]
    reference = [sum(o > t for o in overlaps) / 4 for t in np.linspace(0, 1, 21)]
    np.testing.assert_allclose(curve, reference)
    t = np.linspace(0, 1, 21)
    assert curve[t == 0.0][0] == 0.75 and curve[-1] == 0.0
    assert curve[np.isclose(t, 0.3)][0] == 0.5 and curve[np.isclose(t, 0.6)][0] == 0.25
    assert metrics.auc(curve) == pytest.approx(np.mean(reference))


def test_precision_curve_hand_case():
    pred, gt = _boxes_with_ious()
    curve = metrics.precision_curve(pred, gt)
    assert curve.shape == (51,)
    assert curve[0] == 0.25 and curve[2] == 0.25 and curve[3] == 0.5 and curve[4] == 0.75
    assert metrics.precision_at(curve) == 0.75 and curve[50] == 1.0
    with pytest.raises(InputError):
        metrics.precision_at(curve, 20.5)


def test_absent_policies():
    pred = np.array([GT, [0, 0, 10, 5], GT, NAN_BOX], float)
    gt = np.array([GT, GT, NAN_BOX, GT], float)  # frame 2 absent; frame 3 empty prediction
    # exclude: frames 0, 1, 3 -> IoU 1, 0.5, 0
    np.testing.assert_allclose(metrics.short_term_overlaps(pred, gt, "exclude"), [1.0, 0.5, 0.0])
    # failure: frame 2 counts as IoU 0 although the prediction is a box
    np.testing.assert_allclose(metrics.short_term_overlaps(pred, gt, "failure"), [1.0, 0.5, 0.0, 0.0])
    assert metrics.success_curve(pred, gt, "exclude")[0] == pytest.approx(2 / 3)
    assert metrics.success_curve(pred, gt, "failure")[0] == pytest.approx(2 / 4)
    assert metrics.precision_curve(pred, gt, "exclude")[50] == pytest.approx(2 / 3)
    assert metrics.precision_curve(pred, gt, "failure")[50] == pytest.approx(2 / 4)
    # a tracker reporting "absent" on the absent frame still fails under 'failure'
    pred[2] = np.nan
    assert metrics.success_curve(pred, gt, "failure")[0] == pytest.approx(2 / 4)
    with pytest.raises(InputError, match="absent policy"):
        metrics.success_curve(pred, gt, "drop")


def test_all_absent_sequence_gives_nan_under_exclude():
    gt = np.full((3, 4), np.nan)
    pred = np.array([GT] * 3, float)
    assert np.isnan(metrics.success_curve(pred, gt, "exclude")).all()
    np.testing.assert_array_equal(metrics.success_curve(pred, gt, "failure"), 0.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(float_box, float_box), min_size=1, max_size=20))
def test_curves_are_monotone(pairs):
    pred = np.array([p for p, _ in pairs])
    gt = np.array([g for _, g in pairs])
    success = metrics.success_curve(pred, gt)
    precision = metrics.precision_curve(pred, gt)
    assert np.all(np.diff(success) <= 0) and np.all((0 <= success) & (success <= 1))
    assert np.all(np.diff(precision) >= 0)


# ------------------------------------------------------------------------------------------ long-term


def _longterm_case():
    gt = np.array([GT, GT, NAN_BOX, GT], float)
    pred = np.array([GT, [0, 0, 10, 5], GT, GT], float)
    confidence = np.array([0.9, 0.4, 0.8, 0.95])
    present = np.array([1, 1, 1, 0], bool)  # frame 3: reported absent = empty prediction
    return pred, confidence, present, gt


def test_longterm_hand_case():
    pred, confidence, present, gt = _longterm_case()
    scores = metrics.longterm_scores([(pred, confidence, present, gt)])
    np.testing.assert_array_equal(scores.thresholds, [np.inf, 0.9, 0.8, 0.4, -np.inf])
    # tau=inf: nothing counted; 0.9: frame 0; 0.8: + frame 2 (gt absent, IoU 0); 0.4 and -inf: + frame 1
    np.testing.assert_allclose(scores.precision, [1.0, 1.0, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(scores.recall, [0.0, 1 / 3, 1 / 3, 0.5, 0.5])
    np.testing.assert_allclose(scores.f, [0.0, 0.5, 0.4, 0.5, 0.5])
    assert scores.f_score == pytest.approx(0.5)
    assert scores.best_index == 1
    assert scores.precision_at_best == 1.0 and scores.recall_at_best == pytest.approx(1 / 3)


def _slow_longterm(items):
    """Direct transcription of the definitions, loop by loop."""
    confs = sorted({c for p, cs, fl, g in items for b, c, f in zip(p, cs, fl)
                    if f and np.isfinite(b).all() and b[2] > 0 and b[3] > 0}, reverse=True)
    thresholds = [math.inf] + confs + [-math.inf]
    precisions, recalls = [], []
    for pred, conf, flags, gt in items:
        pr_row, re_row = [], []
        visible = sum(np.isfinite(g).all() for g in gt)
        for tau in thresholds:
            total, count = 0.0, 0
            for box, c, f, g in zip(pred, conf, flags, gt):
                if f and c >= tau:
                    count += 1
                    total += _raster_iou(box.astype(int), g.astype(int)) if np.isfinite(g).all() else 0.0
            pr_row.append(total / count if count else 1.0)
            re_row.append(total / visible if visible else math.nan)
        precisions.append(pr_row)
        recalls.append(re_row)
    pr = np.mean(precisions, axis=0)
    re = np.nanmean(recalls, axis=0)
    f = np.where(pr + re > 0, 2 * pr * re / np.maximum(pr + re, 1e-300), 0.0)
    return np.array(thresholds), pr, re, f


def test_longterm_two_sequences_against_slow_reference():
    rng = np.random.default_rng(3)
    items = [_longterm_case()]
    for n in (7, 11):
        gt = np.column_stack([rng.integers(0, 20, (n, 2)), rng.integers(2, 10, (n, 2))]).astype(float)
        gt[rng.random(n) < 0.3] = np.nan
        pred = np.column_stack([rng.integers(0, 20, (n, 2)), rng.integers(2, 10, (n, 2))]).astype(float)
        conf = np.round(rng.random(n), 2)
        present = rng.random(n) < 0.8
        items.append((pred, conf, present, gt))
    scores = metrics.longterm_scores(items)
    thresholds, pr, re, f = _slow_longterm(items)
    np.testing.assert_array_equal(scores.thresholds, thresholds)
    np.testing.assert_allclose(scores.precision, pr, atol=1e-12)
    np.testing.assert_allclose(scores.recall, re, atol=1e-12)
    np.testing.assert_allclose(scores.f, f, atol=1e-12)
    assert scores.f_score == pytest.approx(f.max())


def test_longterm_extremes_and_degenerate_sequences():
    gt = np.array([GT, GT], float)
    pred = np.array([GT, GT], float)
    # all predictions empty: only the extremes, Pr 1 and Re 0 everywhere
    s = metrics.longterm_scores([(pred, [0.5, 0.7], [False, False], gt)])
    np.testing.assert_array_equal(s.thresholds, [np.inf, -np.inf])
    np.testing.assert_array_equal(s.precision, 1.0)
    np.testing.assert_array_equal(s.recall, 0.0)
    assert s.f_score == 0.0
    # perfect tracker: at -inf every frame counts -> Pr = Re = F = 1
    s = metrics.longterm_scores([(pred, [0.5, 0.7], None, gt)])
    assert s.f_score == 1.0 and s.thresholds[-1] == -np.inf and s.precision[0] == 1.0 and s.recall[0] == 0.0
    # a sequence without visible frames has undefined recall and is left out of the recall mean
    absent = np.full((2, 4), np.nan)
    s = metrics.longterm_scores([(pred, [0.5, 0.7], None, gt), (pred, [0.5, 0.7], None, absent)])
    assert s.recall[-1] == 1.0 and s.precision[-1] == 0.5


def test_longterm_thresholds_subsample():
    values = np.linspace(0, 1, 1000)
    t = metrics.longterm_thresholds([values[:500], values[500:], [np.nan]], count=100)
    assert t.shape == (102,) and t[0] == np.inf and t[-1] == -np.inf
    assert t[1] == 1.0 and t[-2] == 0.0 and np.all(np.diff(t) < 0)
    assert metrics.longterm_thresholds([[0.3, 0.3, 0.1]]).tolist() == [np.inf, 0.3, 0.1, -np.inf]
