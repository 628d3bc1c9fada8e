"""Property tests (hypothesis) of box parsing, overlap metrics, long-term scores and input validation.

References are written here independently of the library: IoU by rasterizing integer boxes,
success / precision curves and long-term Pr/Re/F by direct loops over frames and thresholds
following the definitions in :mod:`dcfre.evaluation.metrics`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dcfre import io
from dcfre.errors import DcfreError, InputError
from dcfre.evaluation import metrics
from dcfre.tracker import (
    MAX_BOX_TO_FRAME,
    MIN_BOX_SIDE,
    Tracker,
    prepare_frame,
    validate_box,
)

PROPERTY = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])

coordinates = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
sizes = st.floats(1e-3, 1e4, allow_nan=False, allow_infinity=False)
boxes = st.tuples(coordinates, coordinates, sizes, sizes)


# --------------------------------------------------------------------------------------------- parse_box

FORMATTERS = {
    "repr": repr,
    "17g": lambda v: f"{v:.17g}",
    "4f": lambda v: f"{v:.4f}",
    "e": lambda v: f"{v:e}",
}


@PROPERTY
@given(
    box=boxes,
    separator=st.sampled_from([",", ", ", " ", "\t", ";", " , ", ",\t", "  "]),
    wrapper=st.sampled_from(["{}", "[{}]", "({})", "  {}  ", "[ {} ]", "{}\n"]),
    formatter=st.sampled_from(sorted(FORMATTERS)),
)
def test_parse_box_round_trips_formatted_boxes(box, separator, wrapper, formatter):
    tokens = [FORMATTERS[formatter](v) for v in box]
    expected = np.array([float(t) for t in tokens])
    assume(expected[2] > 0 and expected[3] > 0)  # "%.4f" may round a tiny size to 0
    parsed = io.parse_box(wrapper.format(separator.join(tokens)))
    assert parsed.dtype == np.float64 and parsed.shape == (4,)
    np.testing.assert_array_equal(parsed, expected)


@PROPERTY
@given(box=st.tuples(coordinates, coordinates, st.floats(1e-3, 1e4), st.floats(1e-3, 1e4)),
       confidence=st.floats(-10, 10), present=st.booleans())
def test_result_line_round_trips_through_parse_box_and_read_results(tmp_path_factory, box, confidence, present):
    line = io.format_result_line(box, confidence, present)
    fields = line.strip().split(",")
    assert len(fields) == 6
    np.testing.assert_allclose(io.parse_box(",".join(fields[:4])), box, rtol=0, atol=5.1e-5)
    path = tmp_path_factory.mktemp("results") / "r.txt"
    path.write_text(line * 2)
    read_boxes, read_confidence, read_present = io.read_results(path)
    np.testing.assert_allclose(read_boxes, [box, box], atol=5.1e-5)
    np.testing.assert_allclose(read_confidence, confidence, rtol=1e-8, atol=1e-300)
    assert read_present.tolist() == [present, present]


@PROPERTY
@given(values=st.lists(coordinates, min_size=0, max_size=9).filter(lambda v: len(v) != 4),
       separator=st.sampled_from([",", " ", "\t"]))
def test_parse_box_rejects_wrong_number_of_values(values, separator):
    with pytest.raises(InputError, match="4 numbers"):
        io.parse_box(separator.join(repr(v) for v in values))


GARBAGE = ["a", "1..2", "--1", "1e", "0x1F", "nan", "NaN", "inf", "-inf", "1e999", "x1", "1/2", "1,2", "#"]


@PROPERTY
@given(box=boxes, position=st.integers(0, 3), garbage=st.sampled_from(GARBAGE))
def test_parse_box_rejects_malformed_tokens(box, position, garbage):
    tokens = [repr(v) for v in box]
    tokens[position] = garbage
    with pytest.raises(InputError):
        io.parse_box(",".join(tokens))


@PROPERTY
@given(box=boxes, which=st.sampled_from([2, 3]), bad=st.floats(-1e4, 0.0))
def test_parse_box_rejects_non_positive_sizes(box, which, bad):
    values = list(box)
    values[which] = bad
    with pytest.raises(InputError, match="positive"):
        io.parse_box(",".join(repr(v) for v in values))


@PROPERTY
@given(text=st.text(max_size=40) | st.from_regex(r"\[?\s*-?[0-9.e+-]{1,6}([,; \t]+-?[0-9.e+-]{1,6}){0,5}\s*\]?"))
def test_parse_box_never_raises_anything_but_input_error(text):
    try:
        box = io.parse_box(text)
    except InputError as exc:
        assert "\n" not in str(exc)  # the text is quoted with repr, so newlines are escaped
        return
    assert box.shape == (4,) and np.isfinite(box).all() and box[2] > 0 and box[3] > 0


# --------------------------------------------------------------------------------------------- IoU

small_int_boxes = st.tuples(st.integers(0, 16), st.integers(0, 16), st.integers(1, 10), st.integers(1, 10))


def _raster_iou(a, b) -> float:
    """IoU by counting unit cells of integer boxes on a grid: an independent exact reference."""
    grid = np.zeros((2, 30, 30), dtype=bool)
    for mask, (x, y, w, h) in zip(grid, (a, b)):
        mask[y:y + h, x:x + w] = True
    return (grid[0] & grid[1]).sum() / (grid[0] | grid[1]).sum()


@PROPERTY
@given(a=small_int_boxes, b=small_int_boxes)
def test_iou_matches_rasterized_reference(a, b):
    assert metrics.iou(a, b)[0] == pytest.approx(_raster_iou(a, b), abs=1e-12)


@PROPERTY
@given(a=boxes, b=boxes)
def test_iou_symmetric_and_bounded(a, b):
    ab, ba = metrics.iou(a, b)[0], metrics.iou(b, a)[0]
    assert ab == ba
    assert 0.0 <= ab <= 1.0


@PROPERTY
@given(a=boxes)
def test_iou_identity_is_one(a):
    assert metrics.iou(a, a)[0] == pytest.approx(1.0, abs=1e-6)


@PROPERTY
@given(a=boxes, b=boxes, gap=st.floats(0, 1e3), horizontal=st.booleans())
def test_iou_disjoint_is_zero(a, b, gap, horizontal):
    b = list(b)
    if horizontal:
        b[0] = a[0] + a[2] + gap  # b starts where a ends (or later)
    else:
        b[1] = a[1] + a[3] + gap
    assert metrics.iou(a, b)[0] == 0.0
    assert metrics.iou(b, a)[0] == 0.0


@PROPERTY
@given(a=boxes, b=boxes, scale=st.floats(1e-2, 1e2), shift=st.tuples(coordinates, coordinates))
def test_iou_scale_and_translation_invariant(a, b, scale, shift):
    reference = metrics.iou(a, b)[0]
    scaled = metrics.iou(np.multiply(a, scale), np.multiply(b, scale))[0]
    offset = np.array([shift[0], shift[1], 0.0, 0.0])
    moved = metrics.iou(np.add(a, offset), np.add(b, offset))[0]
    # (x + w) - x loses about eps * |x| / w of the width: allow that cancellation, nothing more
    extent = max(abs(v) for v in (*a, *b)) + max(abs(shift[0]), abs(shift[1]))
    tolerance = 16 * np.finfo(float).eps * extent / min(a[2], a[3], b[2], b[3]) + 1e-12
    assert scaled == pytest.approx(reference, abs=tolerance)
    assert moved == pytest.approx(reference, abs=tolerance)


@PROPERTY
@given(a=boxes, empty=st.sampled_from([[np.nan] * 4, [0, 0, 0, 5], [0, 0, 5, -1], [np.inf, 0, 1, 1]]))
def test_iou_with_empty_boxes(a, empty):
    assert metrics.iou(a, empty)[0] == 0.0 and metrics.iou(empty, a)[0] == 0.0
    assert math.isnan(metrics.iou(empty, empty)[0])


# --------------------------------------------------------------------------------------------- curves

maybe_empty_box = st.one_of(
    small_int_boxes.map(lambda b: tuple(float(v) for v in b)),
    st.just((np.nan, np.nan, np.nan, np.nan)),
)


@st.composite
def box_pairs(draw, max_frames=25):
    n = draw(st.integers(1, max_frames))
    pred = np.array(draw(st.lists(maybe_empty_box, min_size=n, max_size=n)), dtype=np.float64)
    gt = np.array(draw(st.lists(maybe_empty_box, min_size=n, max_size=n)), dtype=np.float64)
    return pred, gt


def _empty(box) -> bool:
    return not (np.isfinite(box).all() and box[2] > 0 and box[3] > 0)


def _reference_overlaps(pred, gt, absent):
    """Per-frame (IoU, centre error) after the absent policy, by a direct loop."""
    overlaps, errors = [], []
    for p, g in zip(pred, gt):
        if _empty(g):
            if absent == "exclude":
                continue
            overlaps.append(0.0)
            errors.append(math.inf)
            continue
        if _empty(p):
            overlaps.append(0.0)
            errors.append(math.inf)
            continue
        overlaps.append(_raster_iou(tuple(int(v) for v in p), tuple(int(v) for v in g)))
        errors.append(math.hypot(p[0] + p[2] / 2 - g[0] - g[2] / 2, p[1] + p[3] / 2 - g[1] - g[3] / 2))
    return np.array(overlaps), np.array(errors)


@PROPERTY
@given(pair=box_pairs(), absent=st.sampled_from(metrics.ABSENT_POLICIES))
def test_success_curve_monotone_bounded_and_matches_reference(pair, absent):
    pred, gt = pair
    curve = metrics.success_curve(pred, gt, absent)
    overlaps, _ = _reference_overlaps(pred, gt, absent)
    if overlaps.size == 0:
        assert np.isnan(curve).all()
        return
    assert np.all(np.diff(curve) <= 0)
    assert np.all((curve >= 0) & (curve <= 1))
    # integer boxes: the library's inter / union is the same correctly rounded quotient as the raster's
    expected = [(overlaps > t).mean() for t in metrics.SUCCESS_THRESHOLDS]
    np.testing.assert_allclose(curve, expected, atol=1e-12)
    area = metrics.auc(curve)
    assert 0.0 <= area <= 1.0
    assert area == pytest.approx(np.mean(curve))


@PROPERTY
@given(pair=box_pairs(), absent=st.sampled_from(metrics.ABSENT_POLICIES))
def test_precision_curve_monotone_and_matches_reference(pair, absent):
    pred, gt = pair
    curve = metrics.precision_curve(pred, gt, absent)
    _, errors = _reference_overlaps(pred, gt, absent)
    if errors.size == 0:
        assert np.isnan(curve).all()
        return
    assert np.all(np.diff(curve) >= 0)
    assert np.all((curve >= 0) & (curve <= 1))
    expected = [(errors <= t).mean() for t in metrics.PRECISION_THRESHOLDS]
    np.testing.assert_allclose(curve, expected, atol=1e-12)
    assert metrics.precision_at(curve) == pytest.approx(expected[20])


# --------------------------------------------------------------------------------------------- long-term


@st.composite
def longterm_sequence(draw, max_frames=20):
    pred, gt = draw(box_pairs(max_frames))
    n = len(pred)
    levels = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.75, 1.0, 2.0, np.nan]) | st.floats(-1, 3)
    confidence = np.array(draw(st.lists(levels, min_size=n, max_size=n)), dtype=np.float64)
    present = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return pred, confidence, present, gt


def _reference_longterm(sequences):
    """Pr, Re, F over every distinct confidence (plus +-inf) by direct loops (module docstring)."""
    valid_conf = []
    for pred, conf, present, _ in sequences:
        for p, c, f in zip(pred, conf, present):
            if f and not _empty(p) and np.isfinite(c):
                valid_conf.append(c)
    thresholds = [math.inf] + sorted(set(valid_conf), reverse=True) + [-math.inf]
    precision, recall = [], []
    for tau in thresholds:
        prs, res = [], []
        for pred, conf, present, gt in sequences:
            total, counted, visible = 0.0, 0, 0
            for p, c, f, g in zip(pred, conf, present, gt):
                visible += not _empty(g)
                if f and not _empty(p) and np.isfinite(c) and c >= tau:
                    counted += 1
                    if not _empty(g):
                        total += _raster_iou(tuple(int(v) for v in p), tuple(int(v) for v in g))
            prs.append(total / counted if counted else 1.0)
            res.append(total / visible if visible else math.nan)
        precision.append(np.mean(prs))
        finite = [r for r in res if not math.isnan(r)]
        recall.append(np.mean(finite) if finite else math.nan)
    precision, recall = np.array(precision), np.array(recall)
    r0 = np.nan_to_num(recall, nan=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(precision + r0 > 0, 2 * precision * r0 / (precision + r0), 0.0)
    return np.array(thresholds), precision, recall, f


@PROPERTY
@given(sequences=st.lists(longterm_sequence(), min_size=1, max_size=3))
def test_longterm_scores_bounded_and_f_is_max_over_thresholds(sequences):
    scores = metrics.longterm_scores(sequences)
    thresholds, precision, recall, f = _reference_longterm(sequences)
    # at most 3 x 20 distinct confidences < 100: every confidence is a threshold
    np.testing.assert_array_equal(scores.thresholds, thresholds)
    assert np.all((scores.precision >= 0) & (scores.precision <= 1))
    finite_recall = scores.recall[np.isfinite(scores.recall)]
    assert np.all((finite_recall >= 0) & (finite_recall <= 1))
    assert np.isnan(scores.recall).all() or np.isfinite(scores.recall).all()
    assert np.all(np.diff(np.nan_to_num(scores.recall)) >= -1e-12)  # more counted frames, more recall
    np.testing.assert_allclose(scores.precision, precision, atol=1e-12)
    np.testing.assert_allclose(scores.recall, recall, atol=1e-12)
    np.testing.assert_allclose(scores.f, f, atol=1e-12)
    assert 0.0 <= scores.f_score <= 1.0
    assert scores.f_score == pytest.approx(np.max(f), abs=1e-12)
    assert scores.f_score == scores.f.max()
    best = scores.best_index
    assert scores.f[best] == scores.f_score and best == int(np.argmax(scores.f))
    assert scores.precision_at_best == scores.precision[best]
    assert scores.recall_at_best == scores.recall[best] or (
        math.isnan(scores.recall_at_best) and math.isnan(scores.recall[best])
    )


@PROPERTY
@given(sequence=longterm_sequence(), count=st.integers(1, 6))
def test_longterm_thresholds_descending_with_extremes(sequence, count):
    pred, confidence, present, _ = sequence
    valid, conf = metrics.counted_predictions(pred, confidence, present)
    thresholds = metrics.longterm_thresholds([conf[valid]], count)
    assert thresholds[0] == np.inf and thresholds[-1] == -np.inf
    assert np.all(np.diff(thresholds) < 0)
    assert len(thresholds) <= count + 2
    assert set(thresholds[1:-1]) <= set(conf[valid])


# --------------------------------------------------------------------------------------------- validation

FRAME_DTYPES = [np.uint8, np.uint16, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64,
                np.bool_, np.complex64]


@st.composite
def frame_arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(FRAME_DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6))
    if draw(st.booleans()) and len(shape) == 3:
        shape = shape[:2] + (draw(st.sampled_from([1, 3, 4])),)
    elements = None
    if dtype.kind == "f":
        elements = st.floats(-300, 300, width=dtype.itemsize * 8) | st.sampled_from([np.nan, np.inf, 0.5])
    return draw(hnp.arrays(dtype, shape, elements=elements))


def _should_accept(arr: np.ndarray) -> bool:
    channels_ok = arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))
    size_ok = arr.ndim >= 2 and arr.shape[0] >= 2 and arr.shape[1] >= 2
    dtype_ok = arr.dtype.kind in "uifb"
    finite_ok = arr.dtype.kind != "f" or bool(np.isfinite(arr).all())
    return channels_ok and size_ok and dtype_ok and finite_ok


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(arr=frame_arrays())
def test_prepare_frame_valid_output_or_input_error(arr):
    try:
        out = prepare_frame(arr)
    except InputError as exc:
        assert "\n" not in str(exc)
        assert not _should_accept(arr), arr.shape
        return
    assert _should_accept(arr), (arr.shape, arr.dtype)
    assert out.dtype == np.uint8 and out.flags.c_contiguous
    assert out.shape[:2] == arr.shape[:2]
    assert out.ndim == 2 or (out.ndim == 3 and out.shape[2] == 3)
    if arr.dtype == np.uint8:
        expected = arr[:, :, :3] if arr.ndim == 3 and arr.shape[2] != 1 else arr.reshape(arr.shape[:2])
        np.testing.assert_array_equal(out, expected)


@st.composite
def valid_frames(draw):
    dtype = np.dtype(draw(st.sampled_from([t for t in FRAME_DTYPES if t is not np.complex64])))
    height, width = draw(st.integers(2, 6)), draw(st.integers(2, 6))
    shape = draw(st.sampled_from([(height, width), (height, width, 1), (height, width, 3), (height, width, 4)]))
    elements = st.floats(-300, 300, width=dtype.itemsize * 8) if dtype.kind == "f" else None
    return draw(hnp.arrays(dtype, shape, elements=elements))


@FEW
@given(arr=valid_frames(), color=st.booleans())
def test_prepare_frame_converts_to_the_models_colour_and_checks_size(arr, color):
    out = prepare_frame(arr, expected_shape=arr.shape[:2], color=color)
    assert (out.ndim == 3) == color
    with pytest.raises(InputError, match="size changed"):
        prepare_frame(arr, expected_shape=(arr.shape[0] + 1, arr.shape[1]), color=color)


@pytest.mark.parametrize(
    "arr",
    [np.arange(0, 65536, 257 // 2, dtype=np.uint16).reshape(-1, 2)[:200],  # 16-bit ramp
     np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8),  # unit-range float ramp
     np.arange(64, dtype=np.int16).reshape(8, 8) * 4],  # small signed 16-bit values
    ids=["uint16", "float-unit", "int16"],
)
def test_prepare_frame_agrees_with_the_file_reader(arr):
    """The same array must give the same 8-bit frame through the API and through ``read_frame``
    (hardening finding 3, fixed in e2292c9)."""
    np.testing.assert_array_equal(prepare_frame(arr), io.to_uint8(arr))


box_values = st.floats(allow_nan=True, allow_infinity=True) | st.floats(-500, 500)


@settings(deadline=None, max_examples=150)
@given(values=st.lists(box_values, min_size=0, max_size=6), height=st.integers(1, 400), width=st.integers(1, 400))
def test_validate_box_valid_output_or_input_error(values, height, width):
    try:
        box = validate_box(values, (height, width, 3))
    except InputError as exc:
        assert "\n" not in str(exc)
        assert not _acceptable_box(values, height, width), values
        return
    assert box.dtype == np.float64 and box.shape == (4,)
    np.testing.assert_array_equal(box, values)
    assert _acceptable_box(values, height, width)


def _acceptable_box(values, height, width) -> bool:
    """4 finite numbers, sides in [MIN_BOX_SIDE, MAX_BOX_TO_FRAME * larger frame side], overlapping the frame."""
    if len(values) != 4 or not np.isfinite(values).all():
        return False
    x, y, w, h = values
    sides_ok = min(w, h) >= MIN_BOX_SIDE and max(w, h) <= MAX_BOX_TO_FRAME * max(height, width)
    return sides_ok and x + w > 0 and y + h > 0 and x < width and y < height


@settings(deadline=None, max_examples=8, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    height=st.integers(8, 48), width=st.integers(8, 48), channels=st.sampled_from([None, 1, 3, 4]),
    dtype=st.sampled_from([np.uint8, np.uint16, np.float32]), seed=st.integers(0, 2**16),
    box=st.tuples(st.floats(-10, 40), st.floats(-10, 40), st.floats(1, 40), st.floats(1, 40)),
)
def test_tracker_on_random_small_frames_tracks_or_raises_input_error(height, width, channels, dtype, seed, box):
    """eco-hc on random small frames: finite outputs, or an InputError for a box outside the frame."""
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels is None else (height, width, channels)
    frames = [rng.integers(0, 256, shape).astype(dtype) for _ in range(3)]
    if dtype == np.float32:
        frames = [f / 255.0 for f in frames]
    tracker = Tracker.from_preset("eco-hc")
    try:
        state = tracker.initialize(frames[0], box)
    except InputError:
        x, y, w, h = box
        assert x >= width or y >= height or x + w <= 0 or y + h <= 0
        return
    except DcfreError as exc:  # pragma: no cover - would be a finding: only InputError is expected here
        raise AssertionError(f"unexpected {type(exc).__name__}: {exc}") from None
    for frame in frames[1:]:
        state = tracker.track(frame)
        assert np.isfinite(state.box).all() and state.box[2] > 0 and state.box[3] > 0
        assert np.isfinite(state.confidence)
