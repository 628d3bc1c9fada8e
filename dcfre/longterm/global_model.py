"""The global appearance model (paper section 3.3): the local model retrained against distractors."""

from __future__ import annotations

from collections import deque

import numpy as np

from dcfre.config import LongTermConfig
from dcfre.eco.appearance import AppearanceModel
from dcfre.eco.operators import score_spectrum
from dcfre.eco.optimize import conjugate_gradient
from dcfre.eco.peak import evaluate_series
from dcfre.fourier import half_weights
from dcfre.longterm.mining import Distractor


class GlobalModel:
    """Filter trained on the target samples (positive label) and mined distractors (negative label).

    It shares features and projection with the local model it is built from, so it costs only an
    extra filter; the distractor memory is bounded (oldest first out).

    Parameters
    ----------
    local : AppearanceModel
        The model whose features, projection and sample memory are shared.
    config : LongTermConfig
    """

    def __init__(self, local: AppearanceModel, config: LongTermConfig):
        self.local = local
        self.config = config
        self.distractors: deque[tuple[Distractor, list[np.ndarray]]] = deque(maxlen=config.max_distractors)
        self.filters: list[np.ndarray] | None = None
        self.pending = False  # distractors added since the last training
        #: global / local score of the target samples. Training against negatives shrinks the global
        #: filter's output; its scores are compared with ``scale_ratio * rbar_p`` so that each model
        #: is normalized by its own response to the target, as t_conf normalizes the local model.
        self.scale_ratio = 1.0
        #: global / local score ratios of fresh target samples the global filter had not been trained
        #: on (one per mining round, newest last); see :attr:`calibration`
        self.held_out_ratios: deque[float] = deque(maxlen=max(int(config.calibration_window), 1))

    def add_distractors(self, image: np.ndarray, distractors: list[Distractor], scale: float) -> None:
        """Extract and store a sample centred on each distractor (at the target's scale)."""
        if not distractors:
            return
        centres = np.array([d.position for d in distractors], dtype=np.float64)
        spectra = self.local.model.spectra(self.local.sample_features_at(image, centres, scale))  # one batch
        for i, d in enumerate(distractors):
            self.distractors.append((d, [s[i] for s in spectra]))
        self.pending = True

    def train(self) -> None:
        """Initialize from the local filter and run a fixed number of CG iterations (paper 3.3)."""
        model = self.local.model
        start = [f.copy() for f in model.filters]
        if not self.distractors:
            self.filters = start
            self.pending = False
            self.scale_ratio = 1.0
            return
        cfg = self.config
        n = len(self.distractors)
        extra = [np.stack([spectra[b] for _, spectra in self.distractors]) for b in range(len(start))]
        weights = np.full(n, cfg.distractor_weight / n, dtype=np.float64)
        labels = np.broadcast_to(-cfg.negative_label_scale * model.label, (n,) + model.label.shape)
        problem = model.filter_problem(extra, weights, labels)
        precond = model.filter_preconditioner(model.sample_energy)
        self.filters, _, _ = conjugate_gradient(
            problem.apply, problem.rhs(), start, precond, problem.inner, cfg.global_cg_iterations,
            fletcher_reeves=True,
        )
        self.filters = [f.astype(np.complex64) for f in self.filters]
        self.pending = False
        self.scale_ratio = self._target_response(self.filters) / max(self._target_response(model.filters), 1e-12)
        self.scale_ratio = float(np.clip(self.scale_ratio, 0.05, 1.0))

    def _target_response(self, filters: list[np.ndarray]) -> float:
        """Prior-weighted mean score at the target centre over the memory's target samples."""
        model = self.local.model
        count = model.memory.count
        spectra = score_spectrum(filters, [s[:count] for s in model.memory.samples], model.layout)
        weights = half_weights(*spectra.shape[-2:])
        at_centre = np.sum(weights * spectra.real, axis=(1, 2))  # s(0) = Re sum_full S[k]
        return float(np.sum(model.memory.weights * at_centre))

    def target_ratio(self, sample: list[np.ndarray]) -> float | None:
        """Global / local score at the centre of a target-centred sample (list of (C, K1, Kh)).

        None before the global filter exists or when the local score is not positive.
        """
        if self.filters is None:
            return None
        model = self.local.model
        local = _centre_score(model.filters, sample, model.layout)
        if local <= 0:
            return None
        return _centre_score(self.filters, sample, model.layout) / local

    def observe_target(self, sample: list[np.ndarray]) -> float | None:
        """Record the held-out ratio of a fresh, confidently tracked target sample; returns it."""
        ratio = self.target_ratio(sample)
        if ratio is not None:
            self.held_out_ratios.append(float(ratio))
        return ratio

    @property
    def calibration(self) -> float:
        """Factor that puts global scores on the local model's scale (global / calibration ~ local).

        ``"memory"``: :attr:`scale_ratio`, measured on the memory's own training samples (optimistic:
        the global filter fits them). ``"held_out"``: the median ratio on fresh target samples it had
        not seen (:meth:`observe_target`), falling back to ``scale_ratio`` before the first one.
        """
        if self.config.global_calibration == "held_out" and self.held_out_ratios:
            return float(np.clip(np.median(self.held_out_ratios), 0.05, 1.0))
        return self.scale_ratio

    def score_at(self, spectra: list[np.ndarray], displacement: np.ndarray) -> float:
        """Global score of one sample (list of (C, K1, Kh)) at ``displacement`` (output cells)."""
        model = self.local.model
        spectrum = score_spectrum(self.filters, [s[None] for s in spectra], model.layout)[0]
        return float(evaluate_series(spectrum, np.asarray(displacement, dtype=np.float64),
                                     self.local.geometry.output_size)[0])

    @property
    def ready(self) -> bool:
        return self.filters is not None


def _centre_score(filters: list[np.ndarray], sample: list[np.ndarray], layout) -> float:
    """Score at zero displacement of one sample: ``s(0) = Re sum_k S[k]`` over the full spectrum."""
    spectrum = score_spectrum(filters, [s[None] for s in sample], layout)[0]
    return float(np.sum(half_weights(*spectrum.shape[-2:]) * spectrum.real))
