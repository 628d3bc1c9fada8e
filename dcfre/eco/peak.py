"""Locate the maximum of a score given by its Fourier series: grid search, then Newton's method."""

from __future__ import annotations

from dataclasses import dataclass

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

    ``spectrum`` is a centred half spectrum (K1, Kh) of the odd grid ``size``.
    """
    k1, k2 = size
    ky, kx = half_frequencies(k1, k2)
    wy, wx = 2 * np.pi * ky[:, 0] / k1, 2 * np.pi * kx[0] / k2  # radians per cell
    ey = np.exp(1j * wy * t[0])
    ex = np.exp(1j * wx * t[1])
    s = spectrum * half_weights(k1, spectrum.shape[1])

    def form(a, b):
        return float(np.real(np.einsum("k,kl,l->", ey * a, s, ex * b)))

    one_y, one_x = np.ones_like(wy), np.ones_like(wx)
    value = form(one_y, one_x)
    grad = np.array([form(1j * wy, one_x), form(one_y, 1j * wx)])
    hess = np.array([
        [form(-(wy**2), one_x), form(1j * wy, 1j * wx)],
        [form(1j * wy, 1j * wx), form(one_y, -(wx**2))],
    ])
    return value, grad, hess


def find_peak(spectra: np.ndarray, sampler: HalfSpectrumSampler, newton_iterations: int) -> tuple[Peak, np.ndarray]:
    """Maximum over a stack of score spectra (S, K1, Kh).

    The maps are sampled on their grid to find the best cell (over all scales), which is then
    refined by Newton's method on the continuous Fourier series; a Newton step that does not
    increase the score is rejected (the grid maximum is then kept).

    Returns
    -------
    peak : Peak
    maps : ndarray (S, K1, K2)
        The sampled score maps (index 0 = zero displacement), reused by callers.
    """
    size = (sampler.k1, sampler.k2)
    maps = np.stack([sampler(s) for s in spectra])
    flat = int(np.argmax(maps))
    scale_index, iy, ix = np.unravel_index(flat, maps.shape)
    t = wrap_displacement(np.array([iy, ix]), size)
    spectrum = spectra[scale_index]
    best = float(maps[scale_index, iy, ix])
    for _ in range(newton_iterations):
        value, grad, hess = evaluate_series(spectrum, t, size)
        best = max(best, value)
        try:
            step = -np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        candidate = t + step
        if not np.all(np.isfinite(candidate)) or np.any(np.abs(step) > 1.0):
            break
        new_value = evaluate_series(spectrum, candidate, size)[0]
        if new_value < value:
            break
        t, best = candidate, new_value
    t = wrap_displacement(t, size)
    return Peak(displacement=t, score=best, scale_index=int(scale_index)), maps
