"""Hard-negative mining (paper section 3.2): background regions the local model mistakes for the target."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dcfre.longterm.full_image import FrameScores, local_maxima


@dataclass(frozen=True)
class Distractor:
    """A background region scored like the target.

    Attributes
    ----------
    position : (2,) ndarray
        Centre (y, x) in image pixels.
    confidence : float
        Local-model score there, relative to the running target score ``rbar_p``.
    frame_number : int
        Frame it was mined in.
    """

    position: np.ndarray
    confidence: float
    frame_number: int


def mine_hard_negatives(
    scores: FrameScores,
    target_position: np.ndarray,
    target_size: np.ndarray,
    reference_score: float,
    tau_hn: float,
    max_count: int,
    frame_number: int,
) -> list[Distractor]:
    """Local maxima of the local model's whole-frame score that are not the target.

    A maximum is a distractor when its score is above ``tau_hn * reference_score`` (paper:
    ``t_conf > tau_hn``) and its centre lies outside the target box enlarged to twice its size
    (the target's own peak and its shoulders are never mined). Maxima are separated by at least
    half the target size.

    Parameters
    ----------
    scores : FrameScores
        Whole-frame scores of the local model.
    target_position, target_size : (2,) arrays
        Target centre (y, x) and size (h, w) in image pixels.
    reference_score : float
        ``rbar_p``, the running average of the target's score maximum.
    """
    radius = np.maximum(np.asarray(target_size) / (2 * scores.step), 1).astype(int)
    maxima = local_maxima(scores.values, tuple(radius), tau_hn * reference_score, limit=4 * max_count + 4)
    out = []
    for index, value in maxima:
        position = scores.position(index)
        if np.all(np.abs(position - target_position) < np.asarray(target_size)):
            continue  # the target itself
        out.append(Distractor(position, value / reference_score, frame_number))
        if len(out) == max_count:
            break
    return out
