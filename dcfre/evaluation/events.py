"""Long-term events: does the tracker notice a disappearance, find the target again, avoid look-alikes?

Definitions (fixed in the project's design notes, section "Long-term events"; thresholds in
:class:`EventThresholds`). Frame 1 (index 0, the initialization) is excluded from every count.
A frame is *visible* when its ground-truth box is non-empty (:func:`metrics.box_is_empty`), else
*absent*. ``present`` is the tracker's flag; IoU is :func:`metrics.iou` of the reported box,
0 where exactly one box is empty.

Absence episode
    A maximal run of at least ``min_absence`` (5) consecutive absent frames. It is *noticed*
    when the tracker reports ``present = 0`` in at least ``notice_share`` (half) of its frames.
Recovery
    For an episode followed by a visible frame (the *return*; an episode that lasts until the
    end of the sequence is not counted), the *latency* is the number of frames from the return
    until the first frame reported present with IoU >= ``recovery_iou`` (0.3): 0 when found on
    the return frame itself. The episode is *recovered* when the latency is at most
    ``recovery_window`` (50) frames; a target not found before the sequence ends is not
    recovered. The median latency is taken over the recovered episodes.
Re-detection
    A frame ``t >= 1`` with ``present[t - 1] = 0`` and ``present[t] = 1``. It is *correct* when
    the target is visible and IoU >= ``correct_iou`` (0.3), *false* when the target is absent or
    IoU < ``false_iou`` (0.1); in between it is neither. Precision = correct / all re-detections.
Frame rates, over the visible frames
    *false absence*: reported absent; *wrong lock*: reported present with IoU 0 (on something
    else); *tracked*: reported present with IoU >= ``tracked_iou`` (0.5).

Counts are additive: a suite's events are the sums of its sequences' counts
(:func:`suite_events`), and every share is computed from the summed counts (an episode-weighted
or frame-weighted mean, not a mean of per-sequence shares). A share whose denominator is 0 (no
episode, no return, no re-detection, no visible frame) is NaN, printed as ``—``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Iterable

import numpy as np

from dcfre.errors import InputError
from dcfre.evaluation import metrics

#: Printed for a share that is undefined (no episode, no re-detection...).
UNDEFINED_TEXT = "—"


@dataclass(frozen=True)
class EventThresholds:
    """Thresholds of the long-term event definitions (module docstring); defaults are the design's.

    Attributes
    ----------
    min_absence : int
        Minimum length of an absence episode, frames (5).
    notice_share : float
        Share of an episode's frames that must be reported absent for it to be noticed (0.5).
    recovery_iou : float
        IoU at which a returned target counts as found again (0.3).
    recovery_window : int
        Maximum latency of a recovered episode, frames after the return (50).
    correct_iou : float
        Minimum IoU of a correct re-detection (0.3).
    false_iou : float
        IoU below which a re-detection on a visible target is false (0.1).
    tracked_iou : float
        Minimum IoU of a tracked frame (0.5).
    """

    min_absence: int = 5
    notice_share: float = 0.5
    recovery_iou: float = 0.3
    recovery_window: int = 50
    correct_iou: float = 0.3
    false_iou: float = 0.1
    tracked_iou: float = 0.5

    def __post_init__(self):
        if self.min_absence < 1:
            raise InputError(f"min_absence must be >= 1 frame, got {self.min_absence}")
        if self.recovery_window < 0:
            raise InputError(f"recovery_window must be >= 0 frames, got {self.recovery_window}")
        for name in ("notice_share", "recovery_iou", "correct_iou", "false_iou", "tracked_iou"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InputError(f"{name} must be in [0, 1], got {value}")
        if self.false_iou > self.correct_iou:
            raise InputError(f"false_iou ({self.false_iou}) must not exceed correct_iou ({self.correct_iou})")


#: The design's thresholds.
DEFAULT_THRESHOLDS = EventThresholds()


@dataclass(frozen=True)
class LongTermEvents:
    """Event counts of one sequence or a sum over sequences (definitions in the module docstring).

    Attributes
    ----------
    episodes : int
        Absence episodes.
    noticed : int
        Episodes the tracker noticed.
    returns : int
        Episodes followed by a return of the target (counted for recovery).
    recovered : int
        Returns found again within the recovery window.
    latencies : tuple of int
        Latency of each recovered return, frames.
    redetections, correct_redetections, false_redetections : int
        Present 0 -> 1 transitions, and those that are correct / false.
    visible_frames : int
        Frames with a visible target (frame 1 excluded).
    false_absence_frames, wrong_lock_frames, tracked_frames : int
        Visible frames reported absent / present with IoU 0 / present with IoU >= ``tracked_iou``.
    """

    episodes: int = 0
    noticed: int = 0
    returns: int = 0
    recovered: int = 0
    latencies: tuple[int, ...] = ()
    redetections: int = 0
    correct_redetections: int = 0
    false_redetections: int = 0
    visible_frames: int = 0
    false_absence_frames: int = 0
    wrong_lock_frames: int = 0
    tracked_frames: int = 0

    def __add__(self, other: "LongTermEvents") -> "LongTermEvents":
        if not isinstance(other, LongTermEvents):
            return NotImplemented
        return LongTermEvents(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @property
    def noticed_share(self) -> float:
        """Noticed / episodes (NaN without episodes)."""
        return _share(self.noticed, self.episodes)

    @property
    def recovered_share(self) -> float:
        """Recovered / returns (NaN without returns)."""
        return _share(self.recovered, self.returns)

    @property
    def median_latency(self) -> float:
        """Median latency of the recovered returns, frames (NaN if none)."""
        return float(np.median(self.latencies)) if self.latencies else math.nan

    @property
    def redetection_precision(self) -> float:
        """Correct / all re-detections (NaN without re-detections)."""
        return _share(self.correct_redetections, self.redetections)

    @property
    def false_absence(self) -> float:
        """Share of visible frames reported absent."""
        return _share(self.false_absence_frames, self.visible_frames)

    @property
    def wrong_lock(self) -> float:
        """Share of visible frames reported present with IoU 0."""
        return _share(self.wrong_lock_frames, self.visible_frames)

    @property
    def tracked(self) -> float:
        """Share of visible frames reported present with IoU >= ``tracked_iou``."""
        return _share(self.tracked_frames, self.visible_frames)

    def to_dict(self) -> dict:
        """JSON-ready counts and shares (fractions; NaN as None; latencies omitted)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "latencies"}
        for name in RATE_NAMES:
            value = getattr(self, name)
            out[name] = value if math.isfinite(value) else None
        return out


#: Derived shares of :class:`LongTermEvents`, in report order (median latency is in frames).
RATE_NAMES = ("noticed_share", "recovered_share", "median_latency", "redetection_precision", "false_absence",
              "wrong_lock", "tracked")


def _share(count: int, total: int) -> float:
    return count / total if total > 0 else math.nan


def absence_episodes(absent, min_length: int = DEFAULT_THRESHOLDS.min_absence) -> list[tuple[int, int]]:
    """Maximal runs of at least ``min_length`` True values.

    Parameters
    ----------
    absent : array_like of bool, shape (N,)
    min_length : int

    Returns
    -------
    list of (start, stop)
        Half-open frame ranges ``[start, stop)``, in order.
    """
    flags = np.asarray(absent, dtype=bool).reshape(-1)
    edges = np.diff(np.concatenate([[False], flags, [False]]).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops) if b - a >= min_length]


def _next_true(flags: np.ndarray) -> np.ndarray:
    """For each index, the first index >= it where ``flags`` is True (``len(flags)`` if none)."""
    n = flags.shape[0]
    index = np.where(flags, np.arange(n), n)
    return np.minimum.accumulate(index[::-1])[::-1] if n else index


def _inputs(pred, present, gt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = metrics.as_boxes(pred, "pred")
    g = metrics.as_boxes(gt, "gt")
    flags = np.asarray(present).reshape(-1)
    if p.shape[0] != g.shape[0] or flags.shape[0] != p.shape[0]:
        raise InputError(
            f"pred, present and gt must have the same number of frames, got {p.shape[0]}, {flags.shape[0]} "
            f"and {g.shape[0]}"
        )
    if flags.dtype != bool:
        try:
            flags = flags.astype(np.float64)
        except (TypeError, ValueError):
            raise InputError("present must hold 0/1 (or booleans) only") from None
        if not np.isin(flags, (0.0, 1.0)).all():
            raise InputError("present must hold 0/1 (or booleans) only")
        flags = flags.astype(bool)
    return p, flags, g


def sequence_events(pred, present, gt, thresholds: EventThresholds = DEFAULT_THRESHOLDS) -> LongTermEvents:
    """Long-term events of one tracker on one sequence.

    Parameters
    ----------
    pred : array_like, shape (N, 4)
        Reported boxes ``x, y, w, h``, pixels.
    present : array_like of bool or 0/1, shape (N,)
        The tracker's present flags.
    gt : array_like, shape (N, 4)
        Ground truth; NaN (empty) rows where the target is absent.
    thresholds : EventThresholds

    Returns
    -------
    LongTermEvents
        Zero counts (NaN shares) for a sequence of at most one frame.
    """
    p, flags, g = _inputs(pred, present, gt)
    overlaps = np.nan_to_num(metrics.iou(p, g), nan=0.0)[1:]  # NaN = both empty: no overlap with the target
    visible = ~metrics.box_is_empty(g)[1:]
    shown = flags[1:]
    # the transition into frame t compares with frame t - 1, which may be the initialization frame
    rises = shown & ~flags[:-1]

    episodes = absence_episodes(~visible, thresholds.min_absence)
    noticed = sum((~shown[a:b]).sum() >= thresholds.notice_share * (b - a) for a, b in episodes)
    frames = visible.shape[0]
    found_at = _next_true(shown & visible & (overlaps >= thresholds.recovery_iou))
    returns = [b for _, b in episodes if b < frames]  # an episode lasting to the end has no return
    # never found before the end of the sequence: not recovered, whatever the window
    recovered = [int(found_at[b] - b) for b in returns
                 if found_at[b] < frames and found_at[b] - b <= thresholds.recovery_window]

    correct = rises & visible & (overlaps >= thresholds.correct_iou)
    false = rises & (~visible | (overlaps < thresholds.false_iou))
    return LongTermEvents(
        episodes=len(episodes),
        noticed=int(noticed),
        returns=len(returns),
        recovered=len(recovered),
        latencies=tuple(recovered),
        redetections=int(rises.sum()),
        correct_redetections=int(correct.sum()),
        false_redetections=int(false.sum()),
        visible_frames=int(visible.sum()),
        false_absence_frames=int((visible & ~shown).sum()),
        wrong_lock_frames=int((visible & shown & (overlaps == 0.0)).sum()),
        tracked_frames=int((visible & shown & (overlaps >= thresholds.tracked_iou)).sum()),
    )


def suite_events(sequences: Iterable, thresholds: EventThresholds = DEFAULT_THRESHOLDS) -> LongTermEvents:
    """Events summed over sequences.

    Parameters
    ----------
    sequences : iterable of tuple
        ``(pred, present, gt)`` per sequence, shapes as in :func:`sequence_events`.
    thresholds : EventThresholds

    Returns
    -------
    LongTermEvents
        The sum of the per-sequence counts (all zero for no sequence).
    """
    total = LongTermEvents()
    for pred, present, gt in sequences:
        total = total + sequence_events(pred, present, gt, thresholds)
    return total


def definitions_text(thresholds: EventThresholds = DEFAULT_THRESHOLDS) -> str:
    """One paragraph stating the event definitions with ``thresholds``' values, for reports."""
    t = thresholds
    return (
        f"Long-term events (frame 1 excluded; counts summed over sequences): an absence episode is a run of at "
        f"least {t.min_absence} absent frames, noticed when reported absent in at least {100 * t.notice_share:g} % "
        f"of it; recovered = reported present with IoU >= {t.recovery_iou:g} within {t.recovery_window} frames of "
        f"the return (median latency over the recovered ones; an episode lasting to the end is not counted); a "
        f"re-detection is a present 0 -> 1 transition, correct with IoU >= {t.correct_iou:g}, false on an absent "
        f"target or with IoU < {t.false_iou:g}; false absence (reported absent), wrong lock (reported present, "
        f"IoU 0) and tracked (reported present, IoU >= {t.tracked_iou:g}) are shares of the visible frames. "
        f"{UNDEFINED_TEXT} = undefined (no episode, return or re-detection)."
    )


def format_share(value: float) -> str:
    """A share in percent with one decimal, :data:`UNDEFINED_TEXT` when undefined."""
    return UNDEFINED_TEXT if value is None or not math.isfinite(value) else f"{100.0 * value:.1f}"


def format_latency(value: float) -> str:
    """A latency in frames (one decimal: a median of an even count can be a half), or ``—``."""
    return UNDEFINED_TEXT if value is None or not math.isfinite(value) else f"{value:.1f}"


#: Column headers of :func:`event_cells`, in order (the recovery window is the default's).
EVENT_HEADERS = ("Absences noticed (%)", f"Recovered ≤{DEFAULT_THRESHOLDS.recovery_window} fr (%)",
                 "Median latency (fr)", "Re-det. precision (%)",
                 "Re-det. correct / false / all", "False absence (%)", "Wrong lock (%)", "Tracked (%)")


def event_cells(events: LongTermEvents) -> list[str]:
    """Table cells of one row, matching :data:`EVENT_HEADERS` (counts beside the shares they come from)."""
    return [
        f"{format_share(events.noticed_share)} ({events.noticed}/{events.episodes})",
        f"{format_share(events.recovered_share)} ({events.recovered}/{events.returns})",
        format_latency(events.median_latency),
        format_share(events.redetection_precision),
        f"{events.correct_redetections} / {events.false_redetections} / {events.redetections}",
        format_share(events.false_absence),
        format_share(events.wrong_lock),
        format_share(events.tracked),
    ]
