"""UPDT adaptive fusion of the deep and shallow score maps (Bhat et al., ECCV 2018).

The fused score is ``y_b = b_d * y_d + b_s * y_s`` with ``b_d + b_s = 1`` and ``b >= 0``. For a
candidate target location ``t*`` the *prediction quality* of the fused map is the smallest
margin by which ``t*`` beats every other location, each margin divided by the localization cost
of confusing the two::

    xi(b) = min_{t != t*} (y_b(t*) - y_b(t)) / Delta(t - t*),
    Delta(tau) = 1 - exp(-(kappa / 2) * |tau|^2)        (tau in grid cells, wrap-around)

and the weights maximize ``xi(b) - mu * (b_d^2 + b_s^2)``. This is the UPDT quadratic program
(minimize ``-xi + mu ||b||^2`` subject to ``y_b(t*) - y_b(t) >= xi Delta(t - t*)`` for all
``t != t*``, ``b_d + b_s = 1``, ``b >= 0``), written with ``b = b_d``, ``b_s = 1 - b``.

How it is solved, exactly
-------------------------
Each constraint gives a line in ``b``: ``(y_b(t*) - y_b(t)) / Delta = a_t + c_t b`` with
``a_t = (y_s(t*) - y_s(t)) / Delta`` and ``c_t = ((y_d(t*) - y_d(t)) - (y_s(t*) - y_s(t))) / Delta``,
so ``xi(b)`` is the lower envelope of the lines (concave, piecewise linear) and the objective
``J(b) = xi(b) - mu (b^2 + (1 - b)^2)`` is concave. On each linear piece ``J`` is a concave
parabola with its vertex at ``b = (c + 2 mu) / (4 mu)``. The solver walks the envelope from
``b = 0`` piece by piece (each step: the line crossing below the current one first, found in
O(n)); it stops on the first piece whose parabola vertex lies inside it, or at the breakpoint
where the derivative changes sign, or at ``b = 1``. Concavity makes that point the global maximum,
so the result is exact (no tolerance, no grid), also at kinks where golden-section search or a
beta grid would be off, and also for ``mu = 0`` (pure max-margin). Each step strictly decreases
the active slope, so the walk ends after at most n steps; in practice the optimum is reached
after a handful of pieces, i.e. O(n) per candidate with n = H * W - 1. A generic QP/LP solver
(scipy) would be exact too but costs ~1 ms per candidate in overhead alone.

Candidates ``t*`` are the ``n_candidates`` highest local maxima (3 x 3, wrap-around) of each map;
the candidate with the best objective wins. Maps are periodic (DCF score maps): displacements
are wrap-around distances and the map centre is not special.

Parameter choices (UPDT does not fix them for our grids)
--------------------------------------------------------
``kappa``: ``Delta`` is one minus a Gaussian of standard deviation ``sigma = 1 / sqrt(kappa)``
cells, the displacement beyond which confusing ``t*`` with ``t`` counts as a full failure. A
Gaussian peak of that width and amplitude ``A`` over a flat background has ``xi = A``; narrower
peaks are not rewarded further, wider ones are discounted (near the peak their margin grows more
slowly than ``Delta``). On ECO's grids (sample side ~4.5 target sizes sampled on a ~50-cell
grid), a target spans ~12 cells and the deep model's label sigma (1/4 of the target size, UPDT)
is ~3 cells; ``kappa = 0.1`` (sigma = 3.2 cells) treats displacements below a quarter of the
target size as partial errors, so the wide-label deep peak keeps its full quality and the choice
is driven by distractor margins rather than by peak sharpness alone. Use
:meth:`FusionConfig.from_peak_width` to set it from a width in cells.

``mu``: in score units (ECO score maps peak near 1 for a well-fit target, typically 0.3-0.8).
Away from kinks the optimum is ``b_d = 1/2 + c / (4 mu)``, with ``c`` about the quality
difference between the two maps, so ``mu = 0.15`` moves the weights from 1/2 to 3/4 for a quality
advantage of 0.15 and all the way to 1 for an advantage of 0.3.

If no candidate reaches ``xi > 0`` (no weighting makes any candidate a strict maximum: flat or
tied maps), or ``adaptive`` is off, the fixed weights ``beta_deep_default`` (0.6, pytracking's
fixed UPDT fusion) are used and the peak is the fused map's maximum.
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass

import numpy as np
from dcfre._jit import njit  # numba.njit, with its start-up trimmed (see dcfre._jit)

from dcfre.config import FusionConfig  # noqa: F401  (defined with the other configs; re-exported here)
from dcfre.errors import InputError


@dataclass(frozen=True)
class FusionResult:
    """Outcome of :func:`fuse_scores`.

    Attributes
    ----------
    score : ndarray, shape (H, W)
        Fused map ``beta_deep * score_deep + beta_shallow * score_shallow`` (float32 if both
        inputs are float32, else float64).
    beta_deep, beta_shallow : float
        Fusion weights, in [0, 1], summing to 1.
    peak_index : tuple of int
        (row, col) of the chosen target location t*; when ``xi > 0`` it is the unique maximum
        of ``score``.
    xi : float
        Prediction quality of the fused map at ``peak_index`` (score units; > 0 iff strict max).
    objective : float
        ``xi - mu * (beta_deep^2 + beta_shallow^2)``.
    adaptive : bool
        True when the weights come from the optimization, False when ``beta_deep_default`` was
        used (adaptive fusion off, or no candidate with ``xi > 0``).
    """

    score: np.ndarray
    beta_deep: float
    beta_shallow: float
    peak_index: tuple[int, int]
    xi: float
    objective: float
    adaptive: bool


# ------------------------------------------------------------------------------------------------
# Public functions
# ------------------------------------------------------------------------------------------------


def fuse_scores(score_deep, score_shallow, config: FusionConfig | None = None) -> FusionResult:
    """Fuse a deep and a shallow score map with UPDT's adaptive maximum-margin weights.

    Parameters
    ----------
    score_deep, score_shallow : array_like, shape (H, W), real
        Score maps on the same periodic grid (H * W >= 2), finite values in score units.
    config : FusionConfig, optional
        Any object with the fields of :class:`FusionConfig` (``adaptive`` optional).

    Returns
    -------
    FusionResult

    Raises
    ------
    InputError
        Maps of different shapes, not 2-D, too small, non-finite, or an invalid config.
    """
    config = FusionConfig() if config is None else config
    kappa, mu, n_candidates, beta_default, adaptive = _checked_config(config)
    deep, shallow = _checked_maps(score_deep, score_shallow)
    inverse_margin = _inverse_margin(deep.shape, kappa)

    if adaptive:
        rows, cols = _candidate_peaks(deep, shallow, n_candidates)
        betas, xis, objectives = _solve_candidates(deep, shallow, inverse_margin, rows, cols, mu)
        best = int(np.argmax(objectives))
        if xis[best] > 0.0:
            beta = float(betas[best])
            return FusionResult(
                score=_weighted_sum(score_deep, score_shallow, deep, shallow, beta),
                beta_deep=beta,
                beta_shallow=1.0 - beta,
                peak_index=(int(rows[best]), int(cols[best])),
                xi=float(xis[best]),
                objective=float(objectives[best]),
                adaptive=True,
            )

    fused = _weighted_sum(score_deep, score_shallow, deep, shallow, beta_default)
    row, col = np.unravel_index(int(np.argmax(fused)), fused.shape)
    xi = _quality_at(deep, shallow, inverse_margin, int(row), int(col), beta_default)
    return FusionResult(
        score=fused,
        beta_deep=beta_default,
        beta_shallow=1.0 - beta_default,
        peak_index=(int(row), int(col)),
        xi=xi,
        objective=xi - mu * (beta_default**2 + (1.0 - beta_default) ** 2),
        adaptive=False,
    )


def prediction_quality(score, peak_index, kappa: float = FusionConfig.kappa) -> float:
    """UPDT prediction quality ``xi`` of one score map at ``peak_index``.

    Parameters
    ----------
    score : array_like, shape (H, W), real
        Periodic score map, H * W >= 2.
    peak_index : (int, int)
        (row, col) of the candidate location t*.
    kappa : float
        Width parameter of Delta, see :class:`FusionConfig`.

    Returns
    -------
    float
        ``min_{t != t*} (score[t*] - score[t]) / Delta(t - t*)``.
    """
    kappa = _positive_float(kappa, "kappa")
    single, _ = _checked_maps(score, score)
    row, col = _checked_index(peak_index, single.shape)
    return _quality_at(single, single, _inverse_margin(single.shape, kappa), row, col, 1.0)


def fusion_objective(score_deep, score_shallow, peak_index, beta_deep: float, config: FusionConfig | None = None) -> float:
    """The UPDT objective ``xi(b) - mu * (b_d^2 + b_s^2)`` at given weights and peak.

    Parameters
    ----------
    score_deep, score_shallow : array_like, shape (H, W)
        As in :func:`fuse_scores`.
    peak_index : (int, int)
        (row, col) of t*.
    beta_deep : float
        Deep weight b_d in [0, 1]; b_s = 1 - b_d.
    config : FusionConfig, optional
        Only ``kappa`` and ``mu`` are used.

    Returns
    -------
    float
    """
    config = FusionConfig() if config is None else config
    kappa, mu, _, _, _ = _checked_config(config)
    deep, shallow = _checked_maps(score_deep, score_shallow)
    row, col = _checked_index(peak_index, deep.shape)
    beta = _unit_interval(beta_deep, "beta_deep")
    xi = _quality_at(deep, shallow, _inverse_margin(deep.shape, kappa), row, col, beta)
    return xi - mu * (beta**2 + (1.0 - beta) ** 2)


# ------------------------------------------------------------------------------------------------
# Validation and helpers
# ------------------------------------------------------------------------------------------------


def _checked_config(config) -> tuple[float, float, int, float, bool]:
    try:
        kappa, mu = config.kappa, config.mu
        n_candidates, beta_default = config.n_candidates, config.beta_deep_default
    except AttributeError as error:
        raise InputError(f"config lacks a fusion field: {error}") from None
    adaptive = bool(getattr(config, "adaptive", True))
    mu = _finite_float(mu, "mu")
    if mu < 0.0:
        raise InputError(f"mu must be >= 0, got {mu}")
    if isinstance(n_candidates, bool) or not isinstance(n_candidates, numbers.Integral) or n_candidates < 1:
        raise InputError(f"n_candidates must be a positive integer, got {n_candidates!r}")
    return (
        _positive_float(kappa, "kappa"),
        mu,
        int(n_candidates),
        _unit_interval(beta_default, "beta_deep_default"),
        adaptive,
    )


def _finite_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _positive_float(value, name: str) -> float:
    result = _finite_float(value, name)
    if result <= 0.0:
        raise InputError(f"{name} must be > 0, got {value!r}")
    return result


def _unit_interval(value, name: str) -> float:
    result = _finite_float(value, name)
    if not 0.0 <= result <= 1.0:
        raise InputError(f"{name} must be in [0, 1], got {value!r}")
    return result


def _checked_maps(score_deep, score_shallow) -> tuple[np.ndarray, np.ndarray]:
    """Both maps as C-contiguous float64 (H, W) arrays, after shape and value checks."""
    maps = []
    for value, name in ((score_deep, "score_deep"), (score_shallow, "score_shallow")):
        array = np.asarray(value)
        if array.dtype == np.bool_ or not (
            np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
        ):
            raise InputError(f"{name} must be a real-valued array, got dtype {array.dtype}")
        if array.ndim != 2 or array.size < 2:
            raise InputError(f"{name} must be a 2-D map with at least 2 cells, got shape {array.shape}")
        array = np.ascontiguousarray(array, dtype=np.float64)
        if not np.all(np.isfinite(array)):
            raise InputError(f"{name} contains NaN or infinite values")
        maps.append(array)
    if maps[0].shape != maps[1].shape:
        raise InputError(
            f"score_deep and score_shallow must have the same shape, got {maps[0].shape} and {maps[1].shape}"
        )
    return maps[0], maps[1]


def _checked_index(peak_index, shape) -> tuple[int, int]:
    try:
        row, col = peak_index
    except (TypeError, ValueError):
        raise InputError(f"peak_index must be a (row, col) pair, got {peak_index!r}") from None
    for value, size, name in ((row, shape[0], "row"), (col, shape[1], "col")):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < size:
            raise InputError(f"peak_index {name} must be an integer in [0, {size}), got {value!r}")
    return int(row), int(col)


def _weighted_sum(score_deep, score_shallow, deep, shallow, beta: float) -> np.ndarray:
    """beta * deep + (1 - beta) * shallow in float32 when both inputs are float32, else float64."""
    dtype = np.result_type(np.asarray(score_deep).dtype, np.asarray(score_shallow).dtype, np.float32)
    dtype = np.float32 if dtype == np.float32 else np.float64
    return (beta * deep + (1.0 - beta) * shallow).astype(dtype, copy=False)


@functools.lru_cache(maxsize=32)
def _inverse_margin_cached(height: int, width: int, kappa: float) -> np.ndarray:
    rows = np.arange(height, dtype=np.float64)
    cols = np.arange(width, dtype=np.float64)
    rows = np.minimum(rows, height - rows)  # wrap-around distance of displacement dy
    cols = np.minimum(cols, width - cols)
    squared = rows[:, None] ** 2 + cols[None, :] ** 2
    with np.errstate(divide="ignore"):
        inverse = -1.0 / np.expm1(-0.5 * kappa * squared)  # 1 / Delta, exact for small kappa tau^2
    inverse[0, 0] = 0.0  # t = t* is excluded
    inverse.setflags(write=False)
    return inverse


def _inverse_margin(shape: tuple[int, int], kappa: float) -> np.ndarray:
    """1 / Delta(dy, dx) for every displacement (dy, dx) modulo the map shape; 0 at (0, 0)."""
    return _inverse_margin_cached(int(shape[0]), int(shape[1]), float(kappa))


def _candidate_peaks(deep: np.ndarray, shallow: np.ndarray, n_candidates: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the top local maxima of each map, deep first, duplicates removed."""
    flat = []
    for score in (deep, shallow):
        maxima = np.flatnonzero(_local_maxima_mask(score))
        order = np.argsort(-score.ravel()[maxima], kind="stable")[:n_candidates]
        flat.extend(int(index) for index in maxima[order])
    unique = np.asarray(list(dict.fromkeys(flat)), dtype=np.int64)
    rows, cols = np.divmod(unique, deep.shape[1])
    return rows, cols


def _quality_at(deep, shallow, inverse_margin, row: int, col: int, beta: float) -> float:
    """xi of beta * deep + (1 - beta) * shallow at (row, col) (numpy; not on the hot path)."""
    fused = beta * deep + (1.0 - beta) * shallow
    margins = fused[row, col] - fused
    weights = np.roll(inverse_margin, (row, col), axis=(0, 1))  # 1 / Delta(t - t*) at every t
    ratio = margins * weights
    ratio[row, col] = np.inf
    return float(ratio.min())


# ------------------------------------------------------------------------------------------------
# Numba kernels
# ------------------------------------------------------------------------------------------------


@njit(cache=True)
def _local_maxima_mask(score):
    """Cells >= their 8 wrap-around neighbours. score: float64 (H, W) -> bool (H, W)."""
    height, width = score.shape
    mask = np.zeros((height, width), dtype=np.bool_)
    for i in range(height):
        for j in range(width):
            value = score[i, j]
            is_max = True
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    if score[(i + di) % height, (j + dj) % width] > value:
                        is_max = False
            mask[i, j] = is_max
    return mask


@njit(cache=True)
def _constraint_lines(deep, shallow, inverse_margin, row, col):
    """Intercepts a and slopes c of (y_b(t*) - y_b(t)) / Delta = a + c b for all t != t*.

    deep, shallow, inverse_margin: float64 (H, W); returns two float64 arrays of H * W - 1.
    """
    height, width = deep.shape
    n = height * width - 1
    intercepts = np.empty(n, dtype=np.float64)
    slopes = np.empty(n, dtype=np.float64)
    peak_deep = deep[row, col]
    peak_shallow = shallow[row, col]
    k = 0
    for i in range(height):
        di = (i - row) % height
        for j in range(width):
            if i == row and j == col:
                continue
            weight = inverse_margin[di, (j - col) % width]
            margin_shallow = peak_shallow - shallow[i, j]
            intercepts[k] = margin_shallow * weight
            slopes[k] = (peak_deep - deep[i, j] - margin_shallow) * weight
            k += 1
    return intercepts, slopes


@njit(cache=True)
def _maximize_envelope_objective(intercepts, slopes, mu):
    """Exact argmax over b in [0, 1] of min_t(a_t + c_t b) - mu (b^2 + (1 - b)^2).

    Walks the lower envelope of the lines from b = 0 (see the module docstring).
    Returns (b, xi(b), objective(b)).
    """
    n = intercepts.size
    active = 0  # line of the envelope at b = 0: lowest intercept, then lowest slope
    for t in range(1, n):
        if intercepts[t] < intercepts[active] or (
            intercepts[t] == intercepts[active] and slopes[t] < slopes[active]
        ):
            active = t
    left = 0.0
    beta = 0.0
    while True:
        # Right end of the active piece: first line crossing below the active one.
        right = 1.0
        following = -1
        for t in range(n):
            if slopes[t] < slopes[active]:
                crossing = (intercepts[t] - intercepts[active]) / (slopes[active] - slopes[t])
                if crossing < left:
                    crossing = left  # rounding: the line is already (numerically) below
                if crossing < right or (crossing == right and following >= 0 and slopes[t] < slopes[following]):
                    right = crossing
                    following = t
        # Vertex of the parabola a + c b - mu q(b) on this piece.
        slope = slopes[active]
        if mu > 0.0:
            vertex = (slope + 2.0 * mu) / (4.0 * mu)
        elif slope > 0.0:
            vertex = np.inf
        else:
            vertex = -np.inf
        if following < 0 or vertex < right:
            beta = min(max(vertex, left), right)
            break
        left = right
        active = following
    xi = np.inf
    for t in range(n):
        value = intercepts[t] + slopes[t] * beta
        if value < xi:
            xi = value
    objective = xi - mu * (beta * beta + (1.0 - beta) * (1.0 - beta))
    return beta, xi, objective


@njit(cache=True)
def _solve_candidates(deep, shallow, inverse_margin, rows, cols, mu):
    """Optimal deep weight, xi and objective for each candidate (rows[k], cols[k]).

    deep, shallow, inverse_margin: float64 (H, W); rows, cols: int64 (K,); mu: float.
    Returns three float64 arrays of shape (K,).
    """
    count = rows.size
    betas = np.empty(count, dtype=np.float64)
    xis = np.empty(count, dtype=np.float64)
    objectives = np.empty(count, dtype=np.float64)
    for k in range(count):
        intercepts, slopes = _constraint_lines(deep, shallow, inverse_margin, rows[k], cols[k])
        betas[k], xis[k], objectives[k] = _maximize_envelope_objective(intercepts, slopes, mu)
    return betas, xis, objectives
