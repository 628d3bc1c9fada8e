"""Explicit normal-equation operators of ECO's loss (paper eq. 2-3), on centred half spectra.

Notation (per feature block ``b``): ``z_j`` projected samples (C, K1, Kh), ``x`` an unprojected
sample (D, K1, Kh), ``f`` the filter (C, K1, Kh), ``P`` the projection (D, C), ``y`` the label on
the output grid (K1o, Kho). The score of a sample is ``S = sum_b pad_b(sum_c f_c z_c)`` where
``pad_b`` places block ``b`` in the centre rows and first columns of the output spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dcfre.eco import _kernels
from dcfre.eco.regularization import apply_regularization
from dcfre.fourier import half_weights


@dataclass(frozen=True)
class BlockLayout:
    """Where each block's spectrum sits inside the output spectrum."""

    output_shape: tuple[int, int]  #: (K1o, Kho) of the output half spectrum
    block_shapes: list[tuple[int, int]]  #: (K1, Kh) per block

    def region(self, block: int) -> tuple[slice, slice]:
        k1, kh = self.block_shapes[block]
        r0 = (self.output_shape[0] - k1) // 2
        return slice(r0, r0 + k1), slice(0, kh)

    @property
    def weights(self) -> list[np.ndarray]:
        """Full-spectrum multiplicities of each block's half-spectrum coefficients."""
        return [half_weights(k1, kh) for k1, kh in self.block_shapes]


def filter_inner(a: list[np.ndarray], b: list[np.ndarray], weights: list[np.ndarray]) -> float:
    """Real inner product of two filters (lists of per-block half spectra)."""
    total = 0.0
    for ai, bi, w in zip(a, b, weights):
        total += float(np.sum(w * (ai.real * bi.real + ai.imag * bi.imag)))
    return total


def score_spectrum(filters: list[np.ndarray], samples: list[np.ndarray], layout: BlockLayout) -> np.ndarray:
    """Sum over blocks and channels of ``f_c * z_c``.

    ``samples[b]`` has shape (..., C, K1, Kh); the result has shape (..., K1o, Kho).
    """
    lead = samples[0].shape[:-3]
    out = np.zeros((int(np.prod(lead)),) + layout.output_shape, dtype=np.complex64)
    for b, (f, z) in enumerate(zip(filters, samples)):
        rows, _ = layout.region(b)
        z = np.ascontiguousarray(z, dtype=np.complex64).reshape((-1,) + z.shape[-3:])
        _kernels.add_responses(z, np.ascontiguousarray(f, dtype=np.complex64), out, rows.start)
    return out.reshape(lead + layout.output_shape)


def adjoint_score(samples: np.ndarray, responses: np.ndarray, layout: BlockLayout, block: int) -> np.ndarray:
    """``sum_m conj(z_m) r_m`` over a block's region of per-sample responses (M, K1o, Kho)."""
    rows, _ = layout.region(block)
    out = np.empty(samples.shape[1:], dtype=np.complex64)
    _kernels.adjoint_responses(samples, np.ascontiguousarray(responses, dtype=np.complex64), rows.start, out)
    return out


class FilterProblem:
    """Normal equations of the filter-only loss (projection fixed), several weighted samples.

    ``(sum_j a_j Z_j^H Z_j + W^T W) f = sum_j a_j Z_j^H y_j``; labels may differ per sample
    (the global model uses negative labels on distractors).

    Parameters
    ----------
    samples : list of (M, C, K1, Kh) complex64 arrays, one per block
    sample_weights : (M,) array
    labels : (K1o, Kho) or (M, K1o, Kho) complex array
    reg_kernels : list of (r1, r2) float32 arrays, one per block
    layout : BlockLayout
    """

    def __init__(self, samples, sample_weights, labels, reg_kernels, layout: BlockLayout):
        self.samples = [np.ascontiguousarray(z, dtype=np.complex64) for z in samples]
        self.sample_weights = np.asarray(sample_weights, dtype=np.float32)
        self.labels = labels
        self.reg_kernels = reg_kernels
        self.layout = layout
        self.weights = layout.weights
        self._rows0 = np.array([layout.region(b)[0].start for b in range(len(self.samples))], dtype=np.int64)

    def apply(self, filters: list[np.ndarray]) -> list[np.ndarray]:
        # score of every sample, weighted, and its adjoint: one pass over the samples (see the kernel)
        data = tuple(np.empty(z.shape[1:], dtype=np.complex64) for z in self.samples)
        _kernels.weighted_normal_responses(
            tuple(self.samples), tuple(np.ascontiguousarray(f, dtype=np.complex64) for f in filters),
            self._rows0, self.sample_weights, data)
        return [d + apply_regularization(f, self.reg_kernels[b]) for b, (d, f) in enumerate(zip(data, filters))]

    def rhs(self) -> list[np.ndarray]:
        labels = self.labels
        if labels.ndim == 2:
            labels = np.broadcast_to(labels, (len(self.sample_weights),) + labels.shape)
        weighted = labels * self.sample_weights[:, None, None]
        return [adjoint_score(z, weighted, self.layout, b) for b, z in enumerate(self.samples)]

    def inner(self, a: list[np.ndarray], b: list[np.ndarray]) -> float:
        return filter_inner(a, b, self.weights)


def _as_pairs(x: np.ndarray) -> np.ndarray:
    """View complex (D, K1, Kh) as a real (D, K1 * Kh * 2) matrix of interleaved (re, im)."""
    return np.ascontiguousarray(x, dtype=np.complex64).view(np.float32).reshape(x.shape[0], -1)


def _as_pairs_many(x: np.ndarray) -> np.ndarray:
    """View complex (M, D, K1, Kh) as a real (D, M * K1 * Kh * 2) matrix (samples side by side)."""
    pairs = np.ascontiguousarray(x, dtype=np.complex64).view(np.float32)  # (M, D, K1, 2 Kh)
    return np.ascontiguousarray(np.swapaxes(pairs, 0, 1)).reshape(x.shape[1], -1)


def _project_many(x_pairs: np.ndarray, projection: np.ndarray, sample_shape: tuple) -> np.ndarray:
    """``z_mc = sum_d P_dc x_md`` for spectra x of shape ``sample_shape`` (M, D, K1, Kh), given as
    ``x_pairs = _as_pairs_many(x)``: (M, C, K1, Kh) complex64."""
    m = sample_shape[0]
    flat = projection.T.astype(np.float32) @ x_pairs  # (C, M * K1 * 2 Kh)
    z = flat.reshape(projection.shape[1], m, -1)
    return np.ascontiguousarray(np.swapaxes(z, 0, 1)).view(np.complex64).reshape(
        (m, projection.shape[1]) + tuple(sample_shape[2:]))


def project_spectrum(x: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """``z_c = sum_d P_dc x_d`` for spectra x (D, K1, Kh) and a real (D, C) projection, via BLAS."""
    flat = projection.T.astype(np.float32) @ _as_pairs(x)
    return flat.view(np.complex64).reshape((projection.shape[1],) + x.shape[1:])


class JointProblem:
    """Gauss-Newton normal equations for (f, dP) around (f0, P0), one or several weighted samples.

    The residual of sample ``m``, ``sum_c f_c (P0^T x_m)_c + sum_c f0_c (dP^T x_m)_c - y``, is
    linear in ``(f, dP)``; the loss is ``sum_m a_m |r_m|^2`` plus ``W^T W`` on ``f`` and
    ``lambda ||P0 + dP||^2``. ECO uses the one first-frame sample; UPDT / pytracking all the
    augmented first-frame samples with weights ``1 / M``. Vectors are ``filters +
    projection_updates`` (first ``n_blocks`` entries are filters, the rest (D, C) real matrices).

    Parameters
    ----------
    sample : list of (D, K1, Kh) or (M, D, K1, Kh) complex arrays, one per block
    projections : list of (D, C) float32
    filters0 : list of (C, K1, Kh) complex
    label : (K1o, Kho) complex
    reg_kernels : list of (r1, r2) float32
    projection_reg : float
    layout : BlockLayout
    sample_weights : (M,) array or None
        Weight of each sample (default: all 1).
    """

    def __init__(self, sample, projections, filters0, label, reg_kernels, projection_reg, layout: BlockLayout,
                 sample_weights=None):
        self.x = [np.ascontiguousarray(x, dtype=np.complex64) for x in sample]
        self.x = [x[None] if x.ndim == 3 else x for x in self.x]  # list of (M, D, K1, Kh)
        n_samples = self.x[0].shape[0]
        if sample_weights is None:
            sample_weights = np.ones(n_samples)
        self.sample_weights = np.asarray(sample_weights, dtype=np.float32).reshape(n_samples)
        # (D, M * K1 * Kh * 2): the samples side by side, for the projection-matrix products
        self.x_pairs = [_as_pairs_many(x) for x in self.x]
        self.P0 = projections  # list of (D, C) float32
        self.f0 = [np.ascontiguousarray(f, dtype=np.complex64) for f in filters0]  # list of (C, K1, Kh)
        # (M, C, K1, Kh)
        self.z0 = [_project_many(xp, p, x.shape) for x, xp, p in zip(self.x, self.x_pairs, projections)]
        self.label = label
        self.reg_kernels = reg_kernels
        self.projection_reg = projection_reg
        self.layout = layout
        self.weights = layout.weights
        self.n_blocks = len(sample)

    def _residual_part(self, filters, dprojections) -> np.ndarray:
        out = np.zeros((self.x[0].shape[0],) + self.layout.output_shape, dtype=np.complex64)
        for b in range(self.n_blocks):
            rows, _ = self.layout.region(b)
            dz = _project_many(self.x_pairs[b], dprojections[b], self.x[b].shape)  # no new copy of x per product
            _kernels.add_responses(self.z0[b], np.ascontiguousarray(filters[b], dtype=np.complex64),
                                   out, rows.start)
            _kernels.add_responses(dz, self.f0[b], out, rows.start)
        return out

    def _adjoint(self, residuals: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Adjoint of the linearized residual, for per-sample residuals (M, K1o, Kho) already weighted."""
        residuals = np.ascontiguousarray(residuals, dtype=np.complex64)
        out_f, out_p = [], []
        for b in range(self.n_blocks):
            rows, cols = self.layout.region(b)
            out_f.append(adjoint_score(self.z0[b], residuals, self.layout, b))
            # d/d(dP_dc) = Re sum_m sum_full conj(x_md) conj(f0_c) r_m  (weights count the mirrored half)
            g = np.conj(self.f0[b])[None] * (residuals[:, rows, cols] * self.weights[b])[:, None]
            out_p.append(self.x_pairs[b] @ _as_pairs_many(g).T)
        return out_f, out_p

    def apply(self, vec: list[np.ndarray]) -> list[np.ndarray]:
        filters, dproj = vec[: self.n_blocks], vec[self.n_blocks:]
        residuals = self._residual_part(filters, dproj) * self.sample_weights[:, None, None]
        out_f, out_p = self._adjoint(residuals)
        for b in range(self.n_blocks):
            out_f[b] = out_f[b] + apply_regularization(filters[b], self.reg_kernels[b])
            out_p[b] = out_p[b] + self.projection_reg * dproj[b]
        return out_f + out_p

    def rhs(self) -> list[np.ndarray]:
        labels = self.sample_weights[:, None, None] * np.asarray(self.label)[None]
        out_f, out_p = self._adjoint(labels)
        out_p = [p - self.projection_reg * p0 for p, p0 in zip(out_p, self.P0)]
        return [f.astype(np.complex64) for f in out_f] + out_p

    def inner(self, a: list[np.ndarray], b: list[np.ndarray]) -> float:
        n = self.n_blocks
        total = filter_inner(a[:n], b[:n], self.weights)
        return total + float(sum(np.sum(pa * pb) for pa, pb in zip(a[n:], b[n:])))
