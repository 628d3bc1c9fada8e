"""Table formatting: pure functions of numbers (testable on hand-made results), Markdown and CSV text."""

from __future__ import annotations

import csv
import io
import itertools
import math

from dcfre.errors import InputError
from dcfre.evaluation.experiments.config import ExperimentConfig

#: Digits after the decimal point: Table 1 AUC in percent, Table 2 Pr/Re/F as fractions.
TABLE1_DECIMALS = 1
TABLE2_DECIMALS = 3
#: Rows of Table 2 (label, key of :func:`longterm_scores_of`).
TABLE2_ROWS = (("F-score", "f_score"), ("Pr", "precision"), ("Re", "recall"))


def format_value(value, decimals: int) -> str:
    """``value`` with ``decimals`` digits, ``'-'`` for None/NaN/inf."""
    if value is None or not math.isfinite(float(value)):
        return "-"
    return f"{float(value):.{decimals}f}"


def markdown_table(corner: str, columns, rows, decimals: int) -> str:
    """A Markdown table: header ``corner | columns...``, one line per ``(label, values)`` row.

    Parameters
    ----------
    corner : str
        Header of the row-label column.
    columns : list of str
    rows : list of (str, list of float)
        Values in display units; None or NaN prints ``-``.
    decimals : int
    """
    columns = list(columns)
    lines = ["| " + " | ".join([corner] + columns) + " |", "|---|" + "---:|" * len(columns)]
    for label, values in rows:
        values = list(values)
        if len(values) != len(columns):
            raise InputError(f"row {label!r} has {len(values)} values for {len(columns)} columns")
        lines.append("| " + " | ".join([str(label)] + [format_value(v, decimals) for v in values]) + " |")
    return "\n".join(lines)


def table1_rows(scores: dict, columns) -> list[tuple[str, list[float]]]:
    """Table 1 rows from ``scores[dataset][column] -> AUC fraction``: ``(dataset, AUC % per column)``."""
    return [(dataset, [percent(per_column.get(c)) for c in columns]) for dataset, per_column in scores.items()]


def table1_gains(scores: dict, columns) -> list[tuple[str, list[float]]]:
    """Gain of each column over the previous one, AUC points (Table 1's "+2.5 / +0.9" of the text)."""
    rows = []
    for dataset, per_column in scores.items():
        values = [percent(per_column.get(c)) for c in columns]
        rows.append((dataset, [b - a for a, b in itertools.pairwise(values)]))
    return rows


def percent(value) -> float:
    return math.nan if value is None else 100.0 * float(value)


def format_table1(scores: dict, columns, corner: str = "Dataset") -> str:
    """Table 1 in the paper's layout: rows = datasets, columns = modes, success AUC in %, one decimal."""
    return markdown_table(corner, columns, table1_rows(scores, columns), TABLE1_DECIMALS)


def table2_order(scores: dict) -> list[str]:
    """Tracker labels by ascending F-score (the paper's Table 2 order: best last), NaN first."""
    def key(label):
        f = scores[label].get("f_score")
        return -math.inf if f is None or not math.isfinite(f) else f

    return sorted(scores, key=key)


def format_table2(scores: dict, order=None) -> str:
    """Table 2 in the paper's layout: one column per tracker, rows F-score, Pr, Re (fractions).

    Parameters
    ----------
    scores : dict
        ``scores[tracker label] -> {'f_score', 'precision', 'recall'}`` (fractions).
    order : list of str, optional
        Column order; default :func:`table2_order`.
    """
    order = list(order) if order is not None else table2_order(scores)
    rows = [(label, [scores[t].get(key) for t in order]) for label, key in TABLE2_ROWS]
    return markdown_table("", order, rows, TABLE2_DECIMALS)


def csv_text(header, rows) -> str:
    """CSV text with a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def csv_number(value, decimals: int = 4) -> str:
    return "" if value is None or not math.isfinite(float(value)) else f"{float(value):.{decimals}f}"


def json_number(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def policy_line(policy: str) -> str:
    from dcfre.evaluation.report import POLICY_TEXT

    return f"Absent-target policy: **{policy}** - {POLICY_TEXT[policy]}."


def data_line(settings: dict) -> str:
    source = f"datasets under {settings['root']}" if settings["root"] else "offline synthetic datasets"
    parts = [f"Data: {source}", f"seed {settings['seed']}", f"frames_scale {settings['frames_scale']:g}"]
    if settings["max_frames"]:
        parts.append(f"first {settings['max_frames']} frames per sequence")
    if settings["limit"]:
        parts.append(f"first {settings['limit']} sequences per dataset")
    return "; ".join(parts) + "."


def policy_text(policy: str) -> str:
    from dcfre.evaluation.report import POLICY_TEXT

    return POLICY_TEXT[policy]


def table1_markdown(config: ExperimentConfig, scores: dict, columns, settings: dict, policy: str,
                    datasets: list, attributes: list | None = None, events: dict | None = None) -> str:
    """The whole ``table1.md``: settings, one Table 1 per preset, gains, events, attribute AUCs, the paper's table.

    ``events[preset]`` are the rows of :func:`format_events_table` (one per dataset and mode).
    """
    parts = [f"# {config.title}", "", policy_line(policy), "", data_line(settings), "",
             ("Success AUC (%) = mean over sequences of the per-sequence area under the success curve "
              "(21 IoU thresholds). Every parameter is the preset's, fixed for all sequences and datasets."), ""]
    for preset, per_dataset in scores.items():
        parts += [f"## {preset}", "", format_table1(per_dataset, columns), "",
                  "Gain over the previous column (AUC points):", "",
                  markdown_table("Dataset", columns[1:], table1_gains(per_dataset, columns), TABLE1_DECIMALS), ""]
        if events and events.get(preset):
            parts += ["Long-term events per mode:", "", format_events_table(events[preset], "Dataset / mode"), ""]
    if events:
        parts += [events_definition(), ""]
    if attributes:
        parts += ["## Attributes (paper Fig. 6): success AUC (%) over the sequences with the flag", "",
                  markdown_table("Preset / dataset / attribute (n)", columns, attributes, TABLE1_DECIMALS), ""]
    parts += datasets_section(datasets)
    if config.paper:
        paper_scores = {d: dict(zip(columns, [v / 100.0 for v in values])) for d, values in config.paper.items()}
        parts += ["", "## Paper (Table 1, UPDT with ResNet-50 features, MATLAB)", "",
                  format_table1(paper_scores, columns)]
    return "\n".join(parts) + "\n"


def datasets_section(datasets: list) -> list[str]:
    """Markdown lines of the "Datasets" section: size and run counts of each dataset entry."""
    lines = ["## Datasets", "", "| Dataset | Sequences | Frames | Absent frames | Runs computed | Runs reused | Failed |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for d in datasets:
        lines.append(f"| {d['label']} | {d['sequences']} | {d['frames']} | {d['absent_frames']} | {d['ran']} | "
                     f"{d['reused']} | {len(d['failed'])} |")
    return lines


def attribute_rows(details: dict, columns, attributes) -> list[tuple[str, list[float]]]:
    """Rows ``'preset / dataset / ATTR (n)'`` -> AUC % per column, from :func:`run_table1`'s details."""
    rows = []
    for preset, per_dataset in details.items():
        for dataset, per_column in per_dataset.items():
            for attribute in attributes:
                found = [(per_column[c] or {}).get("attributes", {}).get(attribute) for c in columns]
                if not any(found):
                    continue
                n = max(f["n"] for f in found if f)
                values = [percent(f["auc"]) if f and f["auc"] is not None else math.nan for f in found]
                rows.append((f"{preset} / {dataset} / {attribute} ({n})", values))
    return rows


def table2_markdown(config: ExperimentConfig, scores: dict, settings: dict, policy: str, datasets: list,
                    events: dict | None = None) -> str:
    """The whole ``table2.md``: settings, one Table 2 (and its events) per dataset, dataset sizes, the paper's row.

    ``events[dataset]`` are the rows of :func:`format_events_table` (one per tracker).
    """
    parts = [f"# {config.title}", "",
             data_line(settings), "",
             ("LTB35 protocol: the prediction of a frame counts at threshold tau when the tracker reports the "
              "target present with confidence >= tau; Pr and Re are averaged over sequences, F = 2 Pr Re / (Pr + Re) "
              "and the F-score is its maximum over tau (Pr and Re given at that threshold). Trackers sorted by "
              "F-score, best last (the paper's order). Every parameter is the preset's, fixed for all sequences."), ""]
    for dataset, per_tracker in scores.items():
        parts += [f"## {dataset}", "", format_table2(per_tracker), ""]
        if events and events.get(dataset):
            parts += ["Long-term events:", "", format_events_table(events[dataset], "Tracker"), ""]
    if events:
        parts += [events_definition(), ""]
    parts += datasets_section(datasets)
    if config.paper:
        names = list(config.paper)
        parts += ["", "## Paper (Table 2, LTB35)", "",
                  markdown_table("", names, [("F-score", [config.paper[n] for n in names])], 2)]
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------------
# Long-term events (rows of (label, TrackerSummary or None): the summary's AUC, F-score and events)


def events_definition() -> str:
    """The event definitions (:func:`dcfre.evaluation.events.definitions_text`)."""
    from dcfre.evaluation import events as lt_events

    return lt_events.definitions_text()


def format_events_table(rows, corner: str) -> str:
    """Markdown table of the long-term events beside success AUC (%) and F-score.

    Parameters
    ----------
    rows : list of (str, TrackerSummary or None)
        Row label and the tracker's :class:`~dcfre.evaluation.report.TrackerSummary` (None: no
        results, printed ``-``).
    corner : str
        Header of the row-label column.
    """
    from dcfre.evaluation import events as lt_events

    headers = [corner, "AUC (%)", "F-score", *lt_events.EVENT_HEADERS]
    lines = ["| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1)]
    for label, tracker in rows:
        if tracker is None:
            cells = ["-"] * (len(headers) - 1)
        else:
            cells = [format_value(percent(tracker.auc), TABLE1_DECIMALS),
                     format_value(tracker.longterm.f_score, TABLE2_DECIMALS)] + lt_events.event_cells(tracker.events)
        lines.append("| " + " | ".join([str(label)] + cells) + " |")
    return "\n".join(lines)


def events_csv(key_columns, rows) -> str:
    """CSV of the events: ``key_columns`` + ``auc``, ``f_score`` + every event count and share.

    Parameters
    ----------
    key_columns : list of str
    rows : list of (list, TrackerSummary or None)
        The key values of each row and its tracker summary (None: empty cells).
    """
    from dcfre.evaluation import events as lt_events

    names = list(lt_events.LongTermEvents().to_dict())
    body = []
    for keys, tracker in rows:
        if tracker is None:
            body.append(list(keys) + [""] * (2 + len(names)))
            continue
        values = tracker.events.to_dict()
        body.append(list(keys) + [csv_number(tracker.auc), csv_number(tracker.longterm.f_score)]
                    + [_event_cell(values[n]) for n in names])
    return csv_text(list(key_columns) + ["auc", "f_score"] + names, body)


def _event_cell(value) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else csv_number(value)
