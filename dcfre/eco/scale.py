"""fDSST scale filter (Danelljan et al., TPAMI 2017), as used by ECO-HC.

A 1-D correlation filter over ``n_scales`` resized copies of the target, each described by
HOG features, compressed with a QR basis; its response is interpolated to ``n_scales_interp``
scales in the Fourier domain and refined with a parabola.
"""

from __future__ import annotations

import math

import numpy as np

from dcfre.config import ScaleConfig
from dcfre.fourier import Plans1D


class ScaleFilter:
    """Estimates the relative scale change of the target between frames.

    Parameters
    ----------
    config : ScaleConfig
    base_target_size : (2,) array
        Target (h, w) at scale factor 1, in sample pixels.
    """

    def __init__(self, config: ScaleConfig, base_target_size: np.ndarray):
        self.config = config
        self.base_target_size = np.asarray(base_target_size, dtype=np.float64)
        n, n_interp = config.n_scales, config.n_scales_interp
        sigma = n_interp * config.sigma_factor
        exps = (np.arange(n) - (n - 1) // 2) * n_interp / n
        exps_shifted = np.roll(exps, -((n - 1) // 2))
        interp_exps = np.arange(n_interp) - (n_interp - 1) // 2
        self.size_factors = config.scale_step ** exps  # scales sampled, centred order
        self.interp_factors = config.scale_step ** np.roll(interp_exps, -((n_interp - 1) // 2))
        label = np.exp(-0.5 * exps_shifted**2 / sigma**2)
        self._fft = Plans1D()  # the few small transforms of every frame, planned once
        self.label_f = self._fft.fft(label)
        self.window = np.hanning(n)  # MATLAB's symmetric hann(n), as fDSST

        area = float(np.prod(self.base_target_size))
        factor = math.sqrt(config.model_max_area / area) if area > config.model_max_area else 1.0
        self.model_size = np.maximum(np.floor(self.base_target_size * factor), 8).astype(int)
        self.numerator_samples: np.ndarray | None = None  # s_num in the paper's notation
        self.basis: np.ndarray | None = None
        self.filter_num: np.ndarray | None = None
        self.filter_den: np.ndarray | None = None

    def _features(self, image: np.ndarray, centre_yx: np.ndarray, scale: float) -> np.ndarray:
        """HOG descriptors of the target at every sampled scale, shape (d, n_scales)."""
        from dcfre.features.hog import fhog_many
        from dcfre.features.sampling import crop_and_resize_many

        sizes = np.floor(self.base_target_size[None, :] * (scale * self.size_factors)[:, None])
        sizes = np.maximum(sizes, 2)
        patches = crop_and_resize_many(image, centre_yx, sizes, tuple(int(v) for v in self.model_size))
        feats = fhog_many(patches, self.config.hog_cell_size)
        return feats.reshape(len(feats), -1).T.astype(np.float64)

    def _project(self, basis: np.ndarray, features: np.ndarray) -> np.ndarray:
        return self._fft.fft((basis @ features) * self.window[None, :], axis=1)

    def update(self, image: np.ndarray, centre_yx: np.ndarray, scale: float) -> None:
        """Learn from the target at ``centre_yx`` (image pixels) and scale factor ``scale``."""
        lr = self.config.learning_rate
        xs = self._features(image, centre_yx, scale)
        first = self.numerator_samples is None
        self.numerator_samples = xs if first else (1 - lr) * self.numerator_samples + lr * xs
        self.basis = _orthonormal_basis(self.numerator_samples).T
        basis_den = _orthonormal_basis(xs).T
        self.filter_num = self.label_f[None, :] * np.conj(self._project(self.basis, self.numerator_samples))
        xsf = self._project(basis_den, xs)
        new_den = np.sum(np.abs(xsf) ** 2, axis=0)
        self.filter_den = new_den if first else (1 - lr) * self.filter_den + lr * new_den

    def estimate(self, image: np.ndarray, centre_yx: np.ndarray, scale: float) -> float:
        """Relative scale change (multiply the current scale factor by it)."""
        cfg = self.config
        xsf = self._project(self.basis, self._features(image, centre_yx, scale))
        response_f = np.sum(self.filter_num * xsf, axis=0) / (self.filter_den + cfg.regularization)
        response = np.real(self._fft.ifft(_resize_dft(response_f, cfg.n_scales_interp)))
        best = int(np.argmax(response))
        if not cfg.polynomial_interpolation:
            return float(self.interp_factors[best])
        n = cfg.n_scales_interp
        ids = [(best - 1) % n, best, (best + 1) % n]
        x = self.interp_factors[ids]
        y = response[ids]
        coeffs = np.linalg.solve(np.stack([x**2, x, np.ones(3)], axis=1), y)
        if coeffs[0] >= 0:  # not a maximum: keep the sampled best
            return float(self.interp_factors[best])
        return float(-coeffs[1] / (2 * coeffs[0]))


def _orthonormal_basis(a: np.ndarray) -> np.ndarray:
    """Orthonormal basis (d, n) of the column span of ``a`` (d, n), d >> n.

    fDSST only needs *an* orthonormal basis of the span (its filter is invariant to rotations of
    the basis), so instead of a Householder QR (slow for tall matrices when BLAS threads contend)
    the small Gram matrix is diagonalized: ``Q = A V diag(s^-1/2)``. Directions with negligible
    energy are dropped.
    """
    gram = a.T @ a
    values, vectors = np.linalg.eigh(gram)
    keep = values > values.max() * 1e-10
    return a @ (vectors[:, keep] / np.sqrt(values[keep]))


def _resize_dft(spectrum: np.ndarray, length: int) -> np.ndarray:
    """Zero-pad a 1-D DFT (FFT order) to ``length`` coefficients, scaled to keep amplitudes."""
    n = len(spectrum)
    m = min(n, length)
    out = np.zeros(length, dtype=np.complex128)
    head = (m + 1) // 2
    tail = (m - 1) // 2
    out[:head] = spectrum[:head]
    if tail:
        out[-tail:] = spectrum[-tail:]
    return out * (length / n)
