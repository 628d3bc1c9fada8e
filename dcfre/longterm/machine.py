"""The long-term state machine: when to learn, mine, declare a loss, search, accept a re-detection.

This is where re-detection happens. The paper's section 3 with the reliability options of
:class:`~dcfre.config.LongTermConfig` (``LongTermConfig.paper()`` turns them off)::

    tracking --(N_loss frames with t_conf < tau_min)--> lost
    lost --(a candidate passes the thresholds)--> probation --(passes)--> tracking
                                                           \\--(fails)--> lost

* **tracking**: the tracker has localized the target with its local model(s); the confidence
  ``t_conf = r_p / rbar_p`` decides whether the frame is learnt and whether mining may run.
* **lost**: every frame the last known position is scored (cheap); every ``n_redetection`` frames
  the whole frame is scanned with the local (and global) filters. Candidates are the strongest
  local maxima; each is verified on a windowed sample extracted at its position, so that its score
  is in the domain of ``r_p`` and ``rbar_p``. A candidate at the last position that stays above
  ``tau_min`` (not ``tau_redetection``) for ``weak_return_frames`` checks in a row is also taken
  back: the loss rule's hysteresis applied to a return.
* **probation**: a re-detected target is tracked, but learning and mining wait and its confidence
  is held out of ``rbar_p``; it must keep passing the global (and colour) check. A failed probation
  returns to *lost* and forgets everything seen during it: a wrong re-detection cannot corrupt the
  models.
* **colour check** (``colour_check``): colour histograms of the target and of the mined distractors
  (:mod:`dcfre.longterm.colour`) veto candidates that look like a distractor, and let one that looks
  like the target pass without the global filter, which cannot tell look-alikes of another shade.
* **trust** (``confirm_identity_frames``): a re-detected lock mines nothing and does not teach the
  colour model until its colour evidence, averaged over its frames, says it is the target: a lock on a
  look-alike would otherwise store the true target among the distractors.
* **challenge** (``challenge_interval``): every so many confident frames the whole frame is scanned; a
  candidate elsewhere that beats the lock (local score by ``challenge_margin``, colours nearer the
  target's) replaces it as a re-detection. A lock on a look-alike is otherwise never undone.

The machine holds no numerical detail: scores come from the tracker (``host``, see
:class:`Host`), the whole-frame scorer, the global model, mining and candidate choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dcfre.config import LongTermConfig
from dcfre.eco.peak import evaluate_series
from dcfre.longterm.colour import ColourModel, ColourVerdict, IdentityEvidence
from dcfre.longterm.confidence import ConfidenceMonitor
from dcfre.longterm.full_image import FrameScores, FullImageScorer, local_maxima
from dcfre.longterm.global_model import GlobalModel
from dcfre.longterm.mining import mine_hard_negatives
from dcfre.longterm.redetect import choose_candidate
from dcfre.state import LOST, REDETECTED, TRACKING, TrackState

PROBATION = "probation"


class Host(Protocol):
    """What the machine needs from the tracker (implemented by :class:`dcfre.tracker.Tracker`)."""

    position: np.ndarray  #: target centre (y, x), image pixels
    scale: float  #: image pixels per sample pixel
    frame_number: int
    min_scale: float
    max_scale: float
    base_target_size: np.ndarray

    @property
    def box(self) -> np.ndarray: ...

    @property
    def confidence_model(self): ...

    def localize(self, frame: np.ndarray, position=None, scale=None): ...

    def learn(self, frame: np.ndarray, loc, position: np.ndarray, frame_number: int, update_scale: bool) -> None: ...

    def resume_at(self, frame: np.ndarray, position: np.ndarray, scale: float) -> None: ...


@dataclass
class _Deferred:
    """A tracked frame whose sample waits: learnt if the streak or probation ends well."""

    loc: object
    position: np.ndarray
    frame_number: int


class LongTermMachine:
    """Long-term decisions of one tracker (see the module docstring).

    Parameters
    ----------
    host : Host
        The tracker: localization, learning and scale estimation.
    config : LongTermConfig
    """

    def __init__(self, host: Host, config: LongTermConfig):
        self.host = host
        self.config = config
        self.mode = config.redetect
        self.monitor = ConfidenceMonitor(config.eta, config.tau_min, config.n_loss, defer_low=config.defer_low_scores)
        model = host.confidence_model
        self.global_model = GlobalModel(model, config) if self.mode == "global" else None
        #: one global model per local model (deep and shallow in UPDT) when ``global_models == "all"``;
        #: the first is :attr:`global_model`, the paper's (on the confidence model)
        self.global_models: list[GlobalModel] = []
        if self.global_model is not None:
            self.global_models = [self.global_model]
            if config.global_models == "all":
                self.global_models += [GlobalModel(m, config) for m in host.models if m is not model]
        #: colour histograms of the target and the mined distractors (``colour_check``); set up at the
        #: first frame, and only for colour frames
        self.colour: ColourModel | None = None
        self.scorer = (FullImageScorer(model, config.max_scan_pixels, max_frame_ratio=config.max_scan_frame_ratio,
                                       match_samples=config.scan_matches_samples) if self.mode != "off" else None)
        self.state = TRACKING
        self.frames_lost = 0
        self.frames_since_mining = 0
        self.probation_left = 0
        self.probation_passes = 0
        self._deferred: list[_Deferred] = []
        self._deferred_scale_change = 1.0  # product of the size changes held back on low frames (defer_scale_when_low)
        self.confident_run = 0  # confident tracked frames in a row (see LongTermConfig.recovery_frames)
        self._last_confident = None  # (frame, position (y, x), scale, frame number) of the last confident frame
        self._info: dict = {}
        self._references: list = [None] * max(len(self.global_models), 1)  # see _reference
        self._weak_hits, self._weak_position = 0, None  # see _weak_return
        self.frames_since_challenge = 0  # see _challenge_due
        #: whether the current lock is trusted as the target (see _identity_trusted): mining and the target's
        #: colour model wait while it is not
        self._trusted = True
        self._lock_margin = IdentityEvidence()  # colour margin of a re-detected lock over its frames
        self._trusted_margin = IdentityEvidence(config.colour_learning_rate)  # ... and of trusted views

    # ------------------------------------------------------------------------------ entry points
    @property
    def lost(self) -> bool:
        return self.state == LOST

    def start(self, frame: np.ndarray) -> dict:
        """After the first frame: remember it as confident and mine it (global mode)."""
        self._begin_frame()
        host = self.host
        self._last_confident = (frame, host.position.copy(), host.scale, 1)
        cfg = self.config
        if self.global_model is not None and cfg.colour_check != "off" and frame.ndim == 3:
            self.colour = ColourModel(cfg.colour_hue_bins, cfg.colour_value_bins, cfg.colour_inner,
                                      cfg.colour_learning_rate, cfg.max_distractors, cfg.colour_value_weight)
            self.colour.learn_target(frame, host.position, self._target_size(host.scale))
        if self.global_model is not None:
            self._mine(frame, host.position, host.scale, 1)
            if self.config.retrain_global_on_mining:
                self._train_global()
        return self._end_frame(float("nan"))

    def after_localization(self, frame: np.ndarray, loc, previous_scale: float) -> TrackState:
        """Decide on a tracked frame: the host has moved the target to ``loc``; learn, mine or lose it."""
        self._begin_frame()
        host, cfg = self.host, self.config
        confidence = self.monitor.observe(loc.confidence_score)
        confident = confidence >= cfg.tau_min
        if not confident:
            self._event("low_confidence")
            self.confident_run = 0
            if self.mode != "off" and cfg.freeze_scale_when_low:
                if cfg.defer_scale_when_low:
                    self._deferred_scale_change *= host.scale / previous_scale
                host.scale = previous_scale  # a scale estimated on an occluder or background is not trusted
        elif self._deferred_scale_change != 1.0 and self.state == TRACKING:
            # the streak ended without a loss: its size changes were the target's own
            host.scale = float(np.clip(host.scale * self._deferred_scale_change, host.min_scale, host.max_scale))
            self._deferred_scale_change = 1.0
        if self.mode == "off":
            host.learn(frame, loc, host.position, host.frame_number, True)
            return self._state(confidence, True, TRACKING, loc)
        if self.state == PROBATION:
            return self._probation_step(frame, loc, confidence)
        if confident and self._challenge_due():
            challenger = self._challenge(frame, confidence)
            if challenger is not None:
                self._event("challenger_accepted")
                return self._accept(frame, challenger)
        if confident and self._confident_frame(frame, loc):
            self.confident_run += 1
            if self.confident_run >= cfg.recovery_frames:
                self._learn_deferred()
            host.learn(frame, loc, host.position, host.frame_number, True)
            if self.colour is not None:
                view = self.colour.histogram(frame, host.position, self._target_size(host.scale))
                if self._identity_trusted(view):
                    self.colour.learn_view(view)
        elif cfg.learn_after_recovery:
            self._deferred.append(_Deferred(loc, host.position.copy(), host.frame_number))
        if self.monitor.lost:
            self._declare_lost()
            return self._state(confidence, False, LOST, loc)
        return self._state(confidence, True, TRACKING, loc)

    def search(self, frame: np.ndarray) -> TrackState:
        """A frame while lost: check the last position, scan the whole frame on schedule (paper 3.3)."""
        self._begin_frame()
        cfg = self.config
        self.frames_lost += 1
        if any(g.pending or not g.ready for g in self.global_models):
            self._train_global()
        scan_due = (self.frames_lost - 1) % cfg.n_redetection == 0
        if not scan_due:
            if cfg.local_check_while_lost:
                self._event("last_position_check")
                return self._check_last_position(frame)
            return self._state(0.0, False, LOST, None)
        self._event("scan")
        if cfg.verify_candidates:
            return self._scan_verified(frame)
        return self._scan_paper(frame)

    # ------------------------------------------------------------------------------ tracking
    def _confident_frame(self, frame: np.ndarray, loc) -> bool:
        """Bookkeeping of a confident frame: calibration, wrong-lock check, mining on schedule.

        Returns False when the frame must not be learnt (a suspected wrong lock)."""
        host, cfg = self.host, self.config
        suspicious = self.global_model is not None and self._suspicious(loc)
        if suspicious and cfg.lose_on_wrong_lock:
            self._event("wrong_lock_suspected")
            self.monitor.low_streak = max(self.monitor.low_streak, cfg.n_loss)  # treated as a loss
            return False
        self._last_confident = (frame, host.position.copy(), host.scale, host.frame_number)
        self._update_references(loc)
        self.frames_since_mining += 1
        if self.global_model is None or self.frames_since_mining < cfg.n_hn:
            return True
        if not self._trusted:
            # the lock is not confirmed as the target: what lies around it may be the target
            self._event("mining_deferred")
            return True
        if suspicious:
            # every global model, trained against known distractors, rejects what we track:
            # mining here could store the true target as a distractor
            self._event("mining_skipped")
            self.frames_since_mining = 0
            return True
        self._mine(frame, host.position, host.scale, host.frame_number)
        if cfg.retrain_global_on_mining and any(g.pending for g in self.global_models):
            self._train_global()
        return True

    def _suspicious(self, loc) -> bool:
        """Calibrate the global gate on this confident view; True when every global model rejects it.

        Every confident frame is a view the global filters (trained at the last mining round or
        loss) have not seen: its global / local ratio at the target enters the held-out calibration,
        unless it is far below it (then it is the suspected wrong lock, and it must not drag the
        calibration down with it).
        """
        cfg, host = self.config, self.host
        if cfg.global_calibration != "held_out" and cfg.wrong_lock_ratio <= 0:
            return False
        samples = [g.local.training_sample(d, host.position) for g, d in zip(self.global_models, loc.detections)]
        ratios = [(g.target_ratio(x), g, x) for g, x in zip(self.global_models, samples)]
        relative = [ratio / g.calibration for ratio, g, _ in ratios if ratio is not None]
        suspicious = bool(relative) and max(relative) < cfg.wrong_lock_ratio
        if not suspicious:
            for _, g, x in ratios:
                g.observe_target(x)
        return suspicious

    def _challenge_due(self) -> bool:
        """Every ``challenge_interval`` confident tracked frames (0: never)."""
        interval = self.config.challenge_interval
        if interval <= 0 or not self.config.verify_candidates or self.global_model is None:
            return False  # (global mode only: a challenger must pass the global gate)
        if not all(g.ready for g in self.global_models):
            return False
        self.frames_since_challenge += 1
        if self.frames_since_challenge < interval:
            return False
        self.frames_since_challenge = 0
        return True

    def _challenge(self, frame: np.ndarray, confidence: float) -> "Candidate | None":
        """Question the lock: scan the whole frame for an object that is more the target than it.

        The strongest local maxima away from the tracked box are verified as a lost target's
        candidates are. One whose local and global scores pass ``tau_redetection``, whose local score
        is at least ``challenge_margin`` times the lock's confidence (both on centred samples) and whose
        colours are nearer the target's than the tracked box's is returned (it replaces the lock as a
        re-detection). Lock and challenger are judged in the same frame, against each other.
        """
        cfg, host = self.config, self.host
        self._event("lock_challenged")
        scale = host.scale
        local = self.scorer.score(self.scorer.features(frame, scale, host.position),
                                  [host.confidence_model.model.filters])[0]
        maxima = self._scan_maxima(local, scale, cfg.max_candidates + 1)  # one of them may be the lock
        half_size = self._target_size(scale) / 2
        own_colour = self._colour_verdict(frame) if self.colour is not None else None
        candidates = []
        for index, _ in maxima:
            position = local.position(index)
            if np.all(np.abs(position - host.position) <= half_size):
                continue  # the lock itself
            candidate = self._verify(frame, position, scale, cfg.verify_scale_factors)
            if np.all(np.abs(candidate.position - host.position) <= half_size):
                continue  # its verification slid back onto the lock
            candidates.append(candidate)
        if cfg.trace:
            self._record_candidates(candidates)

        def beats_the_lock(c: Candidate) -> bool:
            # the paper's gate, the margin over the lock, and colours nearer the target's than the lock's; not
            # the distractor veto: if the lock is a look-alike, what was mined around it may be the target
            tau = cfg.tau_redetection
            if not (c.local >= max(tau, cfg.challenge_margin * confidence) and c.global_ >= tau):
                return False
            return own_colour is None or c.colour is None or bool(c.colour.target > own_colour.target)

        better = [c for c in candidates if beats_the_lock(c)]
        return max(better, key=lambda c: c.local) if better else None

    def _identity_trusted(self, view: np.ndarray) -> bool:
        """Observe the colour evidence of this confident frame's box (its histogram ``view``); True once
        the lock is trusted.

        The first frame's lock is trusted. With ``confirm_identity_frames`` = K > 0, a re-detected lock
        is trusted once the mean colour margin of its first K or more frames (:class:`IdentityEvidence`)
        exceeds ``confirm_identity_ratio`` times the margin the target's trusted views have had. A trust
        once earned is kept until the next loss: a window of a true target's margins dips below zero
        whenever a newly mined look-alike shares its colours (synth-human), so revoking it stops mining
        on the true target.
        """
        cfg = self.config
        if cfg.confirm_identity_frames <= 0 or self.colour is None:
            return True
        if self._trusted:
            self._trusted_margin.observe(self.colour.judge(view))  # the margin the target's own views have
            return True
        if not self.colour.distractors:  # no distractor known: no evidence can be had, and none is needed
            self._trusted = True
            return True
        self._lock_margin.observe(self.colour.judge(view))
        if self._lock_margin.confirms(cfg.confirm_identity_frames,
                                      cfg.confirm_identity_ratio * self._trusted_margin.mean):
            self._event("identity_confirmed")
            self._trusted = True
        return self._trusted

    def _colour_verdict(self, frame: np.ndarray) -> ColourVerdict:
        """Colour verdict of the box the tracker reports."""
        return self.colour.verdict(frame, self.host.position, self._target_size(self.host.scale))

    def _learn_deferred(self) -> None:
        """Confidence came back without a loss: absorb the waiting samples (fast appearance change)."""
        if not self._deferred:
            return
        for item in self._deferred:
            self.host.learn(None, item.loc, item.position, item.frame_number, False)
        self._deferred = []
        self._event("learnt_deferred")

    def _declare_lost(self) -> None:
        """Enter the lost state; with the global model, mine the last confident frame and train."""
        self._event("loss_declared")
        self.state = LOST
        self.frames_lost = 0
        self.host.scale = self._last_confident[2]  # the size estimated on the loss onset is not trusted
        self._deferred_scale_change = 1.0
        self.monitor.drop_pending()
        self._deferred = []
        if self.global_model is not None:
            if self._trusted:
                frame, position, scale, number = self._last_confident
                self._mine(frame, position, scale, number)
            self._train_global()

    def _mine(self, frame: np.ndarray, position: np.ndarray, scale: float, frame_number: int) -> None:
        """Hard-negative mining in a confidently tracked frame (paper 3.2)."""
        cfg = self.config
        model = self.host.confidence_model
        scores = self.scorer.score(self.scorer.features(frame, scale, position), [model.model.filters])[0]
        reference = self.monitor.average or scores.value_at(position)
        target_size = self._target_size(scale)
        found = mine_hard_negatives(scores, position, target_size, reference, cfg.tau_hn,
                                    cfg.max_distractors_per_round, frame_number)
        if found:
            for g in self.global_models:
                g.add_distractors(frame, found, scale)
            if self.colour is not None:
                self.colour.add_distractors(frame, [d.position for d in found], target_size)
        self.frames_since_mining = 0
        self._event("mining")
        if cfg.trace:
            self._info.setdefault("distractors", []).extend(_box(d.position, target_size) for d in found)

    def _train_global(self) -> None:
        for g in self.global_models:
            g.train()
        self._event("global_trained")

    # ------------------------------------------------------------------------------ lost
    def _check_last_position(self, frame: np.ndarray) -> TrackState:
        """Search the usual sample at the last position (targets often reappear where they hid); the
        peak found there is scored on its own centred sample (``recentre_candidates``)."""
        if self.config.verify_candidates:
            weak_floor = self.config.tau_min if self.config.weak_return_frames > 0 else None
            candidate = self._verify(frame, self.host.position, self.host.scale, colour_floor=weak_floor)
            self._record_candidates([candidate])
            if candidate.accepted:
                return self._accept(frame, candidate)
            if self._weak_return(candidate):
                self._event("weak_return_accepted")
                return self._accept(frame, candidate)
            return self._state(candidate.local, False, LOST, None)
        return self._check_last_position_paper(frame)

    def _scan_verified(self, frame: np.ndarray) -> TrackState:
        """Whole-frame scan; its strongest maxima are verified on windowed samples at their positions."""
        cfg, host = self.config, self.host
        scan_scale = self._scan_scale()
        local, global_ = self._scan(frame, scan_scale)
        calibration = self.global_model.calibration if self.global_model is not None else 1.0
        maxima = self._scan_maxima(local, scan_scale, cfg.max_candidates)  # the global gate comes at verification
        candidates = []
        for index, _ in maxima:
            candidate = self._verify(frame, local.position(index), scan_scale, cfg.verify_scale_factors)
            candidate.scan_local = self.monitor.normalize(local.values[tuple(index)])
            if global_ is not None:
                candidate.scan_global = self.monitor.normalize(global_.values[tuple(index)] / calibration)
            candidates.append(candidate)
        self._record_candidates(candidates)
        accepted = [c for c in candidates if c.accepted]
        if accepted:
            return self._accept(frame, max(accepted, key=lambda c: c.local))
        self._event("redetection_rejected")
        best = max((c.local for c in candidates), default=0.0)
        return self._state(best, False, LOST, None)

    def _scan_maxima(self, local: FrameScores, scale: float, limit: int) -> list:
        """The ``limit`` strongest local maxima of a whole-frame local score map above ``tau_hn * rbar_p``,
        at least half a target size apart (``(index, value)`` pairs, strongest first)."""
        target_cells = self.host.base_target_size * scale / local.step
        radius = tuple(np.maximum(target_cells / 2, 1).astype(int))
        return local_maxima(local.values, radius, self.config.tau_hn * self.monitor.average, limit=limit)

    def _weak_return(self, candidate: "Candidate") -> bool:
        """``weak_return_frames``: a target back at its last position but changed scores below
        ``tau_redetection``; it is accepted once it has passed ``tau_min`` (the tracking bar) and the
        appearance gate in that many last-position checks in a row, each within half a target size of
        the previous one."""
        cfg = self.config
        if cfg.weak_return_frames <= 0:
            return False
        weak = bool(np.isfinite(candidate.local) and candidate.local >= cfg.tau_min
                    and self._appearance_agrees(candidate.global_, candidate.colour))
        previous = self._weak_position
        if not weak:
            self._weak_hits, self._weak_position = 0, None
            return False
        near = previous is not None and bool(np.all(np.abs(candidate.position - previous)
                                                    <= self._target_size(candidate.scale) / 2))
        self._weak_hits = self._weak_hits + 1 if near else 1
        self._weak_position = candidate.position.copy()
        if self._weak_hits < cfg.weak_return_frames:
            return False
        self._weak_hits, self._weak_position = 0, None
        return True

    def _verify(self, frame: np.ndarray, position: np.ndarray, scale: float, factors=(1.0,),
                colour_floor: float | None = None) -> "Candidate":
        """Score a candidate as a tracked frame is scored: windowed samples at its position, one per
        scale factor (the best one wins)."""
        loc = self.host.localize(frame, position, scale, factors)
        scale = scale * factors[loc.scale_index]
        loc = self._recentred(frame, loc, scale)
        local = self.monitor.normalize(loc.confidence_score)
        global_ = self._global_agreement(loc) if self.global_model is not None else local
        tau = self.config.tau_redetection
        colour = None
        floor = tau if colour_floor is None else min(tau, colour_floor)
        if self.colour is not None and np.isfinite(local) and local >= floor:
            colour = self.colour.verdict(frame, loc.position, self._target_size(scale))
        accepted = bool(np.isfinite(local) and local >= tau and self._appearance_agrees(global_, colour))
        return Candidate(loc.position.copy(), scale, local, global_, accepted, loc, colour=colour)

    def _appearance_agrees(self, global_: float, colour: ColourVerdict | None) -> bool:
        """The gate after the local score: the global model's (paper), and the colour check's.

        A candidate nearer a mined distractor's colours than the target's is rejected; with
        ``colour_check="gate"`` one nearer the target's colours than every distractor's (by the factor
        ``colour_gate_ratio``) passes without the global model, which cannot separate look-alikes of
        another shade.
        """
        if colour is not None:
            if colour.looks_like_distractor:
                return False
            if self.config.colour_check == "gate" and colour.looks_like_target(self.config.colour_gate_ratio):
                return True
        return bool(global_ >= self.config.tau_redetection)

    def _target_size(self, scale: float) -> np.ndarray:
        """Target (h, w) in image pixels at sample scale ``scale``."""
        return self.host.base_target_size * scale

    def _recentred(self, frame: np.ndarray, loc, scale: float):
        """With ``recentre_candidates``: the localization of a sample centred on ``loc``'s peak.

        A tracked target sits within one frame's motion of its sample's centre, so ``r_p`` and
        ``rbar_p`` are scores of nearly centred targets. A candidate found far from the centre of the
        sample it was searched in (the last-position check while the target moves on; a scan
        maximum on the scan's grid) is damped by the cosine window; scoring it on its own centred
        sample puts it in the domain of ``rbar_p`` before any threshold is applied. A peak below
        ``recentre_min_ratio * tau_redetection`` could not pass even undamped and is left as it is.
        """
        cfg = self.config
        damped = self.monitor.normalize(loc.confidence_score)
        if not cfg.recentre_candidates or not damped >= cfg.recentre_min_ratio * cfg.tau_redetection:
            return loc  # too weak to pass even undamped (or NaN): not worth a second sample
        return self.host.localize(frame, loc.position, scale, (1.0,))

    def _global_agreement(self, loc) -> float:
        """Global gate of a verified sample, relative to ``rbar_p``-like references.

        Per model ``m`` (deep and shallow in UPDT with ``global_models="all"``): its global score at
        its peak over its held-out calibration and its own running score average,
        ``min(local_m, global_m)`` with ``local_m = r_m / rbar_m``; the best model counts. A look-alike
        the colour-blind deep features cannot tell apart fails the shallow model's local score, the
        true target passes the model that can separate it from the mined distractors.
        """
        best = -np.inf
        lead = loc.detections[0]
        index = lead.peak.scale_index
        scale = lead.scales[index]
        # every model is read where the confidence model peaks: each has its own search sample, and
        # another model's maximum may sit on a different object inside it
        position = lead.sample_centre + lead.peak.displacement * self.global_models[0].local.cells_to_image_pixels(scale)
        for m, (g, detection) in enumerate(zip(self.global_models, loc.detections)):
            reference = self._reference(m)
            if not reference:
                continue
            if m == 0:
                best = max(best, self._global_score(loc) / g.calibration / reference)
                continue
            spectra = [z[index] for z in detection.spectra]
            t = (position - detection.sample_centre) / g.local.cells_to_image_pixels(scale)
            local = evaluate_series(detection.score_spectra[index], t, g.local.geometry.output_size)[0]
            global_ = g.score_at(spectra, t) / g.calibration / reference
            best = max(best, min(global_, local / reference))
        return float(best) if np.isfinite(best) else 0.0

    def _reference(self, model_index: int) -> float | None:
        """Running average of a model's score maximum on confident frames (``rbar_p`` for model 0)."""
        return self.monitor.average if model_index == 0 else self._references[model_index]

    def _update_references(self, loc) -> None:
        eta = self.config.eta
        for m, detection in enumerate(loc.detections[1:len(self.global_models)], start=1):
            old = self._references[m]
            score = float(detection.peak.score)
            self._references[m] = score if old is None else eta * score + (1 - eta) * old

    def _global_score(self, loc) -> float:
        """Raw score of the global model on the confidence model's sample, at that model's peak."""
        detection = loc.detections[0]
        index = detection.peak.scale_index
        return self.global_model.score_at([z[index] for z in detection.spectra], detection.peak.displacement)

    def _accept(self, frame: np.ndarray, candidate: "Candidate") -> TrackState:
        self._event("redetection_accepted")
        self._weak_hits, self._weak_position = 0, None  # a failed probation starts a new run of checks
        self.host.resume_at(frame, candidate.position, candidate.scale)
        self.monitor.reset_streak()
        self.frames_since_mining = 0  # mine only after n_hn confident frames on the re-detected target
        if self.config.probation_frames > 0:
            self.state = PROBATION
            self.probation_left = self.config.probation_frames
            self.probation_passes = 0
            self.monitor.hold(True)
        else:
            self.state = TRACKING
        if self.config.confirm_identity_frames > 0 and self.colour is not None and self.colour.distractors:
            self._trusted = False  # a re-detected lock must earn the trust (_identity_trusted)
            self._lock_margin = IdentityEvidence()
        self._info["local_confidence"] = candidate.local
        self._info["global_confidence"] = candidate.global_
        return self._state(candidate.local, True, REDETECTED, candidate.loc)

    def _probation_step(self, frame: np.ndarray, loc, confidence: float) -> TrackState:
        """A frame of a re-detected target on probation: held out of learning, mining and rbar_p."""
        host, cfg = self.host, self.config
        passes = confidence >= cfg.tau_min
        if self.global_model is not None:
            global_ = self._global_agreement(loc)
            colour = None
            if self.colour is not None and passes:
                colour = self._colour_verdict(frame)
                if not self._trusted:
                    self._lock_margin.observe(colour)  # probation frames are evidence too
            passes = passes and self._appearance_agrees(global_, colour)
            self._info["global_confidence"] = global_
        self.probation_passes += int(passes)
        self._deferred.append(_Deferred(loc, host.position.copy(), host.frame_number))
        self.probation_left -= 1
        if self.monitor.lost:
            return self._fail_probation(confidence, loc)
        if self.probation_left > 0:
            return self._state(confidence, True, TRACKING, loc)
        if self.probation_passes >= cfg.probation_pass_ratio * cfg.probation_frames:
            self._event("probation_passed")
            self.state = TRACKING
            self.monitor.hold(False)
            self.monitor.commit_pending()
            self._learn_deferred()
            return self._state(confidence, True, TRACKING, loc)
        return self._fail_probation(confidence, loc)

    def _fail_probation(self, confidence: float, loc) -> TrackState:
        self._event("probation_failed")
        self.state = LOST
        self.monitor.hold(False)
        self.monitor.drop_pending()
        self.monitor.reset_streak()
        self._deferred = []
        self._deferred_scale_change = 1.0
        _, position, scale, _ = self._last_confident
        self.host.position, self.host.scale = position.copy(), scale  # report the last trusted box
        return self._state(confidence, False, LOST, loc)

    # ------------------------------------------------------------------------------ the paper's search
    def _scan_paper(self, frame: np.ndarray) -> TrackState:
        """Paper 3.3: candidates where both whole-frame scores pass ``tau_redetection * rbar_p``."""
        cfg = self.config
        scan_scale = self._scan_scale()
        local, global_ = self._scan(frame, scan_scale)
        global_scale = self.global_model.calibration if self.global_model is not None else 1.0
        result = choose_candidate(local, global_, self.monitor.average, cfg.tau_redetection, global_scale)
        self._info["local_confidence"] = result.local_confidence
        self._info["global_confidence"] = result.global_confidence
        if not result.found:
            self._event("redetection_rejected")
            return self._state(min(result.local_confidence, result.global_confidence), False, LOST, None)
        candidate = Candidate(result.position, scan_scale, result.local_confidence, result.global_confidence, True)
        self._record_candidates([candidate])
        return self._accept(frame, candidate)

    def _check_last_position_paper(self, frame: np.ndarray) -> TrackState:
        """The first release's check: local (and global) score of the usual search sample."""
        host = self.host
        loc = self._recentred(frame, host.localize(frame), host.scale)
        local = self.monitor.normalize(loc.confidence_score)
        global_ = local
        if self.global_model is not None:
            global_ = self.monitor.normalize(self._global_score(loc) / self.global_model.calibration)
        candidate = Candidate(loc.position.copy(), host.scale, local, global_,
                              local >= self.config.tau_redetection and global_ >= self.config.tau_redetection, loc)
        self._record_candidates([candidate])
        if candidate.accepted:
            return self._accept(frame, candidate)
        return self._state(local, False, LOST, None)

    # ------------------------------------------------------------------------------ helpers
    def _scan_scale(self) -> float:
        """Successive scans cycle through ``redetection_scales`` (a target may come back resized)."""
        cfg, host = self.config, self.host
        attempt = (self.frames_lost - 1) // cfg.n_redetection
        factor = cfg.redetection_scales[attempt % len(cfg.redetection_scales)]
        return float(np.clip(self._last_confident[2] * factor, host.min_scale, host.max_scale))

    def _scan(self, frame: np.ndarray, scale: float) -> tuple[FrameScores, FrameScores | None]:
        filter_sets = [self.host.confidence_model.model.filters]
        if self.global_model is not None:
            filter_sets.append(self.global_model.filters)
        scores = self.scorer.score(self.scorer.features(frame, scale, self.host.position), filter_sets)
        local, global_ = scores[0], (scores[1] if len(scores) > 1 else None)
        if self.config.trace:
            self._info["scan"] = dict(scale=scale, origin=local.origin.tolist(), step=float(local.step),
                                      local=local.values, global_=None if global_ is None else global_.values)
        return local, global_

    def _record_candidates(self, candidates: list["Candidate"]) -> None:
        if not candidates:
            return
        best = max(candidates, key=lambda c: c.local)
        self._info.setdefault("local_confidence", best.local)
        self._info.setdefault("global_confidence", best.global_)
        if self.config.trace:
            size = self.host.base_target_size
            self._info.setdefault("candidates", []).extend(
                dict(box=_box(c.position, size * c.scale), scan_local=c.scan_local, scan_global=c.scan_global,
                     local=c.local, global_=c.global_, accepted=c.accepted,
                     colour_target=c.colour.target if c.colour is not None else None,
                     colour_distractor=c.colour.distractor if c.colour is not None else None)
                for c in candidates)

    def _event(self, name: str) -> None:
        self._info.setdefault("events", []).append(name)

    def _begin_frame(self) -> None:
        self._info = {"events": []}

    def _end_frame(self, r_p: float) -> dict:
        info = self._info
        info["state"] = self.state
        info["r_p"] = r_p
        info["rbar_p"] = self.monitor.average
        if self.config.trace and self.global_model is not None:
            info["global_calibration"] = self.global_model.calibration
        return info

    def _state(self, confidence: float, present: bool, mode: str, loc) -> TrackState:
        r_p = float(loc.confidence_score) if loc is not None else float("nan")
        score_map = loc.score_map if loc is not None else None
        info = self._end_frame(r_p)
        confidence = float(confidence) if np.isfinite(confidence) else 0.0
        return TrackState(self.host.box, confidence, present, mode, score_map, self.host.frame_number, info)


@dataclass
class Candidate:
    """A possible re-detected target.

    Attributes
    ----------
    position : (2,) ndarray
        Centre (y, x), image pixels (the sub-cell maximum of the verifying sample).
    scale : float
        Sample scale it was examined at.
    local, global_ : float
        Local and calibrated global scores relative to ``rbar_p`` (verified on a windowed sample,
        centred on the candidate with ``recentre_candidates``, when ``verify_candidates``;
        whole-frame scores in the paper's variant).
    accepted : bool
        Whether the local score passes ``tau_redetection`` and the appearance gate agrees (global
        score, colour check; see :meth:`LongTermMachine._appearance_agrees`).
    loc : object or None
        The tracker's localization at the candidate (verified candidates).
    scan_local, scan_global : float
        Whole-frame scores at the candidate relative to ``rbar_p`` (NaN when not from a scan).
    colour : ColourVerdict or None
        Colour similarity to the target and the nearest mined distractor (``colour_check``; only
        for candidates whose local score passes ``tau_redetection``, or ``tau_min`` at the
        last-position check with ``weak_return_frames``).
    """

    position: np.ndarray
    scale: float
    local: float
    global_: float
    accepted: bool
    loc: object = None
    scan_local: float = math.nan
    scan_global: float = math.nan
    colour: ColourVerdict | None = None


def _box(position_yx, size_hw) -> list[float]:
    """``x, y, w, h`` of a box centred at ``position_yx`` (pixel-centre convention of the tracker)."""
    h, w = (float(v) for v in size_hw)
    return [float(position_yx[1]) - (w - 1) / 2, float(position_yx[0]) - (h - 1) / 2, w, h]
