"""Normalized tracking confidence and target-loss detection (paper section 3.1, eq. 4)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ConfidenceMonitor:
    """Tracks ``t_conf = r_p / rbar_p`` and declares the target lost.

    ``rbar_p`` is the running average ``eta * r_p + (1 - eta) * rbar_p`` of the score maximum and
    ``t_conf`` divides by the updated average, as eq. (4) is written: a gradual decline of the score
    (appearance change) is absorbed, a sudden drop (occlusion, out of view) is not. With
    ``update_on_low=False`` the average only absorbs frames above ``tau_min`` relative to it.
    While the target is lost the tracker stops calling :meth:`observe`, so the average is frozen.

    Parameters
    ----------
    eta : float
        Learning rate of the running average (paper: 0.05).
    tau_min : float
        Minimum confidence to update models and mine (paper: 0.6).
    n_loss : int
        Consecutive low-confidence frames after which the target is declared lost.
    """

    eta: float
    tau_min: float
    n_loss: int
    update_on_low: bool = True  #: eq. 4 as written: the average absorbs every tracked frame
    average: float | None = None  #: rbar_p, None before the first score
    low_streak: int = 0  #: consecutive frames below tau_min

    def observe(self, peak_score: float) -> float:
        """Record the score maximum ``r_p`` of a frame; returns its normalized confidence."""
        if self.average is None or self.average <= 0:
            self.average = max(float(peak_score), 1e-12)
            self.low_streak = 0
            return 1.0
        if self.update_on_low or float(peak_score) >= self.tau_min * self.average:
            self.average = self.eta * float(peak_score) + (1 - self.eta) * self.average
        confidence = float(peak_score) / self.average
        if confidence >= self.tau_min:
            self.low_streak = 0
        else:
            self.low_streak += 1
        return confidence

    def normalize(self, score: float) -> float:
        """A score relative to the running average (without recording it)."""
        return float(score) / self.average if self.average else 0.0

    @property
    def lost(self) -> bool:
        """True once ``n_loss`` consecutive frames were below ``tau_min``."""
        return self.low_streak >= self.n_loss

    def reset_streak(self) -> None:
        """Forget the low-confidence streak (after a re-detection)."""
        self.low_streak = 0
