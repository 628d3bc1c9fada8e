"""Table 1 (component analysis): run a preset in every long-term mode and write the tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dcfre.errors import InputError
from dcfre.evaluation.experiments.config import ExperimentConfig
from dcfre.evaluation.experiments.datasets import slug
from dcfre.evaluation.experiments.running import (
    RunOptions, dataset_record, environment, prepare, relative_path, resolve_policy, run_dataset,
    write_dataset_outputs, write_table_files,
)
from dcfre.evaluation.experiments.tables import (
    attribute_rows, csv_number, csv_text, events_csv, events_definition, json_number, percent,
    policy_text, table1_markdown,
)


@dataclass
class Table1Result:
    """Everything :func:`run_table1` produced.

    Attributes
    ----------
    scores : dict
        ``scores[preset][dataset label][mode label] -> success AUC (fraction)``.
    record : dict
        The JSON written to ``table1.json``.
    markdown : str
    paths : dict
        ``'md'``, ``'csv'``, ``'json'``, ``'events_csv'`` -> Path.
    events : dict
        ``events[preset][dataset label][mode label] ->`` :class:`~dcfre.evaluation.events.LongTermEvents`
        (None where the mode has no results).
    """

    scores: dict
    record: dict
    markdown: str
    paths: dict
    events: dict = field(default_factory=dict)


def run_table1(config: ExperimentConfig, options: RunOptions, presets=None) -> Table1Result:
    """Run the component analysis (baseline / +re-detection / +hard negative mining) and write Table 1.

    Parameters
    ----------
    config : ExperimentConfig
        A ``table1`` config.
    options : RunOptions
    presets : list of str, optional
        Presets to run (default: the config's).
    """
    from dcfre.evaluation import trackers

    if config.experiment != "table1":
        raise InputError(f"expected a table1 config, got {config.experiment}")
    presets = list(dict.fromkeys(presets or config.presets))
    specs = config.tracker_specs(presets)
    for spec in specs:
        trackers.parse_spec(spec)
    policy = resolve_policy(config, options)
    out_dir = Path(options.out_dir)
    prepared, settings = prepare(config, options)
    columns = list(config.modes.values())
    labels = {spec: config.label_of(spec) for spec in specs}

    scores = {p: {} for p in presets}
    details = {p: {} for p in presets}
    # event rows: (label, TrackerSummary or None) for the Markdown, ([keys], TrackerSummary) for the CSV
    event_rows = {p: [] for p in presets}
    csv_event_rows = []
    events = {p: {} for p in presets}
    datasets = []
    for item in prepared:
        outcome = run_dataset(item, specs, policy, options.workers, options.scheduler, options.progress)
        folder = out_dir / "table1" / slug(item.entry.label)
        write_dataset_outputs(outcome, folder, labels, config.attributes, longterm=False, plots=options.plots)
        record = dataset_record(outcome, out_dir)
        record["report_dir"] = relative_path(folder, out_dir)
        datasets.append(record)
        for preset in presets:
            per_mode, detail, per_mode_events = {}, {}, {}
            for mode, column in config.modes.items():
                tracker = outcome.summary.trackers.get(f"{preset}:{mode}")
                per_mode[column] = None if tracker is None else float(tracker.auc)
                detail[column] = _table1_detail(tracker, config.attributes)
                per_mode_events[column] = None if tracker is None else tracker.events
                event_rows[preset].append((f"{item.entry.label} / {column}", tracker))
                csv_event_rows.append(([preset, item.entry.label, column, f"{preset}:{mode}"], tracker))
            scores[preset][item.entry.label] = per_mode
            details[preset][item.entry.label] = detail
            events[preset][item.entry.label] = per_mode_events

    markdown = table1_markdown(config, scores, columns, settings, policy, datasets,
                               attribute_rows(details, columns, config.attributes), event_rows)
    record = {
        "experiment": "table1",
        "title": config.title,
        "metric": "success AUC (fraction; the tables print percent)",
        "auc_convention": "mean over sequences of the per-sequence AUC (mean of the 21-threshold success curve)",
        "absent_policy": policy,
        "absent_policy_description": policy_text(policy),
        "columns": columns,
        "modes": dict(config.modes),
        "presets": presets,
        "settings": settings,
        "command": options.command,
        "environment": environment(),
        "datasets": datasets,
        "auc": {p: {d: {c: json_number(v) for c, v in row.items()} for d, row in per.items()}
                for p, per in scores.items()},
        "details": details,
        "events_definition": events_definition(),
        "events": {p: {d: {c: None if e is None else e.to_dict() for c, e in row.items()} for d, row in per.items()}
                   for p, per in events.items()},
        "paper": config.paper,
    }
    csv_rows = []
    for preset in presets:
        for dataset in datasets:
            row = scores[preset][dataset["label"]]
            csv_rows.append([preset, dataset["label"]] + [csv_number(percent(row[c]), 2) for c in columns]
                            + [dataset["sequences"], dataset["frames"], policy])
    body = csv_text(["preset", "dataset"] + [f"{c} AUC (%)" for c in columns] + ["sequences", "frames", "absent_policy"],
                    csv_rows)
    paths = write_table_files(out_dir, "table1", markdown, body, record,
                              events_csv(["preset", "dataset", "mode", "spec"], csv_event_rows))
    return Table1Result(scores, record, markdown, paths, events)


def _table1_detail(tracker, attributes) -> dict | None:
    if tracker is None:
        return None
    return {
        "auc": json_number(tracker.auc),
        "dp20": json_number(tracker.dp20),
        "fps": json_number(tracker.fps),
        "f_score": json_number(tracker.longterm.f_score),
        "frames": tracker.frames,
        "sequences": len(tracker.sequences),
        "missing": list(tracker.missing),
        "attributes": {a: {"n": s.n, "auc": json_number(s.auc)} for a, s in tracker.attributes.items()
                       if a in attributes},
    }
