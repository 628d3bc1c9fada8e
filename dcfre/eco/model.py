"""One ECO appearance model: project, transform, score, remember and train.

The model is agnostic of the image: it receives feature blocks of samples (computed by a
:class:`~dcfre.features.extractor.FeatureExtractor`) and returns score spectra. The tracker
decides where samples are taken and what to do with the scores.
"""

from __future__ import annotations

import numpy as np

from dcfre.config import ECOConfig
from dcfre.eco.geometry import SampleGeometry
from dcfre.eco.operators import BlockLayout, FilterProblem, JointProblem, score_spectrum
from dcfre.eco.optimize import CGState, conjugate_gradient
from dcfre.eco.regularization import regularization_kernel
from dcfre.eco.samples import SampleMemory
from dcfre.features.extractor import BlockSpec
from dcfre.fourier import RealFFT2, gaussian_label, hann_window, interpolation_grid, shift_spectrum


class ECOModel:
    """Continuous factorized convolution operator with a generative sample memory.

    Parameters
    ----------
    config : ECOConfig
    geometry : SampleGeometry
        Sample and feature grid sizes (one entry per block in ``specs``).
    specs : list of BlockSpec
        Feature blocks, in the order the extractor returns them.
    """

    def __init__(self, config: ECOConfig, geometry: SampleGeometry, specs: list[BlockSpec]):
        self.config = config
        self.geometry = geometry
        self.specs = specs
        k1o, k2o = geometry.output_size
        self.layout = BlockLayout((k1o, (k2o + 1) // 2), [(k1, (k2 + 1) // 2) for k1, k2 in geometry.filter_sizes])
        self.windows = [np.outer(hann_window(n1), hann_window(n2)) for n1, n2 in geometry.feature_sizes]
        self.interpolation = [
            interpolation_grid(n1, n2, config.interpolation_bicubic_a) for n1, n2 in geometry.feature_sizes
        ]
        self.label = self.make_label(sign=1.0)
        kernel = regularization_kernel(
            geometry.sample_size, geometry.base_target_size, config.reg_window_min,
            config.reg_window_edge, config.reg_window_power, config.reg_sparsity_threshold,
        )
        self.reg_kernels = [kernel] * len(specs)
        self.reg_energy = float(np.sum(kernel.astype(np.float64) ** 2))
        self._plans: dict[tuple[int, ...], RealFFT2] = {}

        self.projections: list[np.ndarray] = []
        self.filters: list[np.ndarray] = []
        self.memory: SampleMemory | None = None
        self.sample_energy: list[np.ndarray] = []
        self.cg_state: CGState | None = None
        self.frames_since_training = 0
        self.updates = 0
        self._init_shift = (0.0, 0.0)

    # ------------------------------------------------------------------------------ transforms
    @property
    def output_size(self) -> tuple[int, int]:
        return self.geometry.output_size

    def make_label(self, sign: float = 1.0, centre_cells: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
        """Gaussian label on the output grid, optionally negated and moved (for distractors)."""
        g = self.geometry
        sigma_px = np.sqrt(np.prod(np.floor(g.base_target_size))) * self.config.output_sigma_factor
        sigma = sigma_px / g.cells_to_pixels
        k1o, k2o = g.output_size
        label = sign * gaussian_label(k1o, k2o, (sigma[0], sigma[1]), (k1o, k2o))
        if centre_cells != (0.0, 0.0):
            from dcfre.fourier import shift_spectrum

            label = shift_spectrum(label, centre_cells, (k1o, k2o))
        return label.astype(np.complex64)

    def _plan(self, shape: tuple[int, ...]) -> RealFFT2:
        plan = self._plans.get(shape)
        if plan is None:
            plan = self._plans[shape] = RealFFT2(shape, threads=self.config.fft_threads)
        return plan

    def spectra(self, blocks: list[np.ndarray], project: bool = True) -> list[np.ndarray]:
        """Fourier coefficients of the interpolated (projected) samples.

        Parameters
        ----------
        blocks : list of (S, N1, N2, D) float32, one per block
        project : bool
            Apply the learnt projection P (otherwise keep all D channels, used at initialization).

        Returns
        -------
        list of (S, C, K1, Kh) complex64 (C = D when ``project`` is False).
        """
        out = []
        for b, x in enumerate(blocks):
            if project:
                x = project_channels(x, self.projections[b])
            x = np.moveaxis(x, -1, 1)  # (S, C, N1, N2), windowed inside the transform
            xf = self._plan(x.shape)(x, self.windows[b])
            out.append(xf * self.interpolation[b])
        return out

    def score(self, spectra: list[np.ndarray]) -> np.ndarray:
        """Score spectra (S, K1o, Kho) of projected sample spectra (S, C, K1, Kh)."""
        return score_spectrum(self.filters, spectra, self.layout)

    # ------------------------------------------------------------------------------ learning
    def initialize(self, blocks: list[np.ndarray], shift_cells: tuple[float, float] = (0.0, 0.0)) -> None:
        """Learn P (PCA, then Gauss-Newton jointly with f) from the first sample.

        ``blocks``: list of (A, N1, N2, D); ``A`` >= 1 samples (the first is the plain sample, the
        others augmented copies). As in UPDT / pytracking, the PCA and the joint optimization see
        all of them with weight ``1 / A`` each, and all enter the memory with that weight (for
        ``A = 1`` this is ECO's first frame). ``shift_cells`` (output-grid cells, (dy, dx)) moves the
        samples' spectra so that the target is centred (ECO samples at the rounded position).
        """
        cfg = self.config
        self.projections = [_pca_projection(x, spec.compressed_dim) for x, spec in zip(blocks, self.specs)]
        self._init_shift = (-shift_cells[0], -shift_cells[1])
        full = self._shifted(self.spectra(blocks, project=False))  # (A, D, K1, Kh)
        n_init = full[0].shape[0]
        init_weights = np.full(n_init, 1.0 / n_init)
        self.filters = [np.zeros((s.compressed_dim,) + shape, dtype=np.complex64)
                        for s, shape in zip(self.specs, self.layout.block_shapes)]

        # ECO (tracker.m, train_joint.m): the sample energy of the PCA-projected samples builds the
        # preconditioner once for all Gauss-Newton steps, and stays the running energy afterwards.
        self.sample_energy = [np.mean(np.abs(s) ** 2, axis=0).astype(np.float32)
                              for s in self._shifted(self.spectra(blocks))]
        precond = self.filter_preconditioner(self.sample_energy) + self.projection_preconditioner()
        for _ in range(cfg.init_gn_iterations):
            problem = JointProblem(full, self.projections, self.filters, self.label, self.reg_kernels,
                                   cfg.projection_reg, self.layout, sample_weights=init_weights)
            x0 = self.filters + [np.zeros_like(p) for p in self.projections]
            solution, _, _ = conjugate_gradient(
                problem.apply, problem.rhs(), x0, precond, problem.inner,
                cfg.init_cg_iterations, fletcher_reeves=True,
            )
            n = len(self.filters)
            self.filters = [symmetrize_filter(f.astype(np.complex64)) for f in solution[:n]]
            self.projections = [(p + dp).astype(np.float32) for p, dp in zip(self.projections, solution[n:])]

        samples = self._shifted(self.spectra(blocks))  # projected with the final P
        self.memory = SampleMemory([s.shape[1:] for s in samples], max(cfg.n_samples, n_init), cfg.learning_rate)
        self.memory.insert_initial(samples)
        self.cg_state = None
        self.frames_since_training = 0

    def _shifted(self, spectra: list[np.ndarray]) -> list[np.ndarray]:
        """Spectra translated by the initialization shift (no-op without one)."""
        if self._init_shift == (0.0, 0.0):
            return spectra
        return [shift_spectrum(x, self._init_shift, self.output_size).astype(np.complex64) for x in spectra]

    def filter_preconditioner(self, energy: list[np.ndarray]) -> list[np.ndarray]:
        cfg = self.config
        out = []
        for e in energy:
            data = cfg.precond_data_param * e + (1 - cfg.precond_data_param) * e.mean(axis=0, keepdims=True)
            out.append(((1 - cfg.precond_reg_param) * data + cfg.precond_reg_param * self.reg_energy).astype(np.float32))
        return out

    def projection_preconditioner(self) -> list[np.ndarray]:
        """Diagonal preconditioner of the projection matrices in the Gauss-Newton problem (ECO).

        ``precond_proj_param * (2 sum |y|^2 / D_total + lambda)`` for every entry, where the sum
        runs over the label's half spectrum and ``D_total`` is the sum of the *uncompressed*
        feature dimensions of all blocks (41 for ECO-HC: 31 HOG + 10 Color Names).
        """
        cfg = self.config
        proj_energy = 2 * float(np.sum(np.abs(self.label) ** 2)) / sum(s.dim for s in self.specs)
        value = cfg.precond_proj_param * (proj_energy + cfg.projection_reg)
        return [np.full(p.shape, value, dtype=np.float32) for p in self.projections]

    def add_sample(self, sample: list[np.ndarray]) -> None:
        """Insert a new projected sample (list of (C, K1, Kh)) into the memory."""
        self.memory.insert(sample)

    def update_sample_energy(self, sample: list[np.ndarray]) -> None:
        """Running average (rate: the learning rate) of the per-coefficient sample energy."""
        lr = self.config.learning_rate
        self.sample_energy = [((1 - lr) * e + lr * np.abs(z) ** 2).astype(np.float32)
                              for e, z in zip(self.sample_energy, sample)]

    def update(self, sample: list[np.ndarray], frame_number: int) -> bool:
        """Add a sample and train on ECO's sparse schedule; returns whether the filter was trained.

        ``frame_number`` is 1-based (1 = initialization frame). As in ECO, the sample energy
        (preconditioner) takes in only the samples of training frames.
        """
        self.add_sample(sample)
        cfg = self.config
        due = frame_number < cfg.skip_after_frame or self.frames_since_training >= cfg.train_gap
        if due:
            self.update_sample_energy(sample)
            self.train(cfg.cg_iterations)
            self.frames_since_training = 0
        else:
            self.frames_since_training += 1
        return due

    def filter_problem(self, extra_samples=None, extra_weights=None, extra_labels=None) -> FilterProblem:
        """Normal equations over the memory (and optional extra samples with their own labels)."""
        count = self.memory.count
        samples = [s[:count] for s in self.memory.samples]
        weights = self.memory.weights
        labels = self.label
        if extra_samples is not None:
            samples = [np.concatenate([s, e]) for s, e in zip(samples, extra_samples)]
            weights = np.concatenate([weights, extra_weights])
            labels = np.concatenate([np.broadcast_to(self.label, (count,) + self.label.shape), extra_labels])
        return FilterProblem(samples, weights, labels, self.reg_kernels, self.layout)

    def train(self, iterations: int) -> None:
        """Run ``iterations`` of warm-started preconditioned CG on the filter (projection fixed)."""
        cfg = self.config
        problem = self.filter_problem()
        forget = (1 - cfg.learning_rate) ** cfg.cg_forgetting_rate
        self.filters, self.cg_state, _ = conjugate_gradient(
            problem.apply, problem.rhs(), self.filters, self.filter_preconditioner(self.sample_energy),
            problem.inner, iterations, fletcher_reeves=cfg.cg_fletcher_reeves,
            state=self.cg_state, forget_factor=forget,
        )
        self.filters = [f.astype(np.complex64) for f in self.filters]
        self.updates += 1

    def is_finite(self) -> bool:
        """False if NaN or Inf reached the filter or the projection."""
        return all(np.isfinite(f).all() for f in self.filters) and all(np.isfinite(p).all() for p in self.projections)


def symmetrize_filter(hf: np.ndarray) -> np.ndarray:
    """Make the ``kx = 0`` column of half spectra Hermitian, as ECO does after each Gauss-Newton step.

    Parameters
    ----------
    hf : ndarray, shape (C, K1, Kh), complex
        Centred half spectra (rows ``ky = -(K1-1)/2 .. (K1-1)/2``, column 0 is ``kx = 0``).

    Returns
    -------
    ndarray, same shape
        A copy whose rows ``ky > 0`` of column 0 are the conjugates of rows ``-ky`` (the ``ky < 0``
        half is kept, as in ECO), so that the filter is the spectrum of a real signal.
    """
    out = np.array(hf, copy=True)
    centre = (hf.shape[1] - 1) // 2
    out[:, centre + 1:, 0] = np.conj(out[:, :centre, 0][:, ::-1])
    return out


def _pca_projection(features: np.ndarray, n_components: int) -> np.ndarray:
    """Leading principal directions of feature maps (..., N1, N2, D) -> (D, C) float32 (ECO's init).

    All cells of all maps given are pooled (pytracking / UPDT: every augmented first-frame sample).
    """
    x = features.reshape(-1, features.shape[-1]).astype(np.float64)
    x = x - x.mean(axis=0)
    u, _, _ = np.linalg.svd(x.T @ x)
    return u[:, :n_components].astype(np.float32)


def project_channels(features: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """Apply a (D, C) projection to the last axis of (..., D) features, as one 2-D matrix product.

    (numpy's stacked ``@`` on 3-D/4-D arrays loops over the leading axes without BLAS and is two
    orders of magnitude slower for feature maps.)
    """
    flat = np.ascontiguousarray(features).reshape(-1, features.shape[-1])
    return (flat @ projection).reshape(features.shape[:-1] + (projection.shape[1],))
