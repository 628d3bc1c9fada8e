"""Scores and reports from a results folder: AUC, DP@20, FPS, long-term Pr/Re/F, events, attributes.

Conventions (stated in every report):

- Per sequence: success and precision curves under the chosen absent-frame policy
  (:mod:`dcfre.evaluation.metrics`), AUC = mean of the success curve, DP@20 = precision at
  20 px, FPS = frames / tracker seconds.
- Per tracker: **AUC and DP@20 are means over sequences of the per-sequence values** (the
  OTB/UAV123 convention; equal to the AUC of the mean success curve). Sequences with no frame
  left to score (every frame absent under ``'exclude'``) are left out of these means.
  FPS = total frames / total tracker seconds. Long-term Pr, Re and F-score use every frame of
  every sequence (LTB35 protocol, thresholds shared by the sequences of one tracker).
- Long-term events (:mod:`dcfre.evaluation.events`: absences noticed, recovery within 50 frames
  and median latency, re-detection precision, false absence, wrong lock, tracked) are counted
  per sequence and summed over sequences; every share comes from the summed counts. They do
  not depend on the absent-frame policy.
- Attribute breakdown: the same means over the sequences that have the attribute flag set.

Outputs: ``OUT/summary.md`` (Markdown tables), ``OUT/summary.csv`` (one row per tracker) and
``OUT/summary.json``::

    {"policy": "exclude"|"failure",
     "trackers": {NAME: {"auc", "dp20", "fps", "f_score", "precision", "recall",
                         "frames", "seconds", "success_curve", "precision_curve",
                         "events": EVENTS,
                         "attributes": {ATTR: {"n", "auc", "dp20"}},
                         "sequences": {SEQ: {"auc", "dp20", "fps", "frames", "seconds", "events": EVENTS}}}},
     "attributes": {ATTR: number of sequences}, ...}

with AUC, DP@20, Pr, Re and F as fractions in [0, 1] and NaN written as null. ``EVENTS`` is
:meth:`dcfre.evaluation.events.LongTermEvents.to_dict`: the counts (``episodes``, ``noticed``,
``returns``, ``recovered``, ``redetections``, ``correct_redetections``, ``false_redetections``,
``visible_frames``, ``false_absence_frames``, ``wrong_lock_frames``, ``tracked_frames``) and the
shares (``noticed_share``, ``recovered_share``, ``redetection_precision``, ``false_absence``,
``wrong_lock``, ``tracked``: fractions) with ``median_latency`` in frames; null when undefined.
``summary.csv`` has the same counts and shares after the ``policy`` column.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dcfre.errors import AnnotationError, InputError
from dcfre.evaluation import events as lt_events
from dcfre.evaluation import metrics
from dcfre.evaluation.runner import SequenceResult, TIME_SUFFIX, load_result
from dcfre.evaluation.trackers import tracker_name_from_dir

#: Short descriptions of the policies, printed with every report.
POLICY_TEXT = {
    "exclude": "frames whose ground truth is empty (target absent) are dropped from AUC and DP@20",
    "failure": "frames whose ground truth is empty (target absent) count as failures in AUC and DP@20",
}


@dataclass
class SequenceScores:
    """Scores of one tracker on one sequence (curves on the metrics' thresholds) and its long-term events."""

    name: str
    frames: int
    seconds: float
    auc: float
    dp20: float
    success: np.ndarray
    precision: np.ndarray
    events: lt_events.LongTermEvents = field(default_factory=lt_events.LongTermEvents)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else math.inf


@dataclass
class AttributeScores:
    """Means over the sequences flagged with one attribute."""

    n: int
    auc: float
    dp20: float
    success: np.ndarray
    precision: np.ndarray


@dataclass
class TrackerSummary:
    """All scores of one tracker."""

    name: str
    sequences: dict[str, SequenceScores]
    auc: float
    dp20: float
    fps: float
    frames: int
    seconds: float
    success: np.ndarray
    precision: np.ndarray
    longterm: metrics.LongTermScores
    attributes: dict[str, AttributeScores] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    events: lt_events.LongTermEvents = field(default_factory=lt_events.LongTermEvents)


@dataclass
class Summary:
    """Scores of every tracker on one set of sequences under one absent-frame policy."""

    policy: str
    trackers: dict[str, TrackerSummary]
    attribute_counts: dict[str, int]
    sequence_count: int
    absent_frames: int

    def ranked(self) -> list[TrackerSummary]:
        """Trackers sorted by AUC, best first (NaN last)."""
        return sorted(self.trackers.values(), key=lambda t: -_finite_or(t.auc, -1.0))

    def to_dict(self) -> dict:
        """JSON-ready dictionary (shape in the module docstring)."""
        return {
            "policy": self.policy,
            "policy_description": POLICY_TEXT[self.policy],
            "auc_convention": "mean over sequences of per-sequence AUC",
            "sequence_count": self.sequence_count,
            "absent_frames": self.absent_frames,
            "attributes": dict(self.attribute_counts),
            "trackers": {t.name: _tracker_dict(t) for t in self.ranked()},
        }


def _finite_or(value: float, default: float) -> float:
    return value if value is not None and np.isfinite(value) else default


def _num(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _tracker_dict(t: TrackerSummary) -> dict:
    lt = t.longterm
    return {
        "auc": _num(t.auc),
        "dp20": _num(t.dp20),
        "fps": _num(t.fps),
        "f_score": _num(lt.f_score),
        "precision": _num(lt.precision_at_best),
        "recall": _num(lt.recall_at_best),
        "frames": t.frames,
        "seconds": _num(t.seconds),
        "success_curve": [_num(v) for v in t.success],
        "precision_curve": [_num(v) for v in t.precision],
        "longterm_curve": {
            "precision": [_num(v) for v in lt.precision],
            "recall": [_num(v) for v in lt.recall],
            "f": [_num(v) for v in lt.f],
        },
        "events": t.events.to_dict(),
        "attributes": {a: {"n": s.n, "auc": _num(s.auc), "dp20": _num(s.dp20)} for a, s in t.attributes.items()},
        "missing": list(t.missing),
        "sequences": {
            s.name: {"auc": _num(s.auc), "dp20": _num(s.dp20), "fps": _num(s.fps), "frames": s.frames,
                     "seconds": _num(s.seconds), "events": s.events.to_dict()}
            for s in t.sequences.values()
        },
    }


# ---------------------------------------------------------------------------------------------
# Scoring


def _groundtruth_for(sequence, frames: int) -> np.ndarray:
    gt = np.asarray(sequence.groundtruth, dtype=np.float64)
    if frames > len(gt):
        raise AnnotationError(f"sequence {sequence.name!r}: {frames} result rows but only {len(gt)} ground-truth rows")
    return gt[:frames]


def score_sequence(sequence, result: SequenceResult, policy: str) -> SequenceScores:
    """Scores and events of one result against ``sequence.groundtruth`` (first rows if truncated)."""
    gt = _groundtruth_for(sequence, len(result.boxes))
    success = metrics.success_curve(result.boxes, gt, policy)
    precision = metrics.precision_curve(result.boxes, gt, policy)
    return SequenceScores(
        name=sequence.name,
        frames=len(result.boxes),
        seconds=float(result.seconds),
        auc=metrics.auc(success),
        dp20=metrics.precision_at(precision),
        success=success,
        precision=precision,
        events=lt_events.sequence_events(result.boxes, result.present, gt),
    )


def _mean_curve(curves: list[np.ndarray], size: int) -> np.ndarray:
    finite = [c for c in curves if np.isfinite(c).all()]
    return np.mean(finite, axis=0) if finite else np.full(size, np.nan)


def _attribute_scores(scores: list[SequenceScores]) -> AttributeScores:
    success = _mean_curve([s.success for s in scores], len(metrics.SUCCESS_THRESHOLDS))
    precision = _mean_curve([s.precision for s in scores], len(metrics.PRECISION_THRESHOLDS))
    return AttributeScores(
        n=len(scores),
        auc=metrics.auc(success),
        dp20=metrics.precision_at(precision),
        success=success,
        precision=precision,
    )


def summarize_tracker(name: str, sequences, results: dict, policy: str) -> TrackerSummary:
    """Scores of one tracker from ``results[sequence name] -> SequenceResult``."""
    available = [s for s in sequences if s.name in results]
    missing = [s.name for s in sequences if s.name not in results]
    if not available:
        raise InputError(f"tracker {name!r} has no results on any of the {len(sequences)} sequences")
    scores = {s.name: score_sequence(s, results[s.name], policy) for s in available}
    overall = _attribute_scores(list(scores.values()))
    frames = sum(sc.frames for sc in scores.values())
    seconds = sum(sc.seconds for sc in scores.values())
    longterm = metrics.longterm_scores(
        (results[s.name].boxes, results[s.name].confidence, results[s.name].present,
         _groundtruth_for(s, len(results[s.name].boxes)))
        for s in available
    )
    attributes = {}
    for attribute in sorted({a for s in available for a in s.attributes}):
        flagged = [scores[s.name] for s in available if s.attributes.get(attribute)]
        if flagged:
            attributes[attribute] = _attribute_scores(flagged)
    return TrackerSummary(
        name=name,
        sequences=scores,
        auc=overall.auc,
        dp20=overall.dp20,
        fps=frames / seconds if seconds > 0 else math.inf,
        frames=frames,
        seconds=seconds,
        success=overall.success,
        precision=overall.precision,
        longterm=longterm,
        attributes=attributes,
        missing=missing,
        events=sum((sc.events for sc in scores.values()), lt_events.LongTermEvents()),
    )


def summarize(sequences, results: dict, policy: str = "exclude", allow_missing: bool = False) -> Summary:
    """Scores of every tracker.

    Parameters
    ----------
    sequences : list of Sequence
    results : dict
        ``results[tracker][sequence] -> SequenceResult`` (e.g. ``ExperimentRun.results``).
    policy : {'exclude', 'failure'}
        Absent-frame policy of the short-term metrics.
    allow_missing : bool
        Score trackers on the sequences they have results for (listed as ``missing`` in the
        summary) instead of raising.
    """
    metrics.check_policy(policy)
    sequences = list(sequences)
    trackers = {}
    for name, per_sequence in results.items():
        missing = [s.name for s in sequences if s.name not in per_sequence]
        if missing and not allow_missing:
            raise InputError(
                f"tracker {name!r} has no results for {len(missing)} sequence(s), e.g. {missing[0]!r}; run it first"
            )
        trackers[name] = summarize_tracker(name, sequences, per_sequence, policy)
    counts = {}
    for sequence in sequences:
        for attribute, flag in sequence.attributes.items():
            counts[attribute] = counts.get(attribute, 0) + int(bool(flag))
    absent = int(sum(int(np.asarray(s.absent).sum()) for s in sequences))
    return Summary(policy, trackers, dict(sorted(counts.items())), len(sequences), absent)


def discover_trackers(out_dir) -> list[str]:
    """Tracker names with at least one finished result in ``out_dir`` (folder names mapped back)."""
    root = Path(out_dir)
    if not root.is_dir():
        return []
    return sorted(
        tracker_name_from_dir(d.name) for d in root.iterdir() if d.is_dir() and any(d.glob(f"*{TIME_SUFFIX}"))
    )


def evaluate(sequences, out_dir, trackers=None, policy: str = "exclude", allow_missing: bool = False) -> Summary:
    """Read the results of ``trackers`` (default: all found in ``out_dir``) and score them."""
    sequences = list(sequences)
    names = list(trackers) if trackers is not None else discover_trackers(out_dir)
    if not names:
        raise InputError(f"no tracker results found in {out_dir}")
    results = {}
    for name in names:
        results[name] = {}
        for sequence in sequences:
            try:
                results[name][sequence.name] = load_result(out_dir, name, sequence.name)
            except InputError:
                if not allow_missing:
                    raise
    return summarize(sequences, results, policy, allow_missing)


# ---------------------------------------------------------------------------------------------
# Writing


def _pct(value: float) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{100.0 * value:.1f}"


def _frac(value: float) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _fps(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{value:.1f}"


def policy_line(summary: Summary) -> str:
    """One line naming the absent-frame policy used."""
    return f"Absent-target policy: {summary.policy} - {POLICY_TEXT[summary.policy]}."


def format_table(summary: Summary) -> str:
    """The main Markdown table: one row per tracker, best AUC first."""
    lines = [
        "| Tracker | AUC (%) | DP@20 (%) | FPS | F-score | Pr | Re | Sequences |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in summary.ranked():
        lt = t.longterm
        lines.append(
            f"| {t.name} | {_pct(t.auc)} | {_pct(t.dp20)} | {_fps(t.fps)} | {_frac(lt.f_score)} | "
            f"{_frac(lt.precision_at_best)} | {_frac(lt.recall_at_best)} | {len(t.sequences)} |"
        )
    return "\n".join(lines)


def format_events_table(summary: Summary) -> str:
    """Markdown table of the long-term events beside AUC and F-score, one row per tracker, best AUC first."""
    headers = ("Tracker", "AUC (%)", "F-score") + lt_events.EVENT_HEADERS
    lines = ["| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1)]
    for t in summary.ranked():
        cells = [t.name, _pct(t.auc), _frac(t.longterm.f_score)] + lt_events.event_cells(t.events)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_attribute_table(summary: Summary) -> str:
    """Markdown table of AUC (%) per attribute (rows) and tracker (columns); empty if no attributes."""
    ranked = summary.ranked()
    attributes = [a for a, n in summary.attribute_counts.items() if n > 0]
    if not attributes:
        return ""
    lines = [
        "| Attribute | n | " + " | ".join(t.name for t in ranked) + " |",
        "|---|---:|" + "---:|" * len(ranked),
    ]
    for attribute in attributes:
        cells = [_pct(t.attributes[attribute].auc) if attribute in t.attributes else "-" for t in ranked]
        lines.append(f"| {attribute} | {summary.attribute_counts[attribute]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_report(summary: Summary) -> str:
    """Full Markdown report: conventions, main table, attribute table."""
    parts = [
        "# Evaluation summary",
        "",
        policy_line(summary),
        "",
        f"{summary.sequence_count} sequences, {summary.absent_frames} frames with an absent target. "
        "AUC and DP@20 are means over sequences of per-sequence values (OTB/UAV123 convention); "
        "FPS = frames / total tracker seconds (frame decoding excluded); "
        "F-score, Pr and Re follow the LTB35 long-term protocol (Pr and Re at the F-maximizing threshold).",
        "",
        format_table(summary),
        "",
        "## Long-term events",
        "",
        lt_events.definitions_text(),
        "",
        format_events_table(summary),
    ]
    attribute_table = format_attribute_table(summary)
    if attribute_table:
        parts += ["", "## Success AUC (%) per attribute", "", attribute_table]
    missing = [(t.name, t.missing) for t in summary.ranked() if t.missing]
    if missing:
        parts += ["", "## Missing results", ""]
        parts += [f"- {name}: {len(seqs)} sequence(s): {', '.join(seqs)}" for name, seqs in missing]
    return "\n".join(parts) + "\n"


def summary_csv(summary: Summary) -> str:
    """CSV text, one row per tracker (fractions, not percent; event columns after ``policy``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    event_columns = list(lt_events.LongTermEvents().to_dict())
    writer.writerow(["tracker", "auc", "dp20", "fps", "f_score", "precision", "recall", "sequences", "frames",
                     "seconds", "policy"] + event_columns)
    for t in summary.ranked():
        lt = t.longterm
        row = [t.auc, t.dp20, t.fps, lt.f_score, lt.precision_at_best, lt.recall_at_best]
        event_values = t.events.to_dict()
        writer.writerow([t.name] + ["" if not np.isfinite(v) else f"{v:.6f}" for v in row]
                        + [len(t.sequences), t.frames, f"{t.seconds:.6f}", summary.policy]
                        + [_csv_event(event_values[c]) for c in event_columns])
    return buffer.getvalue()


def _csv_event(value) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.6f}"


def write_summary(summary: Summary, out_dir) -> dict[str, Path]:
    """Write ``summary.md``, ``summary.csv`` and ``summary.json`` into ``out_dir``; returns their paths."""
    from dcfre.evaluation.runner import atomic_write_text

    root = Path(out_dir)
    paths = {"md": root / "summary.md", "csv": root / "summary.csv", "json": root / "summary.json"}
    atomic_write_text(paths["md"], markdown_report(summary))
    atomic_write_text(paths["csv"], summary_csv(summary))
    atomic_write_text(paths["json"], json.dumps(summary.to_dict(), indent=2, allow_nan=False) + "\n")
    return paths
