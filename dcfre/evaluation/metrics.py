"""Tracking metrics: overlap, centre error, OTB/UAV success and precision, long-term Pr/Re/F.

All functions are vectorized numpy over frames. Boxes are ``x, y, w, h`` (top-left corner and
size, float pixels) in one common pixel convention for prediction and ground truth.

Empty boxes
    A box is *empty* when any of its four values is not finite (a ``NaN`` row marks an absent
    target in the ground truth) or its width or height is not positive. An empty prediction
    means "the tracker says the target is not visible".

Short-term protocol (OTB / UAV123)
    Per frame IoU and centre error; success curve = fraction of frames with IoU > t for
    ``t`` in ``linspace(0, 1, 21)``, AUC = mean of the success curve; precision curve =
    fraction of frames with centre error <= t pixels for ``t = 0 .. 50``, DP@20 = its value at
    20 px. Frames whose ground truth is empty follow an explicit ``absent`` policy:

    ``'exclude'``
        the frames are dropped before the curves are computed (got10k's convention);
    ``'failure'``
        the frames stay and count as failures at every threshold: IoU 0 and infinite centre
        error, whatever the tracker predicted (pysot / pytracking's convention for UAV123).

    A frame with visible ground truth and an empty prediction is a failure under both
    policies.

Long-term protocol (LTB35, Lukezic et al., "Now you see me")
    Each frame carries a box, a confidence theta_t and a present flag; a prediction with
    ``present = 0`` (or an empty box) is an empty prediction. At a threshold tau the
    prediction of frame t counts only if it is non-empty and ``theta_t >= tau``::

        Pr(tau) = sum_{t counted} IoU_t / N_counted(tau)
        Re(tau) = sum_{t counted} IoU_t / N_visible

    with IoU_t = 0 where exactly one of prediction and ground truth is empty (so counted
    predictions on absent frames lower the precision). ``N_visible`` = frames with non-empty
    ground truth. Where no prediction counts, ``Pr = 1, Re = 0`` (the VOT long-term toolkit's
    convention, giving the (0, 1) end of the PR curve); a sequence without visible frames has
    an undefined recall (NaN) and is left out of the recall average. Thresholds are up to 100
    values from the sorted confidences of all sequences of one tracker plus the extremes
    +inf and -inf. Pr and Re are averaged over sequences at each tau,
    ``F(tau) = 2 Pr Re / (Pr + Re)``, the F-score is the maximum of F and the reported Pr and
    Re are taken at its (first) argmax. Two empty boxes are *not* scored as IoU 1 (unlike
    vot-toolkit 0.9): such frames enter neither sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from dcfre.errors import InputError

#: IoU thresholds of the success curve (OTB/UAV123 convention).
SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
#: Centre-error thresholds of the precision curve, pixels.
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
#: Centre-error threshold of the distance precision (DP) score, pixels.
DP_THRESHOLD_PX = 20.0
#: Valid values of the ``absent`` policy for short-term metrics.
ABSENT_POLICIES = ("exclude", "failure")
#: Default number of confidence values used as long-term thresholds (extremes excluded).
LONGTERM_THRESHOLD_COUNT = 100


def as_boxes(boxes, name: str = "boxes") -> np.ndarray:
    """Validate and convert boxes to a float64 array of shape (N, 4).

    Parameters
    ----------
    boxes : array_like, shape (N, 4) or (4,)
        ``x, y, w, h`` rows; a single box becomes one row.
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray, shape (N, 4), float64
    """
    array = np.asarray(boxes, dtype=np.float64)
    if array.ndim == 1 and array.shape[0] == 4:
        array = array[None, :]
    if array.ndim == 1 and array.shape[0] == 0:
        array = array.reshape(0, 4)
    if array.ndim != 2 or array.shape[1] != 4:
        raise InputError(f"{name} must have shape (N, 4), got {np.shape(boxes)}")
    return array


def box_is_empty(boxes) -> np.ndarray:
    """True where a box is empty: a non-finite value or a non-positive width or height.

    Parameters
    ----------
    boxes : array_like, shape (N, 4)

    Returns
    -------
    ndarray, shape (N,), bool
    """
    b = as_boxes(boxes)
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(b).all(axis=1) | (b[:, 2] <= 0) | (b[:, 3] <= 0)


def _paired(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    p = as_boxes(pred, "pred")
    g = as_boxes(gt, "gt")
    if p.shape[0] != g.shape[0]:
        raise InputError(f"pred and gt must have the same number of boxes, got {p.shape[0]} and {g.shape[0]}")
    return p, g


def iou(pred, gt) -> np.ndarray:
    """Intersection over union of paired boxes (continuous areas ``w * h``).

    Parameters
    ----------
    pred, gt : array_like, shape (N, 4) or (4,)
        ``x, y, w, h`` boxes.

    Returns
    -------
    ndarray, shape (N,), float64
        IoU in [0, 1] where both boxes are non-empty; 0 where exactly one is empty;
        NaN where both are empty (undefined: each protocol decides what such a frame means).
    """
    p, g = _paired(pred, gt)
    p_empty, g_empty = box_is_empty(p), box_is_empty(g)
    both = ~p_empty & ~g_empty
    out = np.zeros(p.shape[0], dtype=np.float64)
    pb, gb = p[both], g[both]
    ix = np.minimum(pb[:, 0] + pb[:, 2], gb[:, 0] + gb[:, 2]) - np.maximum(pb[:, 0], gb[:, 0])
    iy = np.minimum(pb[:, 1] + pb[:, 3], gb[:, 1] + gb[:, 3]) - np.maximum(pb[:, 1], gb[:, 1])
    inter = np.clip(ix, 0.0, None) * np.clip(iy, 0.0, None)
    union = pb[:, 2] * pb[:, 3] + gb[:, 2] * gb[:, 3] - inter
    out[both] = np.clip(inter / union, 0.0, 1.0)
    out[p_empty & g_empty] = np.nan
    return out


def center_error(pred, gt) -> np.ndarray:
    """Euclidean distance between box centres ``(x + w/2, y + h/2)``, pixels.

    Parameters
    ----------
    pred, gt : array_like, shape (N, 4) or (4,)

    Returns
    -------
    ndarray, shape (N,), float64
        Distance where both boxes are non-empty; ``inf`` where exactly one is empty; NaN where
        both are empty.
    """
    p, g = _paired(pred, gt)
    p_empty, g_empty = box_is_empty(p), box_is_empty(g)
    both = ~p_empty & ~g_empty
    out = np.full(p.shape[0], np.inf, dtype=np.float64)
    pc = p[both, :2] + p[both, 2:] / 2.0
    gc = g[both, :2] + g[both, 2:] / 2.0
    out[both] = np.hypot(pc[:, 0] - gc[:, 0], pc[:, 1] - gc[:, 1])
    out[p_empty & g_empty] = np.nan
    return out


def check_policy(absent: str) -> str:
    """Return ``absent`` if it is a valid absent-frame policy, else raise InputError."""
    if absent not in ABSENT_POLICIES:
        raise InputError(f"absent policy must be one of {', '.join(ABSENT_POLICIES)}, got {absent!r}")
    return absent


def short_term_overlaps(pred, gt, absent: str = "exclude") -> np.ndarray:
    """Per-frame IoU after applying the absent-frame policy.

    Returns
    -------
    ndarray, shape (M,), float64
        ``M = N`` for ``'failure'`` (absent frames scored 0), ``M`` = visible frames for
        ``'exclude'``. A visible frame with an empty prediction scores 0.
    """
    check_policy(absent)
    p, g = _paired(pred, gt)
    visible = ~box_is_empty(g)
    overlaps = iou(p, g)
    if absent == "exclude":
        return overlaps[visible]
    return np.where(visible, overlaps, 0.0)


def short_term_errors(pred, gt, absent: str = "exclude") -> np.ndarray:
    """Per-frame centre error after the absent-frame policy (``inf`` = failure), pixels."""
    check_policy(absent)
    p, g = _paired(pred, gt)
    visible = ~box_is_empty(g)
    errors = center_error(p, g)
    if absent == "exclude":
        return errors[visible]
    return np.where(visible, errors, np.inf)


def success_curve(pred, gt, absent: str = "exclude", thresholds=SUCCESS_THRESHOLDS) -> np.ndarray:
    """Success curve: fraction of frames with IoU strictly greater than each threshold.

    Parameters
    ----------
    pred, gt : array_like, shape (N, 4)
    absent : {'exclude', 'failure'}
        Policy for frames whose ground truth is empty (see module docstring).
    thresholds : array_like, shape (T,)
        IoU thresholds, default ``linspace(0, 1, 21)``.

    Returns
    -------
    ndarray, shape (T,), float64
        Non-increasing in the threshold; all NaN when no frame is left to score.
    """
    overlaps = short_term_overlaps(pred, gt, absent)
    return _fraction_above(overlaps, np.asarray(thresholds, dtype=np.float64))


def precision_curve(pred, gt, absent: str = "exclude", thresholds=PRECISION_THRESHOLDS) -> np.ndarray:
    """Precision curve: fraction of frames with centre error <= each threshold (pixels).

    Parameters
    ----------
    pred, gt : array_like, shape (N, 4)
    absent : {'exclude', 'failure'}
    thresholds : array_like, shape (T,)
        Pixel thresholds, default ``0, 1, ..., 50``.

    Returns
    -------
    ndarray, shape (T,), float64
        Non-decreasing in the threshold; all NaN when no frame is left to score.
    """
    errors = short_term_errors(pred, gt, absent)
    t = np.asarray(thresholds, dtype=np.float64)
    if errors.size == 0:
        return np.full(t.shape, np.nan)
    return (errors[None, :] <= t[:, None]).mean(axis=1)


def _fraction_above(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    if values.size == 0:
        return np.full(thresholds.shape, np.nan)
    return (values[None, :] > thresholds[:, None]).mean(axis=1)


def auc(curve) -> float:
    """Area under a success curve sampled on uniform thresholds = the mean of the curve."""
    return float(np.mean(np.asarray(curve, dtype=np.float64)))


def precision_at(curve, threshold_px: float = DP_THRESHOLD_PX, thresholds=PRECISION_THRESHOLDS) -> float:
    """Value of a precision curve at ``threshold_px`` (must be one of ``thresholds``)."""
    t = np.asarray(thresholds, dtype=np.float64)
    index = np.flatnonzero(np.isclose(t, threshold_px))
    if index.size == 0:
        raise InputError(f"threshold {threshold_px} px is not one of the precision-curve thresholds")
    return float(np.asarray(curve, dtype=np.float64)[index[0]])


# ---------------------------------------------------------------------------------------------
# Long-term precision / recall / F-score


@dataclass(frozen=True)
class LongTermScores:
    """Tracker-level long-term scores.

    Attributes
    ----------
    thresholds : ndarray, shape (K,)
        Confidence thresholds, descending, first +inf and last -inf.
    precision, recall, f : ndarray, shape (K,)
        Sequence-averaged Pr(tau), Re(tau) and F(tau).
    f_score : float
        max over tau of F.
    precision_at_best, recall_at_best : float
        Pr and Re at the first argmax of F.
    best_index : int
        Index of that argmax in ``thresholds``.
    """

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f: np.ndarray
    f_score: float
    precision_at_best: float
    recall_at_best: float
    best_index: int


def counted_predictions(pred, confidence, present=None) -> tuple[np.ndarray, np.ndarray]:
    """Non-empty predictions and their confidences (NaN confidence where empty).

    Parameters
    ----------
    pred : array_like, shape (N, 4)
    confidence : array_like, shape (N,)
    present : array_like of bool, shape (N,), optional
        ``False`` marks an empty prediction whatever its box.

    Returns
    -------
    valid : ndarray, shape (N,), bool
        True where the prediction is non-empty.
    confidence : ndarray, shape (N,), float64
    """
    p = as_boxes(pred, "pred")
    conf = np.asarray(confidence, dtype=np.float64).reshape(-1)
    if conf.shape[0] != p.shape[0]:
        raise InputError(f"confidence must have {p.shape[0]} values, got {conf.shape[0]}")
    valid = ~box_is_empty(p) & np.isfinite(conf)
    if present is not None:
        flags = np.asarray(present).reshape(-1)
        if flags.shape[0] != p.shape[0]:
            raise InputError(f"present must have {p.shape[0]} values, got {flags.shape[0]}")
        valid &= flags.astype(bool)
    return valid, conf


def longterm_thresholds(confidences: Iterable, count: int = LONGTERM_THRESHOLD_COUNT) -> np.ndarray:
    """Thresholds for the long-term curves: extremes plus up to ``count`` confidence values.

    Parameters
    ----------
    confidences : iterable of array_like
        Confidences of the non-empty predictions, any number of arrays (one per sequence).
    count : int
        Maximum number of confidence values. With more distinct values, ``count`` of them are
        taken at evenly spaced ranks of the sorted distinct values (both ends included).

    Returns
    -------
    ndarray, shape (K,), float64
        Descending: ``+inf``, the selected confidences, ``-inf``.
    """
    if count < 1:
        raise InputError(f"count must be >= 1, got {count}")
    parts = [np.asarray(c, dtype=np.float64).reshape(-1) for c in confidences]
    values = np.concatenate(parts) if parts else np.zeros(0)
    values = np.unique(values[np.isfinite(values)])[::-1]
    if values.size > count:
        ranks = np.round(np.linspace(0, values.size - 1, count)).astype(np.int64)
        values = values[ranks]
    return np.concatenate([[np.inf], values, [-np.inf]])


def longterm_precision_recall(pred, confidence, present, gt, thresholds) -> tuple[np.ndarray, np.ndarray]:
    """Per-sequence Pr(tau) and Re(tau) (definitions in the module docstring).

    Parameters
    ----------
    pred : array_like, shape (N, 4)
    confidence : array_like, shape (N,)
    present : array_like of bool, shape (N,) or None
    gt : array_like, shape (N, 4)
        Empty (NaN) rows where the target is absent.
    thresholds : array_like, shape (K,)

    Returns
    -------
    precision, recall : ndarray, shape (K,), float64
        ``Pr = 1, Re = 0`` where no prediction counts; ``Re = NaN`` if no frame is visible.
    """
    p, g = _paired(pred, gt)
    valid, conf = counted_predictions(p, confidence, present)
    t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    overlaps = np.nan_to_num(iou(p, g), nan=0.0)  # NaN only where both empty, never counted
    with np.errstate(invalid="ignore"):
        counted = valid[None, :] & (conf[None, :] >= t[:, None])
    n_counted = counted.sum(axis=1)
    overlap_sum = (counted * overlaps[None, :]).sum(axis=1)
    n_visible = int((~box_is_empty(g)).sum())
    precision = np.where(n_counted > 0, overlap_sum / np.maximum(n_counted, 1), 1.0)
    recall = overlap_sum / n_visible if n_visible > 0 else np.full(t.shape, np.nan)
    return precision, recall


def f_measure(precision, recall) -> np.ndarray:
    """``2 Pr Re / (Pr + Re)``, 0 where ``Pr + Re = 0`` (elementwise)."""
    pr = np.asarray(precision, dtype=np.float64)
    re = np.asarray(recall, dtype=np.float64)
    denominator = pr + re
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2.0 * pr * re / np.where(denominator > 0, denominator, 1.0), 0.0)


def longterm_scores(sequences: Iterable, count: int = LONGTERM_THRESHOLD_COUNT) -> LongTermScores:
    """Tracker-level long-term Pr/Re/F over several sequences.

    Parameters
    ----------
    sequences : iterable of tuple
        ``(pred, confidence, present, gt)`` per sequence, shapes as in
        :func:`longterm_precision_recall` (``present`` may be None).
    count : int
        Maximum number of confidence values used as thresholds.

    Returns
    -------
    LongTermScores
    """
    items = list(sequences)
    if not items:
        raise InputError("longterm_scores needs at least one sequence")
    selected = []
    for pred, confidence, present, _ in items:
        valid, conf = counted_predictions(pred, confidence, present)
        selected.append(conf[valid])
    thresholds = longterm_thresholds(selected, count)
    curves = [longterm_precision_recall(p, c, f, g, thresholds) for p, c, f, g in items]
    precision = np.mean([pr for pr, _ in curves], axis=0)
    recalls = np.array([re for _, re in curves])
    with np.errstate(invalid="ignore"):
        recall = (
            np.nanmean(recalls, axis=0) if np.isfinite(recalls).any() else np.full(thresholds.shape, np.nan)
        )
    f = f_measure(precision, np.nan_to_num(recall, nan=0.0))
    best = int(np.argmax(f))
    return LongTermScores(
        thresholds=thresholds,
        precision=precision,
        recall=recall,
        f=f,
        f_score=float(f[best]),
        precision_at_best=float(precision[best]),
        recall_at_best=float(recall[best]),
        best_index=best,
    )
