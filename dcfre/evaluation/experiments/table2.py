"""Table 2 (long-term F-score, LTB35 protocol): run the compared trackers and write the tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dcfre.errors import InputError
from dcfre.evaluation.experiments.config import ExperimentConfig
from dcfre.evaluation.experiments.datasets import slug
from dcfre.evaluation.experiments.running import (
    RunOptions, dataset_record, environment, longterm_scores_of, prepare, relative_path, resolve_policy, run_dataset,
    write_dataset_outputs, write_table_files,
)
from dcfre.evaluation.experiments.tables import (
    TABLE2_ROWS, csv_number, csv_text, events_csv, events_definition, json_number, policy_text, table2_markdown,
    table2_order,
)


@dataclass
class Table2Result:
    """Everything :func:`run_table2` produced.

    Attributes
    ----------
    scores : dict
        ``scores[dataset label][tracker label] -> {'f_score', 'precision', 'recall'}``.
    record : dict
        The JSON written to ``table2.json``.
    markdown : str
    paths : dict
        ``'md'``, ``'csv'``, ``'json'``, ``'events_csv'`` -> Path.
    events : dict
        ``events[dataset label][tracker label] ->`` :class:`~dcfre.evaluation.events.LongTermEvents`
        (None where the tracker has no results).
    """

    scores: dict
    record: dict
    markdown: str
    paths: dict
    events: dict = field(default_factory=dict)


def run_table2(config: ExperimentConfig, options: RunOptions, tracker_specs=None) -> Table2Result:
    """Run the long-term comparison (LTB35 protocol) and write Table 2.

    Parameters
    ----------
    config : ExperimentConfig
        A ``table2`` config.
    options : RunOptions
    tracker_specs : list of str, optional
        Trackers to run (default: the config's); labels come from the config, else the spec.
    """
    from dcfre.evaluation import trackers

    if config.experiment != "table2":
        raise InputError(f"expected a table2 config, got {config.experiment}")
    specs = list(dict.fromkeys(tracker_specs or config.tracker_specs()))
    for spec in specs:
        trackers.parse_spec(spec)
    labels = {spec: config.label_of(spec) for spec in specs}
    if len(set(labels.values())) != len(labels):
        raise InputError("two trackers have the same label")
    policy = resolve_policy(config, options)
    out_dir = Path(options.out_dir)
    prepared, settings = prepare(config, options)

    scores, details, datasets, events = {}, {}, [], {}
    summaries = {}  # dataset label -> tracker label -> TrackerSummary or None, for the event tables
    for item in prepared:
        outcome = run_dataset(item, specs, policy, options.workers, options.scheduler, options.progress)
        folder = out_dir / "table2" / slug(item.entry.label)
        write_dataset_outputs(outcome, folder, labels, (), longterm=True, plots=options.plots)
        record = dataset_record(outcome, out_dir)
        record["report_dir"] = relative_path(folder, out_dir)
        datasets.append(record)
        per_tracker, detail = {}, {}
        summaries[item.entry.label] = {labels[s]: outcome.summary.trackers.get(s) for s in specs}
        events[item.entry.label] = {label: None if t is None else t.events
                                    for label, t in summaries[item.entry.label].items()}
        for spec in specs:
            tracker = outcome.summary.trackers.get(spec)
            if tracker is None:
                per_tracker[labels[spec]] = {"f_score": None, "precision": None, "recall": None}
                continue
            per_tracker[labels[spec]] = longterm_scores_of(tracker)
            detail[labels[spec]] = {"spec": spec, "auc": json_number(tracker.auc), "fps": json_number(tracker.fps),
                                    "frames": tracker.frames, "missing": list(tracker.missing)}
        scores[item.entry.label] = per_tracker
        details[item.entry.label] = detail

    # event rows in the table's column order (ascending F-score)
    event_rows = {d: [(label, summaries[d][label]) for label in table2_order(per)] for d, per in scores.items()}
    markdown = table2_markdown(config, scores, settings, policy, datasets, event_rows)
    record = {
        "experiment": "table2",
        "title": config.title,
        "metric": "long-term tracking F-score with Pr and Re at the F-maximizing threshold (LTB35 protocol)",
        "protocol": ("Pr(tau), Re(tau) averaged over sequences at each confidence threshold tau, F = 2 Pr Re / (Pr + Re), "
                     "F-score = max over tau; IoU 0 where exactly one of prediction and ground truth is empty"),
        "absent_policy": policy,
        "absent_policy_description": policy_text(policy) + " (AUC in 'details' only; F/Pr/Re do not depend on it)",
        "trackers": labels,
        "settings": settings,
        "command": options.command,
        "environment": environment(),
        "datasets": datasets,
        "scores": {d: {t: {k: json_number(v) for k, v in s.items()} for t, s in per.items()}
                   for d, per in scores.items()},
        "order": {d: table2_order(per) for d, per in scores.items()},
        "details": details,
        "events_definition": events_definition(),
        "events": {d: {t: None if e is None else e.to_dict() for t, e in per.items()} for d, per in events.items()},
        "paper": config.paper,
    }
    csv_rows = []
    for dataset, per_tracker in scores.items():
        for label in table2_order(per_tracker):
            s = per_tracker[label]
            spec = next(k for k, v in labels.items() if v == label)
            csv_rows.append([dataset, label, spec] + [csv_number(s[k]) for _, k in TABLE2_ROWS])
    body = csv_text(["dataset", "tracker", "spec", "f_score", "precision", "recall"], csv_rows)
    spec_of = {label: spec for spec, label in labels.items()}
    csv_event_rows = [([d, label, spec_of[label]], tracker) for d, rows in event_rows.items() for label, tracker in rows]
    paths = write_table_files(out_dir, "table2", markdown, body, record,
                              events_csv(["dataset", "tracker", "spec"], csv_event_rows))
    return Table2Result(scores, record, markdown, paths, events)
