"""What the tracker reports for one frame: :class:`TrackState` and the documented keys of its ``info``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: modes of :attr:`TrackState.mode`
TRACKING, LOST, REDETECTED = "tracking", "lost", "redetected"

#: Keys of :attr:`TrackState.info`. The first group is always present (every preset and mode);
#: the ``trace`` group only with ``LongTermConfig.trace = True``.
INFO_KEYS = {
    # always
    "state": "long-term state after this frame: 'tracking', 'lost' or 'probation' (a re-detected target "
             "not yet trusted: no learning or mining until it passes, see LongTermConfig.probation_frames)",
    "r_p": "score maximum of the confidence model (the deep model in UPDT) on the windowed sample at the "
           "reported box (NaN when nothing was scored this frame)",
    "rbar_p": "running average of r_p (eq. 4) after this frame; every long-term threshold is relative to it",
    "events": "list of what happened this frame, from EVENTS",
    # on re-detection frames (scan or last-position check)
    "local_confidence": "best candidate's local score / rbar_p (verified on a windowed sample when "
                        "LongTermConfig.verify_candidates)",
    "global_confidence": "that candidate's calibrated global score / rbar_p (local score without a global model)",
    # trace only
    "scan": "whole-frame scan: dict(scale, origin (y, x) px, step px, local (H, W) array, global (H, W) array "
            "or None); scores are raw (divide by rbar_p for the threshold domain)",
    "candidates": "list of dict(box, scan_local, scan_global, local, global, accepted, colour_target, "
                  "colour_distractor) for the candidates examined this frame; scores relative to rbar_p; "
                  "colour_*: Bhattacharyya coefficients with the target's and the nearest mined distractor's "
                  "colour histograms (None without LongTermConfig.colour_check or below the local threshold: "
                  "tau_redetection, tau_min at the last-position check with weak_return_frames)",
    "distractors": "list of mined distractor boxes (x, y, w, h) this frame",
    "global_calibration": "factor dividing global scores before they are compared with rbar_p thresholds",
}

#: Event names that can appear in ``info["events"]``.
EVENTS = {
    "low_confidence": "t_conf < tau_min: no learning, no mining this frame",
    "loss_declared": "N_loss consecutive low frames: the target is lost, re-detection starts",
    "mining": "hard-negative mining round (paper 3.2)",
    "mining_skipped": "mining round skipped: the tracked target looks like a known distractor to the global model",
    "wrong_lock_suspected": "the tracked object looks like a known distractor to every global model: declared lost "
                            "(LongTermConfig.lose_on_wrong_lock)",
    "mining_deferred": "mining round deferred: the lock is not trusted as the target yet "
                       "(LongTermConfig.confirm_identity_frames)",
    "identity_confirmed": "a re-detected lock's colour evidence says it is the target: mining and colour learning "
                          "resume (LongTermConfig.confirm_identity_frames)",
    "lock_challenged": "the whole frame was scanned for an object more like the target than the lock "
                       "(LongTermConfig.challenge_interval)",
    "challenger_accepted": "a challenger beat the lock and replaced it (a re-detection, on probation)",
    "global_trained": "the global model was (re)trained",
    "last_position_check": "the last known position was scored while lost",
    "scan": "whole-frame re-detection scan (paper 3.3)",
    "redetection_accepted": "a candidate passed the re-detection thresholds",
    "redetection_rejected": "no candidate passed",
    "weak_return_accepted": "a candidate at the last position passed tau_min and the appearance gate in "
                            "LongTermConfig.weak_return_frames checks in a row: accepted (on probation)",
    "probation_passed": "the re-detected target passed its probation: learning and mining resume",
    "probation_failed": "the re-detected target failed its probation: back to the lost state",
    "learnt_deferred": "samples of a low-confidence streak that ended without a loss were learnt",
}


@dataclass
class TrackState:
    """Tracker output for one frame.

    Attributes
    ----------
    box : ndarray (4,)
        ``x, y, w, h`` of the target (the last known box while the target is lost).
    confidence : float
        Normalized tracking confidence: the confidence model's score maximum on a windowed sample
        at the reported box, divided by ``rbar_p`` (about 1 when tracking well, 1 on the first frame,
        low when the target is lost or absent). Lost frames report the best score of what was
        examined (last position, verified candidates), on the same scale; 0 when nothing was scored.
    present : bool
        Whether the tracker believes the target is visible in this frame.
    mode : str
        ``"tracking"``, ``"lost"`` or ``"redetected"`` (the frame of a re-detection).
    score_map : ndarray (H, W) or None
        Score of the local model over the search sample, centred (``fftshift``-ed: the middle
        element is the sample centre), for visualization.
    frame_number : int
        1-based index of the frame.
    info : dict
        Decision details; keys documented in :data:`INFO_KEYS`, events in :data:`EVENTS`.
    """

    box: np.ndarray
    confidence: float
    present: bool = True
    mode: str = TRACKING
    score_map: np.ndarray | None = None
    frame_number: int = 1
    info: dict = field(default_factory=dict)
