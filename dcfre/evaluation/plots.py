"""Figures of a :class:`~dcfre.evaluation.report.Summary`, saved as PNG and PDF.

- success and precision plots, trackers sorted by AUC / DP@20 with the score in the legend
  (paper Fig. 5);
- attribute success plots for a subset of attributes, titled with the attribute name and the
  number of sequences (paper Fig. 6: full occlusion FOC and out-of-view OV);
- long-term precision-recall curves (F-score in the legend, the F-maximizing point marked)
  and F(tau) against the normalized threshold rank.

Figures are drawn with matplotlib's object API on the Agg canvas (no pyplot, no global backend
change), so this works headless and inside other applications.
"""

from __future__ import annotations

from itertools import cycle
from pathlib import Path

import numpy as np

from dcfre.evaluation import metrics

#: Long names of the UAV123 attribute flags (plot titles).
ATTRIBUTE_NAMES = {
    "SV": "Scale variation",
    "ARC": "Aspect ratio change",
    "LR": "Low resolution",
    "FM": "Fast motion",
    "FOC": "Full occlusion",
    "POC": "Partial occlusion",
    "OV": "Out-of-view",
    "BC": "Background clutter",
    "IV": "Illumination variation",
    "VC": "Viewpoint change",
    "CM": "Camera motion",
    "SOB": "Similar object",
}
#: Attributes of the paper's Fig. 6.
REDETECTION_ATTRIBUTES = ("FOC", "OV")
#: File formats written for every figure.
FORMATS = ("png", "pdf")

_LINESTYLES = ("-", "--", "-.", ":")


def _figure(ncols: int = 1, width: float = 5.0, height: float = 4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height))
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def save_figure(fig, stem) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf`` (folders created); returns the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    paths = []
    for fmt in FORMATS:
        path = stem.with_name(f"{stem.name}.{fmt}")
        fig.savefig(path, dpi=150)
        paths.append(path)
    return paths


def _styles():
    colors = [f"C{i}" for i in range(10)]
    return cycle([(c, ls) for ls in _LINESTYLES for c in colors])


def _draw_curves(ax, x, entries, xlabel, ylabel, title, legend_loc="lower left") -> None:
    """entries: list of (label, y, score); drawn best score first."""
    ordered = sorted(entries, key=lambda e: -(e[2] if np.isfinite(e[2]) else -1.0))
    for (label, y, score), (color, style) in zip(ordered, _styles()):
        ax.plot(x, y, color=color, linestyle=style, linewidth=2, label=f"{label} [{score:.3f}]")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, alpha=0.3)
    ax.legend(loc=legend_loc, fontsize=8)


def plot_success(summary, stem, title: str = "Success plot") -> list[Path]:
    """Success plot of all trackers, legend ``name [AUC]``, sorted by AUC."""
    fig, (ax,) = _figure()
    entries = [(t.name, t.success, t.auc) for t in summary.trackers.values()]
    _draw_curves(ax, metrics.SUCCESS_THRESHOLDS, entries, "Overlap threshold (IoU)", "Success rate",
                 f"{title} ({summary.policy})")
    return save_figure(fig, stem)


def plot_precision(summary, stem, title: str = "Precision plot") -> list[Path]:
    """Precision plot of all trackers, legend ``name [DP@20]``, sorted by DP@20."""
    fig, (ax,) = _figure()
    entries = [(t.name, t.precision, t.dp20) for t in summary.trackers.values()]
    _draw_curves(ax, metrics.PRECISION_THRESHOLDS, entries, "Location error threshold (px)", "Distance precision",
                 f"{title} ({summary.policy})", legend_loc="lower right")
    return save_figure(fig, stem)


def plot_attribute_success(summary, stem, attributes=REDETECTION_ATTRIBUTES) -> list[Path]:
    """One success subplot per attribute (those with at least one flagged sequence).

    Titles give the attribute name and the number of sequences, legends the AUC over them.
    Returns an empty list when none of ``attributes`` is present.
    """
    present = [a for a in attributes if summary.attribute_counts.get(a, 0) > 0]
    if not present:
        return []
    fig, axes = _figure(ncols=len(present))
    for ax, attribute in zip(axes, present):
        entries = [
            (t.name, t.attributes[attribute].success, t.attributes[attribute].auc)
            for t in summary.trackers.values()
            if attribute in t.attributes
        ]
        title = f"Success plot of {ATTRIBUTE_NAMES.get(attribute, attribute)} ({summary.attribute_counts[attribute]})"
        _draw_curves(ax, metrics.SUCCESS_THRESHOLDS, entries, "Overlap threshold (IoU)", "Success rate", title)
    return save_figure(fig, stem)


def plot_precision_recall(summary, stem, title: str = "Long-term precision/recall") -> list[Path]:
    """Tracking precision-recall curves; legend ``name [F-score]``, the best point marked."""
    fig, (ax,) = _figure()
    ranked = sorted(summary.trackers.values(), key=lambda t: -t.longterm.f_score)
    for t, (color, style) in zip(ranked, _styles()):
        lt = t.longterm
        recall = np.nan_to_num(lt.recall, nan=0.0)
        ax.plot(recall, lt.precision, color=color, linestyle=style, linewidth=2, label=f"{t.name} [{lt.f_score:.3f}]")
        ax.plot([lt.recall_at_best], [lt.precision_at_best], "o", color=color)
    ax.set_xlabel("Tracking recall")
    ax.set_ylabel("Tracking precision")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    return save_figure(fig, stem)


def plot_f_curve(summary, stem, title: str = "Long-term F-score") -> list[Path]:
    """F(tau) against the normalized threshold rank (0 = +inf, 1 = -inf); legend gives the F-score."""
    fig, (ax,) = _figure()
    ranked = sorted(summary.trackers.values(), key=lambda t: -t.longterm.f_score)
    for t, (color, style) in zip(ranked, _styles()):
        f = t.longterm.f
        rank = np.linspace(0.0, 1.0, len(f))
        ax.plot(rank, f, color=color, linestyle=style, linewidth=2, label=f"{t.name} [{t.longterm.f_score:.3f}]")
    ax.set_xlabel("Normalized threshold rank (high to low confidence)")
    ax.set_ylabel("F-measure")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return save_figure(fig, stem)


def plot_all(summary, folder, attributes=REDETECTION_ATTRIBUTES) -> list[Path]:
    """Every figure into ``folder``: success, precision, attributes, longterm_pr, longterm_f."""
    folder = Path(folder)
    paths = plot_success(summary, folder / "success")
    paths += plot_precision(summary, folder / "precision")
    paths += plot_attribute_success(summary, folder / "attributes", attributes)
    paths += plot_precision_recall(summary, folder / "longterm_pr")
    paths += plot_f_curve(summary, folder / "longterm_f")
    return paths
