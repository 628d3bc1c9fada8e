"""Spatial regularization of the filter (SRDCF), as a small kernel acting in the Fourier domain."""

from __future__ import annotations

import numpy as np

from dcfre.eco import _kernels


def regularization_kernel(
    sample_size: np.ndarray,
    base_target_size: np.ndarray,
    reg_min: float,
    reg_edge: float,
    power: float,
    sparsity_threshold: float,
) -> np.ndarray:
    """Fourier coefficients of the spatial regularization window ``w``, truncated to a small kernel.

    ``w(t) = (edge - min) * (|u_y / s_y|^p + |u_x / s_x|^p) + min`` with ``u`` the offset from the
    sample centre (pixels) and ``s = base_target_size / 2``: cheap near the target, expensive at
    the sample border. Its coefficients on the sample period are computed exactly from pixel-centre
    samples, coefficients below ``sparsity_threshold * max`` are dropped (so the penalty becomes
    a short convolution in the Fourier domain) and the DC term is raised so that the sparse window
    still has its minimum at ``reg_min``.

    Returns
    -------
    ndarray, shape (r1, r2), float32
        Centred kernel (odd sizes). Real and even; the filter is centred at ``T / 2``, hence the
        ``(-1)^(ky + kx)`` modulation.
    """
    size = np.asarray(sample_size, dtype=np.int64)
    half = 0.5 * np.asarray(base_target_size, dtype=np.float64)
    u = [np.arange(n, dtype=np.float64) - (n - 1) / 2 for n in size]
    window = (reg_edge - reg_min) * (
        np.abs(u[0][:, None] / half[0]) ** power + np.abs(u[1][None, :] / half[1]) ** power
    ) + reg_min

    # cosine transforms about the centre (the window is even): real coefficients R[k]
    cos_y = _cosine_matrix(size[0], u[0])
    cos_x = _cosine_matrix(size[1], u[1])
    coeffs = cos_y @ window @ cos_x.T / (size[0] * size[1])

    coeffs[np.abs(coeffs) < sparsity_threshold * np.abs(coeffs).max()] = 0.0
    sparse_window = cos_y.T @ coeffs @ cos_x
    centre = (np.array(coeffs.shape) - 1) // 2
    coeffs[centre[0], centre[1]] += reg_min - sparse_window.min()

    rows = np.flatnonzero(np.any(coeffs != 0, axis=1))
    cols = np.flatnonzero(np.any(coeffs != 0, axis=0))
    ry = max(abs(rows[0] - centre[0]), abs(rows[-1] - centre[0]))
    rx = max(abs(cols[0] - centre[1]), abs(cols[-1] - centre[1]))
    kernel = coeffs[centre[0] - ry: centre[0] + ry + 1, centre[1] - rx: centre[1] + rx + 1]
    ky = np.arange(-ry, ry + 1)[:, None]
    kx = np.arange(-rx, rx + 1)[None, :]
    return (kernel * (-1.0) ** (ky + kx)).astype(np.float32)


def _cosine_matrix(n: int, offsets: np.ndarray) -> np.ndarray:
    """C[k, m] = cos(2 pi k u_m / n) for k = -(K-1)/2 .. (K-1)/2, K = odd number >= n."""
    k_max = n // 2
    k = np.arange(-k_max, k_max + 1, dtype=np.float64)
    return np.cos(2 * np.pi * k[:, None] * offsets[None, :] / n)


def apply_regularization(hf: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The normal-equation term ``W^T W f`` of the spatial regularization.

    Parameters
    ----------
    hf : ndarray, shape (C, K1, Kh), complex64
        Filter coefficients (centred half spectra).
    kernel : ndarray, shape (r1, r2), float32
        From :func:`regularization_kernel`.

    Returns
    -------
    ndarray, shape (C, K1, Kh), complex64
        ``conv(conv(F, W), W)`` on the full spectrum (no truncation in between), restricted to
        the filter's support and returned as half spectra.
    """
    return _kernels.regularization_normal(
        np.ascontiguousarray(hf, dtype=np.complex64), np.ascontiguousarray(kernel, dtype=np.float32)
    )
