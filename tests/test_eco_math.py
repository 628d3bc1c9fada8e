"""ECO's numerical core against dense, independently written references."""

import numpy as np
import pytest
from scipy.signal import convolve2d

from dcfre.config import ECOConfig, FeatureConfig
from dcfre.eco.geometry import SampleGeometry, compute_geometry
from dcfre.eco import model as model_module
from dcfre.eco.model import ECOModel, symmetrize_filter
from dcfre.eco.operators import BlockLayout, FilterProblem, JointProblem
from dcfre.eco.optimize import conjugate_gradient
from dcfre.eco.peak import evaluate_series, find_peak, newton_refine
from dcfre.eco.regularization import apply_regularization, regularization_kernel
from dcfre.eco.samples import SampleMemory
from dcfre.features.extractor import BlockSpec
from dcfre.fourier import (HalfSpectrumSampler, RealFFT2, full_from_half, gaussian_label, half_weights,
                           shift_spectrum)

RNG = np.random.default_rng(0)


def _real_spectrum(shape):
    """Half spectrum of a random real signal (so column 0 is conjugate symmetric)."""
    x = RNG.standard_normal(shape).astype(np.float32)
    return RealFFT2(shape)(x) / np.sqrt(np.prod(shape[-2:]))


def _kernel():
    return regularization_kernel(np.array([60, 60]), np.array([14.0, 10.0]), 1e-4, 1e-2, 2, 0.05)


def test_regularization_matches_scipy_double_convolution():
    kernel = _kernel()
    hf = _real_spectrum((3, 9, 11))
    out = full_from_half(apply_regularization(hf, kernel))
    full = full_from_half(hf)
    ref = np.stack([convolve2d(convolve2d(f, kernel, "full"), kernel, "valid") for f in full])
    assert np.abs(out - ref).max() < 1e-5 * np.abs(ref).max()


@pytest.mark.parametrize("half_shape", [(2, 9, 9), (2, 9, 21)])  # the kernel reaches past kx = 0 or not
def test_regularization_with_zero_taps(half_shape):
    """The kernel skips zero taps and the columns the result does not need: still the double convolution."""
    kernel = np.array([[0.02, -0.0, 0.1, 0.3, 0.1, 0.0, 0.02],  # even, as regularization kernels are
                       [0.05, 0.0, 0.7, 1.0, 0.7, 0.0, 0.05],
                       [0.02, 0.0, 0.1, 0.3, 0.1, -0.0, 0.02]], dtype=np.float32)
    hf = _real_spectrum(half_shape)
    out = full_from_half(apply_regularization(hf, kernel))
    ref = np.stack([convolve2d(convolve2d(f, kernel, "full"), kernel, "valid") for f in full_from_half(hf)])
    assert np.abs(out - ref).max() < 1e-5 * np.abs(ref).max()


def test_regularization_kernel_reconstructs_the_window_minimum():
    kernel = _kernel().astype(np.float64)
    # evaluate the sparse window sum_k W[k] exp(i 2 pi k t / T) at the sample centre t = T/2
    r1, r2 = kernel.shape
    ky = np.arange(r1) - r1 // 2
    kx = np.arange(r2) - r2 // 2
    centre_value = np.sum(kernel * np.cos(np.pi * ky)[:, None] * np.cos(np.pi * kx)[None, :])
    assert centre_value == pytest.approx(1e-4, abs=2e-5)
    assert np.allclose(kernel, kernel[::-1, ::-1])


def _two_block_layout():
    return BlockLayout((9, 6), [(9, 6), (5, 3)])  # output 9x11, second block 5x5


def _dense_filter_solution(samples, weights, label, kernels, layout):
    """Solve the filter normal equations on full complex spectra with numpy (no CG, no half spectra)."""
    k1o, k2o = layout.output_shape[0], 2 * layout.output_shape[1] - 1
    full_samples = [full_from_half(s) for s in samples]  # (M, C, K1, K2)
    full_label = full_from_half(label)
    # unknown vector: all blocks' full filters, flattened
    sizes = [s.shape[1:] for s in full_samples]
    offsets = np.cumsum([0] + [int(np.prod(s)) for s in sizes])
    n = offsets[-1]

    def embed(b):
        """Matrix mapping block b's (C, K1, K2) filter to the per-sample score on the output grid."""
        c, k1, k2 = sizes[b]
        r0, c0 = (k1o - k1) // 2, (k2o - k2) // 2
        mats = []
        for m in range(full_samples[b].shape[0]):
            mat = np.zeros((k1o * k2o, c * k1 * k2), dtype=np.complex128)
            for ch in range(c):
                for i in range(k1):
                    for j in range(k2):
                        mat[(r0 + i) * k2o + (c0 + j), ch * k1 * k2 + i * k2 + j] = full_samples[b][m, ch, i, j]
            mats.append(mat)
        return mats

    data = [np.concatenate([embed(b)[m] for b in range(len(sizes))], axis=1) for m in range(len(weights))]
    lhs = sum(w * d.conj().T @ d for w, d in zip(weights, data))
    rhs = sum(w * d.conj().T @ full_label.reshape(-1) for w, d in zip(weights, data))
    # regularization: R^T R with R the full 2-D convolution by the kernel, per channel
    for b, (c, k1, k2) in enumerate(sizes):
        kernel = kernels[b]
        conv = np.zeros(((k1 + kernel.shape[0] - 1) * (k2 + kernel.shape[1] - 1), k1 * k2))
        for idx in range(k1 * k2):
            e = np.zeros(k1 * k2)
            e[idx] = 1
            conv[:, idx] = convolve2d(e.reshape(k1, k2), kernel, "full").reshape(-1)
        rtr = conv.T @ conv
        for ch in range(c):
            s = offsets[b] + ch * k1 * k2
            lhs[s:s + k1 * k2, s:s + k1 * k2] += rtr
    solution = np.linalg.solve(lhs, rhs)
    out = []
    for b, (c, k1, k2) in enumerate(sizes):
        full = solution[offsets[b]:offsets[b + 1]].reshape(c, k1, k2)
        out.append(full[:, :, (k2 - 1) // 2:])
    assert n == lhs.shape[0]
    return out


def test_filter_cg_matches_dense_solve():
    layout = _two_block_layout()
    samples = [_real_spectrum((4, 2, 9, 11)), _real_spectrum((4, 1, 5, 5))]
    weights = np.array([0.4, 0.3, 0.2, 0.1])
    label = gaussian_label(9, 11, (1.0, 1.0), (9, 11))
    kernels = [_kernel(), _kernel()]
    problem = FilterProblem(samples, weights, label, kernels, layout)
    x0 = [np.zeros_like(s[0]) for s in samples]
    precond = [np.ones(s[0].shape, np.float32) for s in samples]
    solution, _, norms = conjugate_gradient(problem.apply, problem.rhs(), x0, precond, problem.inner, 300)
    reference = _dense_filter_solution(samples, weights, label, kernels, layout)
    for got, ref in zip(solution, reference):
        assert np.abs(got - ref).max() < 1e-3 * np.abs(ref).max()
    assert norms[-1] < 1e-6 * norms[0]


def test_filter_normal_operator_matches_numpy_and_the_two_pass_kernels():
    """FilterProblem.apply (one fused pass over the samples) against numpy's sums, and bit for bit against
    the score kernel, the weighting and the adjoint kernel run one after the other."""
    from dcfre.eco import _kernels

    layout = BlockLayout((13, 7), [(9, 5), (13, 7), (5, 3)])  # the widest block is not the first
    shapes = [(4, 9, 5), (2, 13, 7), (3, 5, 3)]
    samples = [(RNG.standard_normal((6,) + s) + 1j * RNG.standard_normal((6,) + s)).astype(np.complex64)
               for s in shapes]
    filters = [(RNG.standard_normal(s) + 1j * RNG.standard_normal(s)).astype(np.complex64) for s in shapes]
    weights = RNG.uniform(0.01, 1.0, 6)
    kernels = [_kernel()] * 3
    problem = FilterProblem(samples, weights, np.zeros((13, 7), np.complex64), kernels, layout)
    got = problem.apply(filters)

    w = weights.astype(np.float32).astype(np.float64)
    responses = np.zeros((6, 13, 7), np.complex128)
    for b, (z, f) in enumerate(zip(samples, filters)):
        rows, cols = layout.region(b)
        responses[:, rows, cols] += np.einsum("mcij,cij->mij", z.astype(np.complex128), f)
    responses *= w[:, None, None]
    for b, (z, f) in enumerate(zip(samples, filters)):
        rows, cols = layout.region(b)
        expected = np.einsum("mcij,mij->cij", np.conj(z.astype(np.complex128)), responses[:, rows, cols])
        expected += apply_regularization(f, kernels[b])
        assert np.abs(got[b] - expected).max() < 1e-5 * np.abs(expected).max()

    two_pass = np.zeros((6, 13, 7), np.complex64)
    for b, (z, f) in enumerate(zip(samples, filters)):
        _kernels.add_responses(z, f, two_pass, layout.region(b)[0].start)
    two_pass *= weights.astype(np.float32)[:, None, None]
    for b, (z, f) in enumerate(zip(samples, filters)):
        data = np.empty(z.shape[1:], np.complex64)
        _kernels.adjoint_responses(z, two_pass, layout.region(b)[0].start, data)
        expected = data + apply_regularization(f, kernels[b])
        assert np.array_equal(got[b].view(np.uint32), expected.view(np.uint32))


def test_operators_are_self_adjoint():
    layout = _two_block_layout()
    samples = [_real_spectrum((3, 2, 9, 11)), _real_spectrum((3, 1, 5, 5))]
    label = gaussian_label(9, 11, (1.0, 1.0), (9, 11))
    kernels = [_kernel(), _kernel()]
    fp = FilterProblem(samples, np.array([0.5, 0.3, 0.2]), label, kernels, layout)
    u = [_real_spectrum((2, 9, 11)), _real_spectrum((1, 5, 5))]
    v = [_real_spectrum((2, 9, 11)), _real_spectrum((1, 5, 5))]
    assert fp.inner(u, fp.apply(v)) == pytest.approx(fp.inner(fp.apply(u), v), rel=1e-4)

    x = [_real_spectrum((4, 9, 11)), _real_spectrum((3, 5, 5))]
    P = [RNG.standard_normal((4, 2)).astype(np.float32), RNG.standard_normal((3, 1)).astype(np.float32)]
    jp = JointProblem(x, P, u, label, kernels, 1e-3, layout)
    a = v + [RNG.standard_normal((4, 2)).astype(np.float32), RNG.standard_normal((3, 1)).astype(np.float32)]
    b = u + [RNG.standard_normal((4, 2)).astype(np.float32), RNG.standard_normal((3, 1)).astype(np.float32)]
    assert jp.inner(a, jp.apply(b)) == pytest.approx(jp.inner(jp.apply(a), b), rel=1e-4)
    assert jp.inner(a, jp.apply(a)) > 0


def test_joint_problem_with_weighted_samples_matches_dense_quadratic_form():
    """<v, A v> and <v, b> of the multi-sample Gauss-Newton problem against the loss written on full spectra."""
    layout = _two_block_layout()
    label = gaussian_label(9, 11, (1.0, 1.0), (9, 11))
    kernels = [_kernel(), _kernel()]
    x = [_real_spectrum((3, 4, 9, 11)), _real_spectrum((3, 3, 5, 5))]  # (M, D, K1, Kh)
    P = [RNG.standard_normal((4, 2)).astype(np.float32), RNG.standard_normal((3, 1)).astype(np.float32)]
    f0 = [_real_spectrum((2, 9, 11)), _real_spectrum((1, 5, 5))]
    w = np.array([0.5, 0.3, 0.2])
    lam = 1e-2
    jp = JointProblem(x, P, f0, label, kernels, lam, layout, sample_weights=w)
    v = [_real_spectrum((2, 9, 11)), _real_spectrum((1, 5, 5)),
         RNG.standard_normal((4, 2)).astype(np.float32), RNG.standard_normal((3, 1)).astype(np.float32)]

    def linear_scores(m):
        """R_m v on the full 9 x 11 output spectrum."""
        out = np.zeros((9, 11), dtype=np.complex128)
        for b in range(2):
            xm = full_from_half(x[b][m])
            z0 = np.einsum("dkl,dc->ckl", xm, P[b])
            dz = np.einsum("dkl,dc->ckl", xm, v[2 + b])
            part = np.sum(z0 * full_from_half(v[b]) + dz * full_from_half(f0[b]), axis=0)
            k1, k2 = part.shape
            r0, c0 = (9 - k1) // 2, (11 - k2) // 2
            out[r0:r0 + k1, c0:c0 + k2] += part
        return out

    reg = sum(np.sum(np.abs(convolve2d(fc, kernels[b], "full")) ** 2) for b in range(2) for fc in full_from_half(v[b]))
    quad = sum(w[m] * np.sum(np.abs(linear_scores(m)) ** 2) for m in range(3)) + reg
    quad += lam * sum(np.sum(dp.astype(np.float64) ** 2) for dp in v[2:])
    assert jp.inner(v, jp.apply(v)) == pytest.approx(quad, rel=1e-4)
    y = full_from_half(label)
    lin = sum(w[m] * np.sum((linear_scores(m) * np.conj(y)).real) for m in range(3))
    lin -= lam * sum(np.sum(dp * p0) for dp, p0 in zip(v[2:], P))
    assert jp.inner(v, jp.rhs()) == pytest.approx(lin, rel=1e-4)


def test_conjugate_gradient_on_dense_spd_system():
    n = 30
    q = RNG.standard_normal((n, n))
    a = q @ q.T + n * np.eye(n)
    b = RNG.standard_normal(n)
    x, _, _ = conjugate_gradient(lambda v: [a @ v[0]], [b], [np.zeros(n)], [np.diag(a).copy()],
                                 lambda u, v: float(u[0] @ v[0]), 60)
    assert np.allclose(x[0], np.linalg.solve(a, b), atol=1e-8)


def _joint_objective(model, full_spectra):
    """E(f, P) of eq. (3) on full spectra, computed directly."""
    k1o, k2o = model.geometry.output_size
    score = np.zeros((k1o, k2o), dtype=np.complex128)
    total = 0.0
    for b, (x, p, f) in enumerate(zip(full_spectra, model.projections, model.filters)):
        z = np.einsum("dkl,dc->ckl", full_from_half(x), p)
        ff = full_from_half(f)
        c, k1, k2 = ff.shape
        r0, c0 = (k1o - k1) // 2, (k2o - k2) // 2
        score[r0:r0 + k1, c0:c0 + k2] += np.sum(z * ff, axis=0)
        total += sum(np.sum(np.abs(convolve2d(fc, model.reg_kernels[b], "full")) ** 2) for fc in ff)
        total += model.config.projection_reg * np.sum(p.astype(np.float64) ** 2)
    return total + np.sum(np.abs(score - full_from_half(model.label)) ** 2)


def _small_model(gn_iterations):
    geometry = SampleGeometry(
        base_target_size=np.array([12.0, 12.0]), initial_scale=1.0, sample_size=np.array([48, 48]),
        feature_sizes=[(12, 12), (8, 8)], filter_sizes=[(13, 13), (9, 9)], output_size=(13, 13),
    )
    specs = [BlockSpec("a", 4, 6, 3), BlockSpec("b", 6, 5, 2)]
    config = ECOConfig(features=FeatureConfig(), init_gn_iterations=gn_iterations, init_cg_iterations=15)
    return ECOModel(config, geometry, specs)


def test_gauss_newton_decreases_the_objective():
    blocks = [RNG.standard_normal((1, 12, 12, 6)).astype(np.float32),
              RNG.standard_normal((1, 8, 8, 5)).astype(np.float32)]
    objectives = []
    for iterations in range(1, 6):
        model = _small_model(iterations)
        model.initialize(blocks)
        full = [s[0] for s in model.spectra(blocks, project=False)]
        objectives.append(_joint_objective(model, full))
    assert all(b <= a * (1 + 1e-4) for a, b in zip(objectives, objectives[1:])), objectives
    assert objectives[-1] < 0.9 * objectives[0]


def test_projection_preconditioner_uses_uncompressed_dims():
    """ECO (tracker.m): proj_energy = 2 sum|yf|^2 / sum(feature_dim), diag_M = precond_proj_param (proj_energy + lambda)."""
    model = _small_model(1)
    model.projections = [np.zeros((6, 3), np.float32), np.zeros((5, 2), np.float32)]
    k1o, k2o = model.geometry.output_size
    g = model.geometry
    sigma = np.sqrt(np.prod(np.floor(g.base_target_size))) * model.config.output_sigma_factor * k1o / g.sample_size[0]
    ky = np.arange(-(k1o // 2), k1o // 2 + 1)[:, None]
    kx = np.arange(-(k2o // 2), 1)[None, :]  # ECO keeps the half kx <= 0
    yf = (np.sqrt(2 * np.pi) * sigma / k1o) ** 2 * np.exp(-2 * (np.pi * sigma / k1o) ** 2 * (ky ** 2 + kx ** 2))
    expected = model.config.precond_proj_param * (2 * np.sum(yf ** 2) / (6 + 5) + model.config.projection_reg)
    precond = model.projection_preconditioner()
    assert [p.shape for p in precond] == [(6, 3), (5, 2)]
    for p in precond:
        np.testing.assert_allclose(p, expected, rtol=1e-5)


def test_symmetrize_filter_restores_a_real_signals_spectrum():
    real = _real_spectrum((3, 9, 9))  # (C, K1, Kh) of real signals
    # centred full spectrum with numpy as the reference: column kx = 0 is Hermitian in ky
    full = np.fft.fftshift(np.fft.fft2(RNG.standard_normal((9, 9))))
    assert np.allclose(full[::-1, 4], np.conj(full[:, 4]))
    broken = real.copy()
    broken[:, 5:, 0] += 0.3 + 0.2j  # rows ky > 0 of column kx = 0
    fixed = symmetrize_filter(broken)
    np.testing.assert_allclose(fixed, real, atol=1e-6)
    np.testing.assert_array_equal(fixed[:, :4], broken[:, :4])  # ky < 0 kept, as in ECO
    np.testing.assert_array_equal(symmetrize_filter(fixed), fixed)


def _init_blocks():
    return [RNG.standard_normal((1, 12, 12, 6)).astype(np.float32),
            RNG.standard_normal((1, 8, 8, 5)).astype(np.float32)]


def test_gauss_newton_preconditioner_built_once_from_pca_projected_sample(monkeypatch):
    """ECO's train_joint: diag_M from the PCA-projected sample energy, the same for every GN step."""
    seen = []
    original = model_module.conjugate_gradient

    def spy(apply, rhs, x0, precond, inner, iterations, **kwargs):
        seen.append([np.array(m) for m in precond])
        return original(apply, rhs, x0, precond, inner, iterations, **kwargs)

    monkeypatch.setattr(model_module, "conjugate_gradient", spy)
    blocks = _init_blocks()
    model = _small_model(3)
    pca = [model_module._pca_projection(x[0], s.compressed_dim) for x, s in zip(blocks, model.specs)]
    model.projections = pca
    energy = [np.abs(z[0]) ** 2 for z in model.spectra(blocks)]
    model.initialize(blocks)
    assert len(seen) == 3
    cfg = model.config
    for b, e in enumerate(energy):
        data = cfg.precond_data_param * e + (1 - cfg.precond_data_param) * e.mean(axis=0, keepdims=True)
        expected = (1 - cfg.precond_reg_param) * data + cfg.precond_reg_param * model.reg_energy
        for m in seen:
            np.testing.assert_allclose(m[b], expected, rtol=1e-5)
        np.testing.assert_allclose(model.sample_energy[b], e, rtol=1e-5)  # ECO keeps this energy
    # the filter's kx = 0 column is Hermitian after the joint optimization
    for f in model.filters:
        np.testing.assert_allclose(symmetrize_filter(f), f)


def test_augmented_first_frame_uses_every_sample_with_equal_weight(monkeypatch):
    """UPDT / pytracking: PCA over all initial samples, Gauss-Newton and memory with weights 1/A."""
    blocks = [RNG.standard_normal((3, 12, 12, 6)).astype(np.float32),
              RNG.standard_normal((3, 8, 8, 5)).astype(np.float32)]
    seen = []
    original = model_module.JointProblem

    def spy(*args, **kwargs):
        problem = original(*args, **kwargs)
        seen.append(problem)
        return problem

    monkeypatch.setattr(model_module, "JointProblem", spy)
    model = _small_model(1)
    pooled = [b.reshape(-1, b.shape[-1]).astype(np.float64) for b in blocks]
    # projections before Gauss-Newton: leading eigenvectors of the pooled covariance (up to sign)
    expected = [np.linalg.eigh(np.cov(x.T))[1][:, ::-1][:, :s.compressed_dim] for x, s in zip(pooled, model.specs)]
    model.initialize(blocks)
    assert seen and np.allclose(seen[0].sample_weights, 1 / 3)
    assert seen[0].x[0].shape[0] == 3
    for p0, e in zip(seen[0].P0, expected):
        np.testing.assert_allclose(np.abs(p0.T @ e), np.eye(e.shape[1]), atol=1e-4)
    assert model.memory.count == 3
    np.testing.assert_allclose(model.memory.weights, 1 / 3)


def test_sample_energy_updated_only_on_training_frames():
    model = _small_model(1)
    model.initialize(_init_blocks())
    cfg = model.config
    sample = [s[0] for s in model.spectra(_init_blocks())]
    before = [e.copy() for e in model.sample_energy]
    model.frames_since_training = 0
    assert not model.update(sample, cfg.skip_after_frame + 1)  # not a training frame
    for e, e0 in zip(model.sample_energy, before):
        np.testing.assert_array_equal(e, e0)
    model.frames_since_training = cfg.train_gap
    assert model.update(sample, cfg.skip_after_frame + 2)
    lr = cfg.learning_rate
    for e, e0, z in zip(model.sample_energy, before, sample):
        np.testing.assert_allclose(e, (1 - lr) * e0 + lr * np.abs(z) ** 2, rtol=1e-5)


def test_sample_memory_weights_and_merging():
    shapes = [(2, 5, 3)]
    memory = SampleMemory(shapes, capacity=5, learning_rate=0.1)
    samples = [[_real_spectrum((2, 5, 5))] for _ in range(40)]
    for s in samples:
        memory.insert(s)
        assert memory.weights.sum() == pytest.approx(1.0, abs=1e-9)
        assert memory.count <= 5
    # gram matrix entries agree with directly computed inner products
    w = half_weights(5, 3)
    for i in range(5):
        for j in range(5):
            a, b = memory.samples[0][i], memory.samples[0][j]
            assert memory.gram[i, j] == pytest.approx(np.sum(w * (a.conj() * b).real), rel=1e-4, abs=1e-4)


def test_sample_memory_merges_near_duplicate_into_nearest():
    memory = SampleMemory([(1, 3, 2)], capacity=3, learning_rate=0.2)
    base = [_real_spectrum((1, 3, 3)) * s for s in (1.0, 5.0, -4.0)]
    for b in base:
        memory.insert([b])
    before = memory.samples[0].copy()
    slot = memory.insert([base[1] * 1.01])
    assert slot == 1
    assert np.allclose(memory.samples[0][0], before[0]) and np.allclose(memory.samples[0][2], before[2])


def _double_convolution_in_order(hf, kernel):
    """W^T W f as the plain double convolution, one complex64 operation at a time: the first one
    scatters each input coefficient (rows, then columns, ascending) through the kernel (row-major),
    the second sums each output's terms in row-major kernel order, starting from 0."""
    full = full_from_half(hf).astype(np.complex64)
    n_ch, k1, k2 = full.shape
    r1, r2 = kernel.shape
    mid = np.zeros((n_ch, k1 + r1 - 1, k2 + r2 - 1), dtype=np.complex64)
    for c in range(n_ch):
        for i in range(k1):
            for j in range(k2):
                for a in range(r1):
                    for b in range(r2):
                        if kernel[a, b] != 0:
                            mid[c, i + a, j + b] += full[c, i, j] * np.complex64(kernel[a, b])
    kh = hf.shape[-1]
    out = np.zeros_like(hf)
    for c in range(n_ch):
        for i in range(k1):
            for j in range(kh):
                acc = np.complex64(0)
                for a in range(r1):
                    for b in range(r2):
                        if kernel[a, b] != 0:
                            acc += mid[c, i + r1 - 1 - a, kh - 1 + j + r2 - 1 - b] * np.complex64(kernel[a, b])
                out[c, i, j] = acc
    return out


@pytest.mark.parametrize("shape, kernel_shape", [((2, 7, 4), (3, 5)), ((1, 5, 5), (5, 3)), ((3, 1, 1), (3, 3))])
def test_regularization_equals_the_ordered_double_convolution_bit_for_bit(shape, kernel_shape):
    rng = np.random.default_rng(7)
    hf = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    hf[:, :, 0] = hf[:, :, 0].real  # a real signal's kx = 0 column is Hermitian in general; any values do here
    hf[0, 0, -1] = 0
    kernel = (rng.standard_normal(kernel_shape) * (rng.random(kernel_shape) > 0.3)).astype(np.float32)
    kernel[kernel_shape[0] // 2, kernel_shape[1] // 2] = 1.5
    got = apply_regularization(hf, kernel)
    expected = _double_convolution_in_order(hf, kernel)
    assert np.array_equal(got.view(np.uint32), expected.view(np.uint32))


def test_newton_finds_subpixel_peak():
    k = 25
    label = gaussian_label(k, k, (2.0, 2.0), (k, k))
    true_shift = (1.3, -2.7)
    spectrum = shift_spectrum(label, true_shift, (k, k))
    peak, _ = find_peak(spectrum[None], HalfSpectrumSampler(k, k), newton_iterations=5)
    assert np.allclose(peak.displacement, true_shift, atol=1e-3)
    assert peak.score == pytest.approx(1.0, abs=1e-3)


def test_series_value_gradient_and_hessian_match_the_full_spectrum_sum():
    """evaluate_series against the Fourier series written out over the full spectrum."""
    k1, k2 = 11, 9
    spectrum = _real_spectrum((k1, k2))  # (k1, (k2 + 1) // 2)
    full = full_from_half(spectrum)  # (k1, k2), centred
    ky = np.arange(-(k1 - 1) // 2, (k1 - 1) // 2 + 1)[:, None] * 2 * np.pi / k1
    kx = np.arange(-(k2 - 1) // 2, (k2 - 1) // 2 + 1)[None, :] * 2 * np.pi / k2
    for t in (np.array([0.0, 0.0]), np.array([0.37, -1.25]), np.array([-2.5, 3.1])):
        e = full * np.exp(1j * (ky * t[0] + kx * t[1]))
        value, grad, hess = evaluate_series(spectrum, t, (k1, k2))
        assert value == pytest.approx(np.real(e.sum()), abs=1e-5)
        np.testing.assert_allclose(grad, [np.real((1j * ky * e).sum()), np.real((1j * kx * e).sum())], atol=1e-5)
        dxy = np.real((-ky * kx * e).sum())
        np.testing.assert_allclose(hess, [[np.real((-ky**2 * e).sum()), dxy], [dxy, np.real((-kx**2 * e).sum())]],
                                   atol=1e-4)


def test_newton_refine_ends_at_a_stationary_point_and_reports_its_value():
    k = 25
    spectrum = shift_spectrum(gaussian_label(k, k, (2.5, 1.5), (k, k)), (0.4, -0.3), (k, k))
    t, value = newton_refine(spectrum, np.array([0.0, 0.0]), (k, k), 6)
    at_t, grad, _ = evaluate_series(spectrum, t, (k, k))
    assert value == pytest.approx(at_t, rel=1e-9)
    assert np.abs(grad).max() < 1e-4 and np.allclose(t, (0.4, -0.3), atol=1e-3)


def _eco_hc_sample_side(target_hw, cells=(6, 4), scale=4.0, min_area=150.0**2, max_area=200.0**2):
    """ECO's tracker.m + init_features.m ('odd_cells') sample side, written out with numpy.

    MATLAB's round is floor(x + 0.5) for x >= 0; ties in the odd-cell count keep the first offset.
    """
    target = np.asarray(target_hw, dtype=np.float64)
    area = np.prod(target * scale)
    factor = np.sqrt(area / max_area) if area > max_area else np.sqrt(area / min_area) if area < min_area else 1.0
    side = np.sqrt(np.prod(target / factor * scale))
    max_cell = max(cells)
    start = (1 + 2 * np.floor(side / (2 * max_cell) + 0.5)) * max_cell
    odd_counts = [sum(int((start + extra) // c) % 2 for c in cells) for extra in range(max_cell)]
    return int(start + int(np.argmax(odd_counts))), factor


@pytest.mark.parametrize("target_hw, side, hog, cn", [
    ((30.0, 30.0), 164, 27, 41),  # search area below 150^2: the tie 150 / 12 = 12.5 -> 164 px
    ((20.0, 35.0), 164, 27, 41),
    ((40.0, 40.0), 164, 27, 41),  # 160 px: 160 / 12 = 13.33 -> 13 -> 162 + 2
    ((45.0, 45.0), 188, 31, 47),  # 180 px: 31 * 6 = 186, + 2 for the odd CN grid
    ((100.0, 60.0), 212, 35, 53),  # above 200^2: shrunk to 200 px -> 17 -> 210 + 2
    ((7.0, 300.0), None, None, None),
    ((3.0, 2.0), None, None, None),
])
def test_sample_size_matches_eco(target_hw, side, hog, cn):
    expected_side, factor = _eco_hc_sample_side(target_hw)
    g = compute_geometry(np.array(target_hw), [6, 4], 4.0, 150**2, 200**2)
    assert int(g.sample_size[0]) == expected_side
    assert g.initial_scale == pytest.approx(factor)
    assert g.feature_sizes == [(expected_side // 6,) * 2, (expected_side // 4,) * 2]
    assert g.filter_sizes == [tuple(n + (n + 1) % 2 for n in f) for f in g.feature_sizes]
    if side is not None:
        assert (expected_side, g.feature_sizes[0][0], g.feature_sizes[1][0]) == (side, hog, cn)


def test_geometry_follows_eco_rules():
    g = compute_geometry(np.array([50.0, 30.0]), [6, 4], 4.0, 150**2, 200**2)
    area = np.prod(g.sample_size)
    assert 140**2 <= area <= 210**2
    assert [f[0] for f in g.feature_sizes] == [g.sample_size[0] // 6, g.sample_size[0] // 4]
    assert all(k % 2 == 1 for f in g.filter_sizes for k in f)
    tiny = compute_geometry(np.array([8.0, 8.0]), [6, 4], 4.0, 150**2, 200**2)
    assert tiny.initial_scale < 1  # small targets are upsampled
