"""Tests of dcfre.fusion: UPDT adaptive fusion against brute-force references."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage

from dcfre.errors import InputError
from dcfre.fusion import FusionConfig, FusionResult, fuse_scores, fusion_objective, prediction_quality


# ------------------------------------------------------------------------------------------------
# Independent reference: candidates by scipy, objective on a beta grid, refined around its max
# ------------------------------------------------------------------------------------------------


def reference_candidates(deep, shallow, n_candidates):
    found = []
    for score in (deep, shallow):
        is_max = ndimage.maximum_filter(score, size=3, mode="wrap") == score
        cells = [tuple(int(v) for v in cell) for cell in np.argwhere(is_max)]
        cells.sort(key=lambda cell: -score[cell])
        found.extend(cells[:n_candidates])
    return list(dict.fromkeys(found))


def reference_margin(shape, peak, kappa):
    """Delta(t - t*) with explicit wrap-around distances; inf at t* (excluded)."""
    rows, cols = np.indices(shape)
    dy = np.abs(rows - peak[0])
    dx = np.abs(cols - peak[1])
    dy = np.minimum(dy, shape[0] - dy)
    dx = np.minimum(dx, shape[1] - dx)
    delta = 1.0 - np.exp(-(kappa / 2.0) * (dy**2 + dx**2))
    delta[peak] = np.inf
    return delta


def reference_objective(deep, shallow, peak, betas, kappa, mu):
    """(xi, objective) for each beta in ``betas`` (vectorized over betas)."""
    delta = reference_margin(deep.shape, peak, kappa).ravel()
    keep = np.isfinite(delta)
    margin_deep = (deep[peak] - deep).ravel()[keep] / delta[keep]
    margin_shallow = (shallow[peak] - shallow).ravel()[keep] / delta[keep]
    betas = np.asarray(betas)[:, None]
    xi = (betas * margin_deep + (1.0 - betas) * margin_shallow).min(axis=1)
    return xi, xi - mu * (betas[:, 0] ** 2 + (1.0 - betas[:, 0]) ** 2)


def reference_best(deep, shallow, config):
    """Best (objective, beta, xi, peak) over candidates on a beta grid refined around its max."""
    best = None
    for peak in reference_candidates(deep, shallow, config.n_candidates):
        grid = np.linspace(0.0, 1.0, 2001)
        _, objective = reference_objective(deep, shallow, peak, grid, config.kappa, config.mu)
        centre = grid[int(np.argmax(objective))]
        fine = np.linspace(max(0.0, centre - 1e-3), min(1.0, centre + 1e-3), 2001)
        xi, objective = reference_objective(deep, shallow, peak, fine, config.kappa, config.mu)
        k = int(np.argmax(objective))
        if best is None or objective[k] > best[0]:
            best = (float(objective[k]), float(fine[k]), float(xi[k]), peak)
    return best


def peaked_map(shape, peak, sigma, amplitude, rng, noise):
    """Wrap-around Gaussian bump plus smooth noise."""
    rows, cols = np.indices(shape)
    dy = np.minimum(np.abs(rows - peak[0]), shape[0] - np.abs(rows - peak[0]))
    dx = np.minimum(np.abs(cols - peak[1]), shape[1] - np.abs(cols - peak[1]))
    bump = amplitude * np.exp(-(dy**2 + dx**2) / (2.0 * sigma**2))
    return bump + noise * ndimage.gaussian_filter(rng.standard_normal(shape), 1.0, mode="wrap")


def random_pair(seed, shape):
    rng = np.random.default_rng(seed)
    peak = tuple(int(v) for v in rng.integers(0, shape))
    other = tuple(int(v) for v in rng.integers(0, shape))
    deep = peaked_map(shape, peak, sigma=3.0, amplitude=rng.uniform(0.3, 1.0), rng=rng, noise=0.15)
    shallow = peaked_map(shape, peak, sigma=1.0, amplitude=rng.uniform(0.3, 1.0), rng=rng, noise=0.15)
    shallow += peaked_map(shape, other, sigma=1.0, amplitude=rng.uniform(0.0, 0.8), rng=rng, noise=0.0)
    return deep, shallow


# ------------------------------------------------------------------------------------------------
# Exactness against brute force
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mu", [0.15, 0.02, 0.0])
@pytest.mark.parametrize("seed,shape", [(0, (50, 50)), (1, (31, 40)), (2, (12, 9)), (3, (50, 50)), (4, (24, 24))])
def test_matches_brute_force_beta_search(seed, shape, mu):
    deep, shallow = random_pair(seed, shape)
    config = FusionConfig(mu=mu, n_candidates=3)
    result = fuse_scores(deep, shallow, config)
    best_objective, best_beta, best_xi, best_peak = reference_best(deep, shallow, config)
    if best_xi <= 0.0:
        assert not result.adaptive and result.beta_deep == config.beta_deep_default
        return
    assert result.adaptive
    # Exact optimum: never below the (refined) grid maximum, and above it by at most the grid error.
    slope_bound = 10.0 * (np.abs(deep).max() + np.abs(shallow).max()) / (1.0 - np.exp(-config.kappa / 2))
    assert best_objective - 1e-12 <= result.objective <= best_objective + slope_bound * 1e-6
    # The reported numbers are consistent with an independent evaluation at the returned beta.
    xi, objective = reference_objective(deep, shallow, result.peak_index, [result.beta_deep], config.kappa, mu)
    assert result.xi == pytest.approx(xi[0], abs=1e-12) and result.objective == pytest.approx(objective[0], abs=1e-12)
    if mu > 0.0:
        # Strict concavity (q'' = 4): |beta - beta_ref| <= sqrt(objective gap / (2 mu)).
        assert result.peak_index == best_peak
        assert abs(result.beta_deep - best_beta) <= np.sqrt(slope_bound * 1e-6 / (2 * mu)) + 1e-6


def test_optimum_at_a_kink_is_exact():
    # Two far distractors (same distance from t*): deep margins 0.3 / 0.8, shallow 0.8 / 0.1.
    # xi(b) = Delta^-1 min(0.8 - 0.5 b, 0.1 + 0.7 b): kink at b = 7/12, where the small mu keeps it.
    deep = np.zeros((16, 16))
    shallow = np.zeros((16, 16))
    deep[8, 8] = shallow[8, 8] = 1.0
    deep[0, 8], shallow[0, 8] = 0.7, 0.2
    deep[8, 0], shallow[8, 0] = 0.2, 0.9
    config = FusionConfig(mu=0.01, n_candidates=1)
    result = fuse_scores(deep, shallow, config)
    assert result.peak_index == (8, 8)
    assert result.beta_deep == pytest.approx(7.0 / 12.0, abs=1e-14)
    delta = 1.0 - np.exp(-config.kappa / 2 * 64)
    assert result.xi == pytest.approx((0.8 - 0.5 * 7 / 12) / delta, rel=1e-12)


def test_prediction_quality_matches_direct_loop():
    rng = np.random.default_rng(5)
    score = rng.standard_normal((7, 5))
    peak = (6, 0)
    kappa = 0.3
    expected = np.inf
    for i in range(7):
        for j in range(5):
            if (i, j) == peak:
                continue
            dy = min(abs(i - peak[0]), 7 - abs(i - peak[0]))
            dx = min(abs(j - peak[1]), 5 - abs(j - peak[1]))
            delta = 1.0 - np.exp(-kappa / 2 * (dy * dy + dx * dx))
            expected = min(expected, (score[peak] - score[i, j]) / delta)
    assert prediction_quality(score, peak, kappa) == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------------------------------------
# Behaviour
# ------------------------------------------------------------------------------------------------


def test_sharp_peak_beats_ambiguous_map():
    rng = np.random.default_rng(7)
    shape, target, distractor = (50, 50), (20, 30), (35, 10)
    sharp = peaked_map(shape, target, sigma=1.5, amplitude=1.0, rng=rng, noise=0.02)
    ambiguous = peaked_map(shape, target, sigma=2.0, amplitude=0.6, rng=rng, noise=0.02)
    ambiguous += peaked_map(shape, distractor, sigma=2.0, amplitude=0.58, rng=rng, noise=0.0)
    result = fuse_scores(sharp, ambiguous)
    assert result.adaptive and result.peak_index == target
    assert result.beta_deep > 0.75
    swapped = fuse_scores(ambiguous, sharp)
    assert swapped.peak_index == target and swapped.beta_shallow > 0.75
    assert swapped.beta_shallow == pytest.approx(result.beta_deep, abs=1e-12)


def test_sharp_peak_beats_flat_noise():
    rng = np.random.default_rng(8)
    shape, target = (40, 40), (5, 37)
    sharp = peaked_map(shape, target, sigma=1.5, amplitude=0.8, rng=rng, noise=0.02)
    flat = 0.05 * ndimage.gaussian_filter(rng.standard_normal(shape), 2.0, mode="wrap")
    result = fuse_scores(flat, sharp)
    assert result.peak_index == target and result.beta_shallow > 0.75


def test_identical_maps_give_symmetric_objective_and_equal_weights():
    rng = np.random.default_rng(9)
    score = peaked_map((30, 30), (3, 4), sigma=2.0, amplitude=1.0, rng=rng, noise=0.05)
    result = fuse_scores(score, score)
    assert result.adaptive and result.beta_deep == 0.5 and result.beta_shallow == 0.5
    for beta in (0.0, 0.1, 0.37, 0.5):
        assert fusion_objective(score, score, result.peak_index, beta) == pytest.approx(
            fusion_objective(score, score, result.peak_index, 1.0 - beta), abs=1e-15
        )


def test_wrap_around_translation_invariance():
    # The map centre is not special: rolling both maps moves the peak and keeps the weights.
    deep, shallow = random_pair(11, (36, 28))
    result = fuse_scores(deep, shallow)
    shift = (17, -9)
    rolled = fuse_scores(np.roll(deep, shift, (0, 1)), np.roll(shallow, shift, (0, 1)))
    assert rolled.peak_index == ((result.peak_index[0] + 17) % 36, (result.peak_index[1] - 9) % 28)
    assert rolled.beta_deep == pytest.approx(result.beta_deep, abs=1e-12)
    assert rolled.xi == pytest.approx(result.xi, rel=1e-12)


def test_degenerate_maps_fall_back_to_default_weights():
    flat = np.zeros((10, 12), np.float32)
    result = fuse_scores(flat, flat)
    assert not result.adaptive and result.beta_deep == 0.6 and result.beta_shallow == pytest.approx(0.4)
    assert result.score.dtype == np.float32 and result.xi == 0.0
    deep, shallow = random_pair(12, (20, 20))
    fixed = fuse_scores(deep, shallow, FusionConfig(adaptive=False, beta_deep_default=0.7))
    assert not fixed.adaptive and fixed.beta_deep == 0.7
    np.testing.assert_allclose(fixed.score, 0.7 * deep + 0.3 * shallow, rtol=0, atol=1e-15)
    assert fixed.peak_index == np.unravel_index(np.argmax(fixed.score), fixed.score.shape)


@settings(max_examples=60, deadline=None)
@given(
    maps=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 9), st.integers(2, 9)).map(lambda s: (2,) + s),
        elements=st.floats(-10, 10, allow_nan=False, allow_subnormal=False),
    ),
    mu=st.floats(0.0, 1.0),
    kappa=st.floats(0.01, 5.0),
)
def test_weights_are_a_convex_combination_and_peak_is_the_fused_maximum(maps, mu, kappa):
    result = fuse_scores(maps[0], maps[1], FusionConfig(kappa=kappa, mu=mu, n_candidates=2))
    assert isinstance(result, FusionResult)
    assert 0.0 <= result.beta_deep <= 1.0 and 0.0 <= result.beta_shallow <= 1.0
    assert result.beta_deep + result.beta_shallow == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(
        result.score, result.beta_deep * maps[0] + result.beta_shallow * maps[1], rtol=1e-12, atol=1e-12
    )
    if result.adaptive:
        assert result.xi > 0.0
        others = np.delete(result.score.ravel(), np.ravel_multi_index(result.peak_index, result.score.shape))
        assert result.score[result.peak_index] > others.max()


def test_fifty_by_fifty_with_five_candidates_under_one_millisecond():
    deep, shallow = random_pair(13, (50, 50))
    config = FusionConfig(n_candidates=5)
    fuse_scores(deep, shallow, config)  # compile / load the numba cache
    timings = []
    for _ in range(30):
        start = time.perf_counter()
        fuse_scores(deep, shallow, config)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 1e-3, f"best of 30: {min(timings) * 1e3:.2f} ms"


@pytest.mark.parametrize(
    "deep,shallow",
    [
        (np.zeros((5, 5)), np.zeros((5, 6))),
        (np.zeros(5), np.zeros(5)),
        (np.zeros((1, 1)), np.zeros((1, 1))),
        (np.full((4, 4), np.nan), np.zeros((4, 4))),
        (np.zeros((4, 4), bool), np.zeros((4, 4))),
    ],
)
def test_invalid_maps_raise_input_error(deep, shallow):
    with pytest.raises(InputError):
        fuse_scores(deep, shallow)


@pytest.mark.parametrize(
    "config",
    [
        FusionConfig(kappa=0.0),
        FusionConfig(mu=-0.1),
        FusionConfig(n_candidates=0),
        FusionConfig(beta_deep_default=1.5),
        FusionConfig(kappa=float("nan")),
        object(),
    ],
)
def test_invalid_config_raises_input_error(config):
    with pytest.raises(InputError):
        fuse_scores(np.zeros((4, 4)), np.zeros((4, 4)), config)


def test_from_peak_width():
    assert FusionConfig.from_peak_width(2.0, mu=0.3) == FusionConfig(kappa=0.25, mu=0.3)
    with pytest.raises(InputError):
        FusionConfig.from_peak_width(0.0)
