"""Typed configuration of every tracker component and the named presets.

Defaults state their source: "ECO" = the original ECO code's OTB settings (DESIGN.md section 2),
"paper" = section 4.1 of the re-detection paper, "UPDT" = Bhat et al., ECCV 2018.
Presets are built by :func:`preset`; ``Tracker.from_preset(name, **overrides)`` applies overrides
with :func:`apply_overrides`, which accepts dotted paths (``"local.learning_rate"``) or the
short names listed in :data:`SHORTCUTS`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from dcfre.errors import InputError

# ------------------------------------------------------------------------------------------------
# Features
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HogConfig:
    """Felzenszwalb HOG (31 channels) feature block."""

    cell_size: int = 6  #: pixels per cell (ECO-HC: 6; ECO deep: 4)
    compressed_dim: int = 10  #: channels after the learnt projection P (ECO: 10)
    n_orientations: int = 9  #: contrast-insensitive orientation bins
    clip: float = 0.2  #: truncation of the block-normalized histograms


@dataclass(frozen=True)
class ColorNamesConfig:
    """Color Names (10-dim CNnorm table) feature block; gray frames use the 5-dim intensity-channel table."""

    cell_size: int = 4  #: ECO-HC: 4
    compressed_dim: int = 3  #: ECO-HC: 3
    gray_compressed_dim: int = 3  #: gray frames: the 5 intensity channels compressed to 3 (ECO-HC)


@dataclass(frozen=True)
class DeepConfig:
    """CNN feature block computed by an ONNX backbone (stride 16)."""

    model: str = "efficientnet-lite0"  #: shipped backbone name or a path to a user ONNX file
    compressed_dim: int = 64  #: ECO deep: 64 for the deep layer
    threads: int = 1  #: onnxruntime intra-op threads


@dataclass(frozen=True)
class FeatureConfig:
    """Which feature blocks a model uses and how each block is normalized (ECO)."""

    hog: HogConfig | None = field(default_factory=HogConfig)
    colornames: ColorNamesConfig | None = field(default_factory=ColorNamesConfig)
    deep: DeepConfig | None = None
    normalize_power: float = 2.0  #: Lp norm used to normalize each block
    normalize_size: bool = True  #: scale with the number of cells
    normalize_dim: bool = True  #: scale with the number of channels


@dataclass(frozen=True)
class AugmentationConfig:
    """First-frame data augmentation of UPDT's deep model (Bhat et al., ECCV 2018, section 3.2)."""

    flip: bool = True  #: horizontal flip
    rotations: tuple[float, ...] = (5.0, -5.0, 10.0, -10.0, 20.0, -20.0, 30.0, -30.0)  #: degrees
    blurs: tuple[tuple[float, float], ...] = ((2.0, 0.2), (0.2, 2.0), (2.0, 2.0))  #: Gaussian sigmas (y, x), px
    dropout_copies: int = 4  #: copies of the sample with random feature channels dropped
    dropout_rate: float = 0.2  #: fraction of channels dropped in each copy
    seed: int = 0  #: random generator seed (dropout masks)


# ------------------------------------------------------------------------------------------------
# One ECO appearance model
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ECOConfig:
    """One ECO appearance model (continuous factorized convolution operator)."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    search_area_scale: float = 4.0  #: sample side = sqrt(target area) * this (ECO-HC 4.0, deep 4.5)
    min_image_sample_size: float = 150.0**2  #: minimum sample area in pixels (ECO-HC 150^2)
    max_image_sample_size: float = 200.0**2  #: maximum sample area in pixels (ECO-HC 200^2)
    output_sigma_factor: float = 1.0 / 16  #: label sigma / sqrt(target area) (ECO-HC 1/16)
    learning_rate: float = 0.009  #: sample-space learning rate (ECO)
    n_samples: int = 30  #: components of the generative sample memory (ECO-HC 30, deep 50)
    train_gap: int = 5  #: frames skipped between filter updates (ECO)
    skip_after_frame: int = 10  #: train every frame before this frame number (ECO-HC 10, deep 1)
    cg_iterations: int = 5  #: CG iterations per filter update (ECO)
    init_gn_iterations: int = 10  #: Gauss-Newton iterations in the first frame (ECO)
    init_cg_iterations: int = 15  #: CG iterations inside each Gauss-Newton step (ECO)
    cg_forgetting_rate: float = 50.0  #: CG momentum forgetting between updates (ECO-HC 50, deep 75)
    cg_fletcher_reeves: bool = False  #: ECO uses Polak-Ribiere
    precond_data_param: float = 0.75  #: preconditioner: per-channel vs mean sample energy (ECO-HC)
    precond_reg_param: float = 0.25  #: preconditioner: weight of the regularization energy (ECO-HC)
    precond_proj_param: float = 40.0  #: preconditioner of the projection matrix (ECO-HC)
    projection_reg: float = 1e-7  #: lambda, Frobenius regularization of P (ECO-HC)
    reg_window_min: float = 1e-4  #: spatial regularization at the target centre (ECO)
    reg_window_edge: float = 10e-3  #: spatial regularization at the target edge (ECO)
    reg_window_power: float = 2.0  #: exponent of the regularization window (ECO)
    reg_sparsity_threshold: float = 0.05  #: relative magnitude below which its DFT is zeroed (ECO)
    interpolation_bicubic_a: float = -0.75  #: cubic interpolation kernel parameter (ECO)
    newton_iterations: int = 5  #: sub-grid refinement of the score maximum (ECO)
    augment: AugmentationConfig | None = None  #: first-frame data augmentation (UPDT deep model)
    eco_patch_sampling: bool = True  #: sample patches as ECO (rounded position, integer decimation, bilinear
    #: resize) instead of sub-pixel crops with area averaging. On: faithful to ECO, and eco-hc mean AUC on the
    #: twelve shared sequences 0.546 (nine: 0.585) against 0.490 (0.578) off (experiments/README.md)
    fft_threads: int = 1  #: pyFFTW threads


# ------------------------------------------------------------------------------------------------
# Scale, fusion, long-term
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleConfig:
    """fDSST scale filter (ECO-HC)."""

    n_scales: int = 17  #: scales sampled per frame
    n_scales_interp: int = 33  #: scales after Fourier interpolation of the response
    scale_step: float = 1.02  #: ratio between neighbouring scales
    sigma_factor: float = 1.0 / 16  #: label sigma relative to the number of interpolated scales
    learning_rate: float = 0.025  #: model update rate
    model_max_area: float = 32.0 * 16  #: max pixels of the resized target for scale features
    regularization: float = 1e-2  #: lambda in the filter denominator
    hog_cell_size: int = 4  #: HOG cell of the scale features
    polynomial_interpolation: bool = True  #: parabola through the best interpolated scale


RedetectMode = Literal["off", "local", "global"]


@dataclass(frozen=True)
class LongTermConfig:
    """Confidence, hard-negative mining, global model and re-detection (paper section 3)."""

    redetect: RedetectMode = "global"  #: off = baseline, local = naive re-detection, global = +HNM
    eta: float = 0.05  #: running-average rate of the score maximum (paper 4.1)
    tau_min: float = 0.6  #: below this normalized confidence: no update, no mining (paper 4.1)
    n_loss: int = 5  #: consecutive low-confidence frames that declare the target lost (not in paper)
    n_hn: int = 15  #: frames between hard-negative mining rounds (paper 4.1)
    tau_hn: float = 0.3  #: normalized score above which a background region is a distractor (paper)
    n_redetection: int = 15  #: frames between re-detection attempts while lost (paper 4.1)
    tau_redetection: float = 0.7  #: candidate threshold relative to the running score (paper 4.1)
    local_check_while_lost: bool = True  #: also test the last position every lost frame (cheap; not in paper)
    redetection_scales: tuple[float, ...] = (1.0, 1.25, 0.8)  #: scale factors (relative to the last confident
    #: size) of successive whole-frame scans while lost, cycled: a target may come back larger or smaller
    #: than it left. Measured (updt, success AUC of synth-lt/synth-human at x0.5, seeds 0 and 1): (1,)
    #: 54.3/34.2 and 59.6/48.1, this 54.1/35.1 and 59.4/54.1, (1, 1.5, 1/1.5) 49.0/31.7 and 58.5/47.0
    #: (wider factors find more look-alikes; not in paper)
    redetection_scale_iterations: int = 3  #: scale-filter estimates chained at a re-detected position: the
    #: target may have changed size while lost, and one estimate spans only about +-36 % (not in paper)
    max_scan_pixels: float = 2.5e6  #: whole-frame scans larger than this (resized pixels) are cut to a window
    #: around the last position: bounds time and memory for tiny targets in large frames (not in paper)
    max_scan_frame_ratio: float = 4.0  #: ... and never larger than this many times the frame's own pixels
    scan_matches_samples: bool = False  #: whole-frame scores equal to centred-sample scores (cosine window,
    #: per-sample normalization) instead of the frame's features correlated directly; measured worse for
    #: re-detection, see dcfre.longterm.full_image (not in paper)
    global_cg_iterations: int = 15  #: CG iterations training the global model (not in paper)
    max_distractors: int = 30  #: bounded distractor memory (oldest dropped first)
    max_distractors_per_round: int = 5  #: strongest distractors kept from one mining round
    negative_label_scale: float = 1.0  #: the distractor label is -scale * Gaussian
    distractor_weight: float = 0.25  #: total sample weight of all distractors; the target memory's is 1 (not in paper)
    # -- Reliability of the long-term decisions (beyond the paper's section 3; measured effects in
    # -- experiments/README.md, "Long-term decisions"). ``LongTermConfig.paper()`` turns all of them off.
    defer_low_scores: bool = False  #: low-confidence frames enter rbar_p (eq. 4) only once confidence
    #: returns without a loss, so that the N_loss frames of a loss onset never lower later thresholds
    learn_after_recovery: bool = False  #: the samples of a low-confidence streak that ends without a loss
    #: (fast appearance change, not an occlusion) are learnt when confidence returns
    recovery_frames: int = 1  #: with learn_after_recovery, confident frames in a row before the waiting
    #: samples are learnt (1: at the first confident frame). A single confident frame on an occluder
    #: ended an occlusion-onset streak in a trace (experiments/README.md). Measured with
    #: learn_after_recovery and 5 (vs the default without it): nine short-term real 66.8 vs 63.0, synth-human
    #: 40.9 vs 36.8, but held-out synth-human 54.3 vs 58.7 and real LT 41.8 vs 43.1
    verify_candidates: bool = True  #: whole-frame candidates are verified on a windowed sample extracted
    #: at their position (the domain r_p and rbar_p come from) before the re-detection thresholds apply.
    #: With recentre_candidates, measured against whole-frame candidates (updt AUC, synth-lt / synth-human
    #: / real LT): 58.1 / 36.9 / 43.1 vs 55.6 / 37.2 / 35.5; held-out seed 1: 61.6 / 58.8 vs 60.1 / 58.3
    recentre_candidates: bool = True  #: a candidate found off-centre in a search sample (the last-position
    #: check samples at the frozen last position; a verified scan candidate sits on the scan grid) is scored
    #: again on a sample centred on it, as a tracked target is: off-centre peaks are damped by the cosine
    #: window, so their scores are not comparable with rbar_p (a returning target 50 px from the last
    #: position scored 0.32 instead of 0.65). Measured (updt AUC, synth-lt / synth-human / real LT):
    #: 55.6 / 37.2 / 35.5 vs 55.2 / 36.4 / 35.1 without; held-out seed 1: 60.1 / 58.3 vs 59.1 / 57.7
    recentre_min_ratio: float = 0.5  #: only candidates whose off-centre score reaches this fraction of
    #: tau_redetection are re-centred (the damping measured in the traces at most halves a score): an
    #: absent target's background peaks are not scored twice. Measured: lost frames as cheap as before
    #: re-centring (10.8-11.3 vs 10.7-10.8 ms), synthetic-lt-640x360 bench 40.3 vs 30.9 FPS without the gate;
    #: AUC synth-lt 57.3 vs 58.1 (held out 60.9 vs 61.6), synth-human and real LT unchanged
    max_candidates: int = 3  #: strongest whole-frame local maxima verified per re-detection scan
    verify_scale_factors: tuple[float, ...] = (0.8, 1.0, 1.25)  #: sample scales (relative to the scan's)
    #: at which a scan candidate is verified; the best scoring one counts
    global_calibration: Literal["memory", "held_out"] = "memory"  #: how global scores are put on the
    #: local model's scale: "memory" = its response to its own training samples (first version);
    #: "held_out" = the median global/local ratio on the confident frames since it was last trained
    global_models: Literal["confidence", "all"] = "confidence"  #: "confidence" = one global model on the confidence
    #: (deep) model, the paper; "all" = one per local model (UPDT: deep and shallow, colour-aware); a verified
    #: candidate passes the global gate when one of them agrees (see LongTermMachine._global_agreement)
    calibration_window: int = 30  #: held-out ratios kept (one per confident frame)
    retrain_global_on_mining: bool = False  #: retrain the global model after each mining round that found
    #: distractors (it then exists from the first frame and is calibrated between losses)
    probation_frames: int = 10  #: after a re-detection, frames during which learning and mining wait and
    #: the target must keep passing the global check; a failed probation returns to the lost state
    probation_pass_ratio: float = 0.5  #: share of probation frames that must pass the global check
    wrong_lock_ratio: float = 0.0  #: at a mining round, a tracked target whose held-out global/local ratio is
    #: below this fraction of the calibrated ratio looks like a known distractor: nothing is mined
    lose_on_wrong_lock: bool = False  #: a confidently tracked frame that every global model rejects as above
    #: (below wrong_lock_ratio) declares the target lost at once: a drift onto a known distractor
    colour_check: Literal["off", "veto", "gate"] = "gate"  #: colour histograms of the target and of the mined
    #: distractors (dcfre.longterm.colour; global mode, colour frames) judge re-detection candidates and probation
    #: frames. "veto": a
    #: candidate nearer a mined distractor's colours than the target's is rejected; "gate": in addition, once
    #: distractors are known, a candidate nearer the target's colours than every distractor's passes without
    #: the global gate (the global filter cannot separate look-alikes of another shade: over 372 lost-state
    #: candidates of synth-human, ROC-AUC 0.57 between true targets and look-alikes; experiments/README.md,
    #: "Third round"). Measured (updt AUC, absent = failure; synth-lt / synth-human / real LT, then held-out
    #: synth-lt / synth-human seed 1 and the nine short-term real): "off" 57.3 / 36.8 / 43.1, 60.9 / 58.7, 63.0;
    #: "veto" 57.8 / 41.0 / 43.1; "gate" 61.5 / 54.8 / 47.8, 63.8 / 63.8, 63.1; 20,000-frame scene: 43.5 % of
    #: the visible frames tracked and 92 of 101 re-detections right, against 12.1 % and 42 of 177
    colour_gate_ratio: float = 1.0  #: "gate": a candidate passes without the global gate when its colour distance
    #: to the target is less than this fraction of its distance to the nearest mined distractor (Hellinger
    #: distances; 1 = nearer the target). 0.7 (traces: returning targets 0.40-0.70, a look-alike at 0.96):
    #: 61.5 / 51.8 / 43.4, held out 63.7 / 63.5, 63.1: fewer wrong locks on synth-human (7.1 vs 12.4 %), but
    #: true returns at 0.70 rejected (synth-human-05, UAV123-10fps_person9)
    freeze_scale_when_low: bool = True  #: a low-confidence frame keeps the previous frame's size (a size estimated on
    #: an occluder or background is not trusted); a declared loss always returns to the last confident frame's size.
    #: Off, OTB100_Soccer follows the player as updt:off does (17.6 -> 54.7: its low frames are many, isolated and at
    #: IoU 0.6-0.9, and a frozen size falls behind) and the nine short-term real sequences reach 67.2 (updt:off 66.7,
    #: none below it by more than 0.01), but occlusion onsets go unnoticed more often (the box adapts to the
    #: occluder): synth-lt / synth-human / real LT 61.5 / 51.2 / 47.0, held out 62.5 / 59.7, against 61.5 / 54.8 /
    #: 47.8, 63.8 / 65.2. Keeping the estimate only on the first low frame of a streak: 65.7 on the nine, held-out
    #: synth-human 63.8. Not in the paper (which says nothing on the scale filter); paper() keeps it on, as every
    #: earlier release did
    defer_scale_when_low: bool = False  #: with freeze_scale_when_low, the size changes estimated on a streak of
    #: low-confidence frames are held back and applied at the first confident frame after it (dropped at a loss):
    #: isolated low frames no longer leave the box behind the target, and the box does not follow an occluder during
    #: a loss onset. Measured (updt AUC, absent = failure; synth-lt / synth-human / real LT / nine short-term,
    #: held-out synth-lt / synth-human): 63.0 / 54.7 / 45.8 / 67.1, 63.2 / 62.9 against the default's 61.5 / 54.8 /
    #: 47.8 / 63.1, 63.8 / 65.2 and freeze_scale_when_low=False's 61.5 / 51.2 / 47.0 / 67.2, 62.5 / 59.7.
    #: OTB100_Soccer 17.6 -> 54.0 and every short-term sequence within 0.004 of updt:off's; but absences noticed
    #: on synth-human 80 -> 70 % (a streak that ends on the occluder hands it the occluder's size) and a drift in
    #: UAV123-10fps_group2_3's crowd. 20,000-frame scene (scripts/long_run.py, seeds 3 / 4 / 5): 14.3 / 1.9 / 12.0 %
    #: of the visible frames tracked against 43.6 / 3.4 / 10.9. The choice for short-term material (not in paper)
    weak_return_frames: int = 5  #: a candidate at the last position that passes tau_min (the bar of a tracked
    #: frame) instead of tau_redetection, and the appearance gate, in this many last-position checks in a row, each
    #: within half a target size of the previous one, is accepted (then on probation); 0: off. The hysteresis of
    #: a loss (n_loss frames below tau_min) applied to a return: a target back where it left but changed scored
    #: 0.60-0.69 x rbar_p for 12 frames in a trace (synth-human-03, seed 1) and was never taken back (not in paper).
    #: Measured (updt AUC, absent = failure; synth-lt / synth-human / real LT / nine short-term, held-out synth-lt /
    #: synth-human): 61.5 / 54.8 / 47.8 / 63.1, 63.8 / 65.2 against 63.8 without (synth-human-03: 316 frames of false
    #: absence -> 8, then 210 wrong-lock frames after a later occlusion that was not noticed); the 20,000-frame scene
    #: unchanged (43.5 % tracked). It fires rarely: only that sequence changed
    confirm_identity_frames: int = 25  #: with the colour check, a re-detected lock is not trusted until the mean colour
    #: margin of this many or more of its frames (d_distractor - d_target, dcfre.longterm.colour.IdentityEvidence)
    #: reaches confirm_identity_ratio times that of the trusted views; until then nothing is mined (on schedule or at its
    #: loss) and the target's colour model does not learn, so a lock on a look-alike cannot store the true target among
    #: the distractors (20,000-frame scene, seed 4: 11 of the first 99 mined distractors lay on the true target, all
    #: mined during two look-alike locks, and the returning target was vetoed from then on). 0: off (not in paper).
    #: Measured with challenge_interval (below), which it needs: alone, the scene at seeds 3 / 4 / 5 gave 7.1 / 13.1 /
    #: 18.6 % tracked against 43.6 / 3.4 / 10.9
    confirm_identity_ratio: float = 0.5  #: the fraction above: a look-alike's lock nearer the target by a hair (mean
    #: margin +0.011 in that trace; the target's own views 0.05-0.12) stays untrusted
    challenge_interval: int = 30  #: global mode: every this many confident tracked frames the lock is questioned: the
    #: whole frame is scanned, and a verified candidate elsewhere whose local and global scores pass tau_redetection,
    #: whose local score is at least challenge_margin times the lock's confidence and whose colours are nearer the
    #: target's than the tracked box's replaces it (a re-detection, probation follows). No colour veto here: around a
    #: wrong lock the target itself may have been mined (with the veto: 7.4 / 13.2 / 66.3 % at seeds 3 / 4 / 5 against
    #: 21.7 / 18.0 / 66.3). 0: off (not in paper). Measured with confirm_identity_frames=25 against both off (updt
    #: global, AUC with absent = failure): synth-lt / synth-human / real LT / nine short-term 61.5 / 54.8 / 47.8 /
    #: 63.1, held-out synth-lt / synth-human 63.1 / 65.2, i.e. every set identical except held-out synth-lt 63.8 ->
    #: 63.1 (one sequence, synth-lt-04: 68.5 -> 54.4); 20,000-frame scene (scripts/long_run.py) at seeds 3 / 4 / 5 /
    #: 6 / 7: 21.7 / 18.0 / 66.3 / 31.1 / 67.7 % of the visible frames tracked (on a wrong object 1.9 / 6.0 / 0.7 /
    #: 0.1 / 0.8 %) against 43.6 / 3.4 / 10.9 / 18.9 / 17.2 (3.8 / 6.8 / 46.7 / 18.1 / 4.1 %)
    challenge_margin: float = 1.2  #: how much stronger (local score over the lock's t_conf) a challenger must be
    colour_hue_bins: int = 72  #: hue bins over 360 degrees (5-degree bins: look-alikes a few degrees apart differ)
    colour_value_bins: int = 8  #: value bins of the achromatic part of the histogram
    colour_value_weight: float = 1.0  #: factor on the achromatic part's weights (1 - chroma); 1: every pixel counts
    #: once, its chroma to its hue and the rest to its value. 0.1 (the hue of colourful pixels decides) was better
    #: on the synthetic suites (62.4 / 57.9 / 43.4, held out 64.2 / 66.5, short-term 63.1) but failed the
    #: 20,000-frame scene of scripts/long_run.py (30 px target: 20.5 % of visible frames tracked and 44 of 107
    #: re-detections right, against 43.5 % and 92 of 101) and UAV123-10fps_person9 (36.0 vs 53.7)
    colour_inner: float = 0.8  #: central fraction of a box (per side) whose pixels are counted
    colour_learning_rate: float = 0.02  #: weight of a confidently learnt view in the target's colour model
    trace: bool = False  #: keep whole-frame score maps, candidates and mined distractors in TrackState.info

    @classmethod
    def verified(cls, **fields) -> "LongTermConfig":
        """Every reliability option of this module on: deferred low scores, learning after recovery,
        verified candidates, held-out calibration, retraining on mining, probation, wrong-lock check."""
        base = dict(defer_low_scores=True, learn_after_recovery=True, verify_candidates=True,
                    global_calibration="held_out", retrain_global_on_mining=True, probation_frames=10,
                    wrong_lock_ratio=0.5)
        base.update(fields)
        return cls(**base)

    @classmethod
    def paper(cls, **fields) -> "LongTermConfig":
        """The paper's section 3 as written: every reliability option above off."""
        base = dict(defer_low_scores=False, learn_after_recovery=False, verify_candidates=False,
                    global_calibration="memory", retrain_global_on_mining=False, probation_frames=0,
                    wrong_lock_ratio=0.0, global_models="confidence", local_check_while_lost=False,
                    recentre_candidates=False, redetection_scales=(1.0,),
                    redetection_scale_iterations=1, colour_check="off", weak_return_frames=0,
                    confirm_identity_frames=0, challenge_interval=0)
        base.update(fields)
        return cls(**base)


# ------------------------------------------------------------------------------------------------
# UPDT fusion (here rather than in dcfre.fusion so that reading a config does not import numba)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FusionConfig:
    """Parameters of the UPDT adaptive fusion of :mod:`dcfre.fusion` (chosen there, see its module docstring)."""

    kappa: float = 0.1  #: 1 / sigma^2 of Delta(tau) = 1 - exp(-kappa/2 |tau|^2), tau in grid cells
    mu: float = 0.15  #: weight of the regularization mu * (b_d^2 + b_s^2), in score units (>= 0)
    n_candidates: int = 5  #: highest local maxima of each map tried as t*
    beta_deep_default: float = 0.6  #: deep weight when not adaptive or degenerate (pytracking)
    adaptive: bool = True  #: False: always use beta_deep_default (ablation)

    @classmethod
    def from_peak_width(cls, sigma_cells: float, **fields) -> "FusionConfig":
        """Config whose Delta has standard deviation ``sigma_cells`` grid cells (kappa = 1/sigma^2)."""
        sigma = float(sigma_cells)
        if not math.isfinite(sigma) or sigma <= 0.0:
            raise InputError(f"sigma_cells must be a positive finite number, got {sigma_cells!r}")
        return cls(kappa=1.0 / sigma**2, **fields)


# ------------------------------------------------------------------------------------------------
# The whole tracker
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackerConfig:
    """A complete tracker: local model(s), scale estimation, fusion and long-term components."""

    name: str = "eco-hc"
    local: ECOConfig = field(default_factory=ECOConfig)  #: shallow (or only) model
    deep: ECOConfig | None = None  #: UPDT's deep model, None for single-model presets
    scale: ScaleConfig | None = field(default_factory=ScaleConfig)  #: None: multi-scale search
    fusion: FusionConfig = field(default_factory=FusionConfig)
    longterm: LongTermConfig = field(default_factory=LongTermConfig)
    blas_threads: int | None = 1  #: BLAS threads inside tracker calls (None: leave the process setting)
    n_search_scales: int = 1  #: scales searched by the translation filter (1 with the scale filter)
    search_scale_step: float = 1.02  #: ratio between those scales


# ------------------------------------------------------------------------------------------------
# Presets
# ------------------------------------------------------------------------------------------------


def _eco_hc() -> TrackerConfig:
    """ECO-HC with ECO's OTB settings: HOG (cell 6 -> 10) + Color Names (cell 4 -> 3), fDSST scale."""
    return TrackerConfig(name="eco-hc", local=ECOConfig(), longterm=LongTermConfig(redetect="off"))


def _eco_deep_settings(features: FeatureConfig, **fields) -> ECOConfig:
    """ECO's settings for deep features (OTB): larger sample, more samples, weaker preconditioning."""
    base = dict(
        features=features, search_area_scale=4.5, min_image_sample_size=200.0**2,
        max_image_sample_size=250.0**2, output_sigma_factor=1.0 / 12, n_samples=50, skip_after_frame=1,
        cg_forgetting_rate=75.0, precond_data_param=0.3, precond_reg_param=0.015, precond_proj_param=35.0,
        projection_reg=5e-8,
    )
    base.update(fields)
    return ECOConfig(**base)


def _eco() -> TrackerConfig:
    """ECO with deep features: one model on CNN (EfficientNet-Lite0 stride 16) + HOG (cell 4) features.

    Scale is estimated with the fDSST filter (ECO-HC's) instead of ECO's 5-scale search: same
    accuracy class at a fifth of the deep-feature cost.
    """
    features = FeatureConfig(hog=HogConfig(cell_size=4, compressed_dim=10), colornames=None, deep=DeepConfig())
    return TrackerConfig(name="eco", local=_eco_deep_settings(features), longterm=LongTermConfig(redetect="off"))


def _updt() -> TrackerConfig:
    """UPDT: a deep model (CNN features, wide label 1/4, augmented first frame) and a shallow model
    (HOG + Color Names, narrow label 1/16, ECO-HC settings), trained independently and fused with
    the adaptive maximum-margin weights. Long-term mode: global re-detection (the paper's method)."""
    deep_features = FeatureConfig(hog=None, colornames=None, deep=DeepConfig())
    deep = _eco_deep_settings(deep_features, output_sigma_factor=1.0 / 4, augment=AugmentationConfig())
    return TrackerConfig(name="updt", local=ECOConfig(), deep=deep, longterm=LongTermConfig(redetect="global"))


def _updt_paper() -> TrackerConfig:
    """UPDT with the long-term layer exactly as the paper's section 3 describes it (no reliability
    options: see :meth:`LongTermConfig.paper`); for reproducing the paper's tables."""
    return replace(_updt(), name="updt-paper", longterm=LongTermConfig.paper(redetect="global"))


#: preset name -> factory of its configuration
PRESETS = {
    "eco-hc": _eco_hc,
    "eco": _eco,
    "updt": _updt,
    "updt-paper": _updt_paper,
}


def preset_names() -> list[str]:
    """Names accepted by :func:`preset` and ``Tracker.from_preset``."""
    return sorted(PRESETS)


def preset(name: str) -> TrackerConfig:
    """The configuration of a named preset."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise InputError(f"unknown preset {name!r}; choose one of {', '.join(preset_names())}") from None


#: short override names -> dotted path inside TrackerConfig
SHORTCUTS = {
    "redetect": "longterm.redetect",
    "learning_rate": "local.learning_rate",
    "search_area_scale": "local.search_area_scale",
    "fft_threads": "local.fft_threads",
}


def apply_overrides(config: TrackerConfig, **overrides: Any) -> TrackerConfig:
    """Return ``config`` with fields replaced; keys are dotted paths or :data:`SHORTCUTS`.

    ``apply_overrides(cfg, redetect="local")`` and
    ``apply_overrides(cfg, **{"local.n_samples": 10})`` are both valid. Unknown names raise
    :class:`~dcfre.errors.InputError` listing the valid fields.
    """
    for key, value in overrides.items():
        path = SHORTCUTS.get(key, key).split(".")
        config = _replace_path(config, path, value, key)
    return config


def _replace_path(obj: Any, path: list[str], value: Any, key: str) -> Any:
    if not dataclasses.is_dataclass(obj):
        raise InputError(f"override {key!r}: {type(obj).__name__} has no field {path[0]!r}")
    names = {f.name for f in dataclasses.fields(obj)}
    head = path[0]
    if head not in names:
        raise InputError(
            f"unknown override {key!r}: {type(obj).__name__} has fields {', '.join(sorted(names))}"
        )
    if len(path) == 1:
        if head == "redetect" and value not in ("off", "local", "global"):
            raise InputError(f"redetect must be off, local or global, got {value!r}")
        return replace(obj, **{head: value})
    return replace(obj, **{head: _replace_path(getattr(obj, head), path[1:], value, key)})
