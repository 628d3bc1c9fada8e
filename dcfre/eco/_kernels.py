"""Numba kernels of the ECO model (no Python objects, explicit dtypes)."""

import numpy as np
from dcfre._jit import njit  # numba.njit, with its start-up trimmed (see dcfre._jit)


@njit(cache=True)
def regularization_normal(hf, kernel):
    """W^T W applied to centred half spectra; see regularization.apply_regularization."""
    n_ch, k1, kh = hf.shape
    k2 = 2 * kh - 1
    r1, r2 = kernel.shape
    p1, p2 = r1 // 2, r2 // 2
    c0 = kh - 1  # column of kx = 0 in the full spectrum
    # full spectrum
    full = np.zeros((n_ch, k1, k2), dtype=np.complex64)
    for c in range(n_ch):
        for i in range(k1):
            for j in range(kh):
                full[c, i, c0 + j] = hf[c, i, j]
                if j > 0:
                    full[c, k1 - 1 - i, c0 - j] = np.conj(hf[c, i, j])
    # first convolution, full support
    g1, g2 = k1 + 2 * p1, k2 + 2 * p2
    mid = np.zeros((n_ch, g1, g2), dtype=np.complex64)
    for c in range(n_ch):
        for i in range(k1):
            for j in range(k2):
                v = full[c, i, j]
                if v == 0:
                    continue
                for a in range(r1):
                    for b in range(r2):
                        mid[c, i + a, j + b] += v * kernel[a, b]
    # second convolution, only the filter's support (half columns)
    out = np.zeros((n_ch, k1, kh), dtype=np.complex64)
    for c in range(n_ch):
        for i in range(k1):
            for j in range(kh):
                acc = np.complex64(0)
                for a in range(r1):
                    for b in range(r2):
                        acc += mid[c, i + 2 * p1 - a, c0 + j + 2 * p2 - b] * kernel[a, b]
                out[c, i, j] = acc
    return out


@njit(cache=True)
def add_responses(samples, filt, out, row0):
    """out[m, row0 + i, j] += sum_c samples[m, c, i, j] * filt[c, i, j] (one block's score per sample)."""
    n_s, n_ch, k1, kh = samples.shape
    for m in range(n_s):
        for c in range(n_ch):
            for i in range(k1):
                for j in range(kh):
                    out[m, row0 + i, j] += samples[m, c, i, j] * filt[c, i, j]


@njit(cache=True)
def adjoint_responses(samples, responses, row0, out):
    """out[c, i, j] = sum_m conj(samples[m, c, i, j]) * responses[m, row0 + i, j]."""
    n_s, n_ch, k1, kh = samples.shape
    for c in range(n_ch):
        for i in range(k1):
            for j in range(kh):
                out[c, i, j] = 0
    for m in range(n_s):
        for c in range(n_ch):
            for i in range(k1):
                for j in range(kh):
                    out[c, i, j] += np.conj(samples[m, c, i, j]) * responses[m, row0 + i, j]
