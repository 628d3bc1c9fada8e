"""Locate the maximum of a score given by its Fourier series: grid search, then Newton's method."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dcfre.fourier import HalfSpectrumSampler, half_frequencies, half_weights


@dataclass(frozen=True)
class Peak:
    """Sub-grid maximum of a score map.

    Attributes
    ----------
    displacement : (2,) ndarray
        (dy, dx) in output-grid cells, in ``[-K/2, K/2)``.
    score : float
        Score at the refined position.
    scale_index : int
        Which of the stacked score maps holds the maximum.
    """

    displacement: np.ndarray
    score: float
    scale_index: int


def wrap_displacement(index: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Grid index -> circular displacement in ``[-K/2, K/2)`` cells."""
    size = np.asarray(size)
    index = np.asarray(index, dtype=np.float64)
    return np.mod(index + size // 2, size) - size // 2


def evaluate_series(spectrum: np.ndarray, t: np.ndarray, size: tuple[int, int]):
    """Value, gradient and Hessian of ``s(t) = sum_k S[k] exp(i 2 pi k.t / K)`` at ``t`` (cells).

    ``spectrum`` is a centred half spectrum (K1, Kh) of the odd grid ``size``. All six quantities
    come from one 3 x 3 matrix ``E_y S E_x^T`` whose rows are the series and its first and second
    derivative factors along each axis.
    """
    k1, k2 = size
    weights = _series_factors(k1, k2, spectrum.shape[1])[2]
    return _evaluate_weighted(spectrum * weights, t, size)


def _evaluate_weighted(weighted: np.ndarray, t: np.ndarray, size: tuple[int, int]):
    """:func:`evaluate_series` of ``spectrum * weights`` (the half-spectrum weights already applied,
    once for all the evaluations of one Newton search)."""
    k1, k2 = size
    wy, wx, _, iwy, iwx, nwy2, nwx2 = _series_factors(k1, k2, weighted.shape[1])
    rows = np.empty((3, k1), dtype=np.complex128)
    cols = np.empty((3, weighted.shape[1]), dtype=np.complex128)
    ey = np.exp(1j * wy * t[0], out=rows[0])
    ex = np.exp(1j * wx * t[1], out=cols[0])
    np.multiply(iwy, ey, out=rows[1])  # the factors of the derivatives: (i w) e and -(w^2) e
    np.multiply(nwy2, ey, out=rows[2])
    np.multiply(iwx, ex, out=cols[1])
    np.multiply(nwx2, ex, out=cols[2])
    m = np.real(rows @ weighted @ cols.T)
    value = float(m[0, 0])
    grad = np.array([m[1, 0], m[0, 1]])
    hess = np.array([[m[2, 0], m[1, 1]], [m[1, 1], m[0, 2]]])
    return value, grad, hess


@lru_cache(maxsize=64)
def _series_factors(k1: int, k2: int, kh: int) -> tuple[np.ndarray, ...]:
    """Angular frequencies (radians per cell) along y (K1,) and x (Kh,) of the odd grid ``(k1, k2)``,
    the half-spectrum weights (K1, kh), and the derivative factors ``i w`` and ``-(w^2)`` along y
    and x: the same arrays for every evaluation on one grid (read-only)."""
    ky, kx = half_frequencies(k1, k2)
    wy, wx = 2 * np.pi * ky[:, 0] / k1, 2 * np.pi * kx[0] / k2
    factors = (wy, wx, half_weights(k1, kh), 1j * wy, 1j * wx, -(wy**2), -(wx**2))
    for array in factors:
        array.flags.writeable = False
    return factors


def newton_refine(spectrum: np.ndarray, start: np.ndarray, size: tuple[int, int], iterations: int):
    """Maximize the Fourier series ``spectrum`` (K1, Kh) by Newton's method from ``start`` (cells).

    A step that leaves the unit neighbourhood or does not increase the score is rejected and the
    iteration stops there. Returns ``(t, value)`` with ``t`` wrapped to ``[-K/2, K/2)``.
    """
    t = np.asarray(start, dtype=np.float64)
    weighted = spectrum * _series_factors(size[0], size[1], spectrum.shape[1])[2]
    best = None
    at_t = None  # (value, gradient, Hessian) at t when already evaluated (an accepted step's end)
    for _ in range(iterations):
        value, grad, hess = at_t if at_t is not None else _evaluate_weighted(weighted, t, size)
        best = value if best is None else max(best, value)
        try:
            step = -np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.any(np.abs(step) > 1.0):
            break
        candidate = t + step
        at_t = _evaluate_weighted(weighted, candidate, size)
        new_value = at_t[0]
        if new_value < value:
            break
        t, best = candidate, new_value
    if best is None:
        best = _evaluate_weighted(weighted, t, size)[0]
    return wrap_displacement(t, size), float(best)


def find_peak(spectra: np.ndarray, sampler: HalfSpectrumSampler, newton_iterations: int) -> tuple[Peak, np.ndarray]:
    """Maximum over a stack of score spectra (S, K1, Kh).

    The maps are sampled on their grid to find the best cell (over all scales), which is then
    refined by :func:`newton_refine` on the continuous Fourier series.

    Returns
    -------
    peak : Peak
    maps : ndarray (S, K1, K2)
        The sampled score maps (index 0 = zero displacement), reused by callers.
    """
    size = (sampler.k1, sampler.k2)
    maps = np.stack([sampler(s) for s in spectra])
    scale_index, iy, ix = np.unravel_index(int(np.argmax(maps)), maps.shape)
    start = wrap_displacement(np.array([iy, ix]), size)
    t, value = newton_refine(spectra[scale_index], start, size, newton_iterations)
    value = max(value, float(maps[scale_index, iy, ix]))
    return Peak(displacement=t, score=value, scale_index=int(scale_index)), maps
