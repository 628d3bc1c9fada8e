"""Re-detection (paper section 3.3): find the lost target in the whole frame with both models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dcfre.longterm.full_image import FrameScores


@dataclass(frozen=True)
class Redetection:
    """Outcome of one re-detection attempt.

    Attributes
    ----------
    position : (2,) ndarray or None
        Re-detected target centre (y, x) in image pixels; None when no location qualifies.
    local_confidence, global_confidence : float
        Scores at that location (or the best location) relative to ``rbar_p``.
    """

    position: np.ndarray | None
    local_confidence: float
    global_confidence: float

    @property
    def found(self) -> bool:
        return self.position is not None


def choose_candidate(local: FrameScores, global_: FrameScores | None, reference_score: float,
                     tau_redetection: float, global_scale: float = 1.0) -> Redetection:
    """Candidates: cells where the local (and, if given, the global) score exceeds
    ``reference_score * tau_redetection``; the re-detected target is the candidate with the highest
    local score. Without any candidate the target is considered not visible.

    ``global_scale`` is the global model's response to the target relative to the local model's
    (:attr:`GlobalModel.scale_ratio`); global scores are divided by it before the comparison.
    """
    threshold = reference_score * tau_redetection
    local_values = local.values
    qualifies = local_values >= threshold
    if global_ is not None:
        global_values = global_.values / global_scale
        qualifies &= global_values >= threshold
        weakest = np.minimum(local_values, global_values)
    else:
        global_values = None
        weakest = local_values
    if not qualifies.any():
        best = np.unravel_index(int(np.argmax(weakest)), weakest.shape)
        return Redetection(None, float(local_values[best]) / reference_score,
                           float(weakest[best]) / reference_score)
    masked = np.where(qualifies, local_values, -np.inf)
    best = np.unravel_index(int(np.argmax(masked)), masked.shape)
    glob = float(global_values[best]) if global_values is not None else float(local_values[best])
    return Redetection(local.position(best), float(local_values[best]) / reference_score, glob / reference_score)
