"""Numba kernels of the ECO model (no Python objects, explicit dtypes)."""

import numpy as np
from dcfre._jit import njit  # numba.njit, with its start-up trimmed (see dcfre._jit)


@njit(cache=True)
def regularization_normal(hf, kernel):
    """W^T W applied to centred half spectra; see regularization.apply_regularization.

    Only what the result needs is computed: the second convolution reads the columns ``kx >= 0`` of
    the first one, which come from the full-spectrum columns ``kx >= -(r2 - 1)``; and the kernel's
    zero coefficients (about half of them) are skipped. Every remaining product is accumulated in
    the order of the plain double convolution, so for finite filters the values are the same bit
    for bit (a skipped term adds an exact zero).

    hf : (C, K1, Kh) complex64, kernel : (r1, r2) float32; returns (C, K1, Kh) complex64.
    """
    n_ch, k1, kh = hf.shape
    k2 = 2 * kh - 1
    r1, r2 = kernel.shape
    p1, p2 = r1 // 2, r2 // 2
    c0 = kh - 1  # column of kx = 0 in the full spectrum
    # the kernel's non-zero taps, in row-major order (the order of the sums)
    n_taps = 0
    for a in range(r1):
        for b in range(r2):
            if kernel[a, b] != 0:
                n_taps += 1
    tap_a = np.empty(n_taps, dtype=np.int64)
    tap_b = np.empty(n_taps, dtype=np.int64)
    n_taps = 0
    for a in range(r1):
        for b in range(r2):
            if kernel[a, b] != 0:
                tap_a[n_taps], tap_b[n_taps] = a, b
                n_taps += 1
    j_first = max(c0 - (r2 - 1), 0)  # first full-spectrum column that reaches a column >= c0 of mid
    # full spectrum, columns j_first .. k2 - 1
    full = np.zeros((n_ch, k1, k2), dtype=np.complex64)
    for c in range(n_ch):
        for i in range(k1):
            for j in range(kh):
                full[c, i, c0 + j] = hf[c, i, j]
                if j > 0 and c0 - j >= j_first:
                    full[c, k1 - 1 - i, c0 - j] = np.conj(hf[c, i, j])
    # The kernel is real: each product scales the real and imaginary parts (float32 pairs). A complex
    # product with (k + 0i) would add the terms -im * 0 and re * 0, which are zeros; zeros change no
    # sum here, since every sum starts at +0 and so is never -0 (+0 + -0 = +0).
    # Loops run tap by tap over whole rows (contiguous, vectorized). Each output element still gets
    # its terms in the order of the plain double convolution: one term per tap, and the taps are
    # visited in the order in which that convolution would add them.
    full_pairs = full.view(np.float32)
    # first convolution, full support in rows, columns >= c0: scattering input (i, j) ascending adds
    # the terms of an output in reverse row-major tap order
    g1, g2 = k1 + 2 * p1, k2 + 2 * p2
    mid = np.zeros((n_ch, g1, g2), dtype=np.complex64)
    mid_pairs = mid.view(np.float32)
    for t in range(n_taps - 1, -1, -1):
        a, b = tap_a[t], tap_b[t]
        w = kernel[a, b]
        first = 2 * max(j_first, c0 - b)  # inputs whose output column j + b is >= c0
        shift = 2 * b
        for c in range(n_ch):
            for i in range(k1):
                source = full_pairs[c, i]
                target = mid_pairs[c, i + a]
                for q in range(first, 2 * k2):
                    target[q + shift] += source[q] * w
    # second convolution, only the filter's support (half columns), taps in row-major order
    out = np.zeros((n_ch, k1, kh), dtype=np.complex64)
    out_pairs = out.view(np.float32)
    for t in range(n_taps):
        a, b = tap_a[t], tap_b[t]
        w = kernel[a, b]
        offset = 2 * (c0 + 2 * p2 - b)
        for c in range(n_ch):
            for i in range(k1):
                source = mid_pairs[c, i + 2 * p1 - a]
                target = out_pairs[c, i]
                for q in range(2 * kh):
                    target[q] += source[q + offset] * w
    return out


@njit(cache=True)
def _add_sample_response(sample, filt, response, row0):
    """response[row0 + i, j] += sum_c sample[c, i, j] * filt[c, i, j] (one sample, one block)."""
    n_ch, k1, kh = sample.shape
    for c in range(n_ch):
        for i in range(k1):
            for j in range(kh):
                response[row0 + i, j] += sample[c, i, j] * filt[c, i, j]


@njit(cache=True)
def _add_sample_adjoint(sample, response, row0, out):
    """out[c, i, j] += conj(sample[c, i, j]) * response[row0 + i, j] (one sample, one block)."""
    for c in range(sample.shape[0]):
        for i in range(sample.shape[1]):
            target = out[c, i]
            source = sample[c, i]
            row = response[row0 + i]
            for j in range(source.size):
                target[j] += np.conj(source[j]) * row[j]


@njit(cache=True)
def add_responses(samples, filt, out, row0):
    """out[m, row0 + i, j] += sum_c samples[m, c, i, j] * filt[c, i, j] (one block's score per sample)."""
    for m in range(samples.shape[0]):
        _add_sample_response(samples[m], filt, out[m], row0)


@njit(cache=True)
def adjoint_responses(samples, responses, row0, out):
    """out[c, i, j] = sum_m conj(samples[m, c, i, j]) * responses[m, row0 + i, j]."""
    out[:] = 0
    for m in range(samples.shape[0]):
        _add_sample_adjoint(samples[m], responses[m], row0, out)


@njit(cache=True)
def weighted_normal_responses(samples, filters, rows0, weights, outs):
    """The data term of the filter's normal equations, sample by sample.

    For each sample m: ``r = sum_b pad_b(sum_c samples[b][m, c] * filters[b][c])`` (rows ``rows0[b]``
    onward of an (K1o, Kho) response), ``r *= weights[m]``, then ``outs[b][c] += conj(samples[b][m, c]) *
    r`` over block b's rows. This is :func:`add_responses` over all samples, the weighting, then
    :func:`adjoint_responses` per block, with the same operations in the same order per element (hence
    the same values), but each sample is read twice while it is in cache instead of once per pass
    over the whole memory.

    samples : tuple of (M, C_b, K1_b, Kh_b) complex64, filters : tuple of (C_b, K1_b, Kh_b) complex64,
    rows0 : (B,) int64, weights : (M,) float32, outs : tuple of (C_b, K1_b, Kh_b) complex64 (overwritten).
    The response covers the rows and columns some block reaches (the others would only hold zeros).
    """
    k1o, kho = 0, 0
    for b in range(len(samples)):
        k1o = max(k1o, rows0[b] + samples[b].shape[2])
        kho = max(kho, samples[b].shape[3])
    response = np.empty((k1o, kho), dtype=np.complex64)
    for b in range(len(outs)):
        outs[b][:] = 0
    for m in range(samples[0].shape[0]):
        response[:] = 0
        for b in range(len(samples)):
            _add_sample_response(samples[b][m], filters[b], response, rows0[b])
        w = np.complex64(weights[m])  # numpy multiplies complex64 by a float32 weight as by (w + 0j)
        for i in range(k1o):
            for j in range(kho):
                response[i, j] = response[i, j] * w
        for b in range(len(samples)):
            _add_sample_adjoint(samples[b][m], response, rows0[b], outs[b])
