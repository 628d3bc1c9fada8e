"""Normalized tracking confidence and target-loss detection (paper section 3.1, eq. 4)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ConfidenceMonitor:
    """Tracks ``t_conf = r_p / rbar_p`` and declares the target lost.

    ``rbar_p`` is the running average ``eta * r_p + (1 - eta) * rbar_p`` of the score maximum and
    ``t_conf`` divides by the updated average, as eq. (4) is written: a gradual decline of the score
    (appearance change) is absorbed, a sudden drop (occlusion, out of view) is not.

    With ``defer_low`` a frame below ``tau_min`` is not absorbed at once: it waits in
    :attr:`pending` until confidence returns (then the waiting scores enter the average in frame
    order, so eq. 4 is applied to every tracked frame, only later) or until the target is declared
    lost (then they are dropped, :meth:`drop_pending`). The ``n_loss`` frames of a loss onset thus
    never lower the thresholds that later decisions read. :meth:`hold` defers every score (used
    while a re-detection is on probation). While the target is lost the tracker stops calling
    :meth:`observe`, so the average is frozen.

    Parameters
    ----------
    eta : float
        Learning rate of the running average (paper: 0.05).
    tau_min : float
        Minimum confidence to update models and mine (paper: 0.6).
    n_loss : int
        Consecutive low-confidence frames after which the target is declared lost.
    defer_low : bool
        Defer low scores as described above (False: eq. 4 applied at once, the paper).
    """

    eta: float
    tau_min: float
    n_loss: int
    defer_low: bool = False
    average: float | None = None  #: rbar_p, None before the first score
    low_streak: int = 0  #: consecutive frames below tau_min
    pending: list = field(default_factory=list)  #: scores not yet absorbed into the average
    holding: bool = False  #: defer every score (probation)

    def observe(self, peak_score: float) -> float:
        """Record the score maximum ``r_p`` of a frame; returns its normalized confidence."""
        score = float(peak_score)
        if self.average is None or self.average <= 0:
            self.average = max(score, 1e-12)
            self.low_streak = 0
            return 1.0
        provisional = self.eta * score + (1 - self.eta) * self.average
        confidence = score / provisional
        low = confidence < self.tau_min
        self.low_streak = self.low_streak + 1 if low else 0
        if self.holding or (low and self.defer_low):
            self.pending.append(score)
        else:
            self.commit_pending()
            self.average = self._absorb(score)  # = provisional when nothing was pending
        return confidence

    def _absorb(self, score: float) -> float:
        return self.eta * score + (1 - self.eta) * self.average

    def commit_pending(self) -> None:
        """Absorb the deferred scores into the average, in frame order."""
        for score in self.pending:
            self.average = self._absorb(score)
        self.pending = []

    def drop_pending(self) -> None:
        """Forget the deferred scores (they belonged to a loss onset or a failed probation)."""
        self.pending = []

    def hold(self, on: bool) -> None:
        """Defer every score from now on (``True``) or return to normal (``False``)."""
        self.holding = bool(on)

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
