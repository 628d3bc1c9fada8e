"""Whole-frame scores (dcfre.longterm.full_image) against the local model's own scores of crops.

With ``match_samples`` the scan is one FFT correlation of the whole frame's features with the
filter's spatial kernel (cosine window included) and a per-position feature normalization; at a
position where the model's sample lies inside the frame and on the scan's feature grid, it must
give the score ``AppearanceModel.detect`` computes from a crop centred there (the independent
reference). This pins down the geometry (grid origin, step, padding, block resampling) that the
default scan shares. The default scan is checked against a direct (non-FFT) correlation.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data as skdata

from dcfre.longterm.full_image import FullImageScorer, _box_sums
from dcfre.tracker import Tracker

BOX = (200.0, 180.0, 60.0, 70.0)  # the astronaut's face


@pytest.fixture(scope="module")
def astronaut():
    return skdata.astronaut()  # (512, 512, 3) uint8


def _aligned_pairs(tracker, image, filters=None, max_positions=60):
    """(scan score, crop score) at grid positions whose sample is inside the image and starts on a
    cell boundary of every feature block (scale 1: the scan does not resample): the one nearest the
    target first, then ``max_positions - 1`` random others."""
    app = tracker.confidence_model
    filters = app.model.filters if filters is None else filters
    scorer = FullImageScorer(app, match_samples=True)
    features = scorer.features(image, 1.0)
    scores = scorer.score(features, [filters])[0]
    half = app.geometry.sample_size / 2
    step = int(np.lcm.reduce(app.extractor.cell_sizes))
    height, width = image.shape[:2]
    saved = app.model.filters
    app.model.filters = filters
    starts = [(uy, ux) for uy in range(0, height, step) for ux in range(0, width, step)]
    centres = [features.top_left + np.array(start) + half for start in starts]
    centres = [c for c in centres if np.all(c - half >= -0.5) and np.all(c + half <= np.array([height, width]) - 0.5)]
    target = np.array([BOX[1] + (BOX[3] - 1) / 2, BOX[0] + (BOX[2] - 1) / 2])
    nearest_target = int(np.argmin([np.linalg.norm(c - target) for c in centres]))
    order = [nearest_target] + [i for i in np.random.default_rng(0).permutation(len(centres)) if i != nearest_target]
    centres = [centres[i] for i in order[:max_positions]]  # first: the sample on the target
    pairs = []
    try:
        for centre in centres:
            index = scores.index_of(centre)
            assert np.allclose(scores.position(index), centre)
            direct = app.detect(image, centre, np.array([1.0])).maps[0][0, 0]
            pairs.append((scores.values[tuple(index)], direct))
    finally:
        app.model.filters = saved
    return np.array(pairs)


def test_scan_equals_crop_scores_for_pixelwise_features(astronaut):
    """Color Names are per-pixel features: scan and crops must agree to float precision."""
    # the scan resamples the frame by area averaging: the reference crops must be taken the same way
    tracker = Tracker.from_preset("eco-hc", redetect="local", **{"local.features.hog": None,
                                                                 "local.eco_patch_sampling": False})
    tracker.initialize(astronaut, BOX)
    pairs = _aligned_pairs(tracker, astronaut)
    assert len(pairs) == 60
    spread = np.ptp(pairs[:, 1])
    assert spread > 0
    np.testing.assert_allclose(pairs[:, 0], pairs[:, 1], atol=1e-5 * spread)


def test_scan_follows_crop_scores_with_hog(astronaut):
    """HOG cells at a crop's border see replicated pixels and miss their block-normalization
    neighbours, which the scan's cells do not: the scores differ by an offset and scale (measured:
    correlation 0.97, the scan 19 % lower at the target), but must still follow each other."""
    tracker = Tracker.from_preset("eco-hc", redetect="local")
    tracker.initialize(astronaut, BOX)
    pairs = _aligned_pairs(tracker, astronaut)
    assert len(pairs) == 60
    assert np.corrcoef(pairs.T)[0, 1] > 0.95
    on_target = pairs[0]
    assert np.argmax(pairs[:, 1]) == 0 and np.argmax(pairs[:, 0]) == 0
    assert abs(on_target[0] - on_target[1]) < 0.25 * on_target[1]


def test_scan_matches_deep_model_scores(astronaut):
    """CNN features of a crop and of the whole frame differ only near the crop border."""
    tracker = Tracker.from_preset("updt", redetect="local", **{"local.eco_patch_sampling": False,
                                                               "deep.eco_patch_sampling": False})
    tracker.initialize(astronaut, BOX)
    pairs = _aligned_pairs(tracker, astronaut)
    assert len(pairs) == 60
    assert np.corrcoef(pairs.T)[0, 1] > 0.999
    assert np.max(np.abs(pairs[:, 0] - pairs[:, 1])) < 0.05 * np.max(pairs[:, 1])


def test_default_scan_is_the_direct_correlation(astronaut):
    """Default scan: sum over channels and kernel cells of kernel * zero-padded frame features,
    evaluated directly (no FFT) at a few positions."""
    tracker = Tracker.from_preset("eco-hc", redetect="local", **{"local.features.hog": None})
    tracker.initialize(astronaut, BOX)
    scorer = tracker.scorer
    assert not scorer.match_samples
    filters = tracker.confidence_model.model.filters
    features = scorer.features(astronaut, 1.0)
    scores = scorer.score(features, [filters])[0]
    (kernel,) = scorer.kernels(filters)
    (block,) = features.blocks
    n1, n2 = kernel.shape[1:]
    assert scores.values.shape == (block.shape[1] - n1 + 1, block.shape[2] - n2 + 1)
    rng = np.random.default_rng(1)
    for _ in range(8):
        m1, m2 = rng.integers(0, scores.values.shape[0]), rng.integers(0, scores.values.shape[1])
        direct = np.sum(kernel.astype(np.float64) * block[:, m1:m1 + n1, m2:m2 + n2])
        tolerance = 1e-6 * float(np.abs(scores.values).max())
        assert float(scores.values[m1, m2]) == pytest.approx(direct, rel=1e-4, abs=tolerance)


def test_scan_scores_every_position_of_the_frame(astronaut):
    """Zero-padded features: candidate centres reach the frame's borders on every side."""
    tracker = Tracker.from_preset("eco-hc", redetect="local")
    tracker.initialize(astronaut, BOX)
    scores = tracker.scorer.score(tracker.scorer.features(astronaut, 1.0), [tracker.confidence_model.model.filters])[0]
    first = scores.position((0, 0))
    last = scores.position(np.array(scores.values.shape) - 1)
    assert np.all(first <= scores.step) and np.all(last >= np.array(astronaut.shape[:2]) - 1 - scores.step)
    assert np.isfinite(scores.values).all()


def test_box_sums_against_direct_window_sums():
    values = np.random.default_rng(0).random((9, 13))
    got = _box_sums(values, 3, 5)
    direct = np.array([[values[i:i + 3, j:j + 5].sum() for j in range(13 - 5 + 1)] for i in range(9 - 3 + 1)])
    np.testing.assert_allclose(got, direct, rtol=1e-12)
