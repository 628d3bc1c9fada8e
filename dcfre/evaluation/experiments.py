"""The paper's experiments as configured runs: Table 1 (component analysis) and Table 2 (long-term F-score).

An *experiment config* (``experiments/table1.json``, ``experiments/table2.json``) names the
trackers, the datasets used with and without a dataset root, the absent-target policy, the
attributes plotted and the paper's reference numbers. :func:`load_config` reads it,
:func:`prepare_datasets` loads the sequences, :func:`run_table1` / :func:`run_table2` run every
tracker through :func:`~dcfre.evaluation.runner.run_experiment` (resumable: finished sequences
are never recomputed) and write the tables in the paper's layout as Markdown, CSV and JSON,
with the figures.

Output layout (``OUT`` = the ``out_dir`` argument)::

    OUT/runs/<results key>/<tracker folder>/<sequence>.txt   raw results, shared by both tables
    OUT/table1.{md,csv,json}                                 Table 1
    OUT/table1/<dataset>/summary.{md,csv,json}               full report per dataset (AUC, DP@20, FPS, F)
    OUT/table1/<dataset>/success.{png,pdf}                   success plot (paper Fig. 5 style)
    OUT/table1/<dataset>/attributes.{png,pdf}                FOC / OV success plots (paper Fig. 6)
    OUT/table2.{md,csv,json}, OUT/table2/<dataset>/...       Table 2, long-term PR and F curves

The results key names what was tracked: ``uav123`` (UAV-Human shares it: its 45 tracks are
UAV123 tracks), ``ltb35``, the synthetic suite's cache folder name (``synth-lt-x0.5``), plus
``-x<scale>`` for truncated real sequences and ``-first<N>`` for ``max_frames``. Runs of both
tables into the same ``OUT`` therefore reuse each other's results (``updt:global`` and
``updt:off`` appear in both).

Every tracker parameter is the preset's: nothing is tuned per sequence or per dataset.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
import math
import platform
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcfre.errors import InputError

#: Experiments a config can describe.
EXPERIMENTS = ("table1", "table2")
#: Dataset names whose results folder is another dataset's (same sequences, same names).
SHARED_RESULTS = {"uav-human": "uav123"}
#: Synthetic suites (generated on first use).
SYNTHETIC = ("synth-lt", "synth-human")
#: Digits after the decimal point: Table 1 AUC in percent, Table 2 Pr/Re/F as fractions.
TABLE1_DECIMALS = 1
TABLE2_DECIMALS = 3
#: Rows of Table 2 (label, key of :func:`longterm_scores_of`).
TABLE2_ROWS = (("F-score", "f_score"), ("Pr", "precision"), ("Re", "recall"))

_CONFIG_KEYS = {
    "experiment", "title", "description", "presets", "modes", "trackers", "datasets", "absent_policy",
    "attributes", "synthetic", "paper",
}


# ---------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset of an experiment.

    Attributes
    ----------
    label : str
        Row (Table 1) or section (Table 2) title, e.g. ``"UAV-Human"``.
    dataset : str
        Name understood by :func:`dcfre.data.load_dataset` (``uav123``, ``synth-lt``, ``folder``...).
    root : str or None
        Fixed root folder. None: the ``--root`` argument for real datasets, the synthetic cache
        folder for ``synth-*``.
    results : str or None
        Results key shared with another entry; None: derived from ``dataset`` (see module docstring).
    """

    label: str
    dataset: str
    root: str | None = None
    results: str | None = None


@dataclass(frozen=True)
class ExperimentConfig:
    """A parsed experiment config (JSON schema in ``experiments/README.md``).

    Attributes
    ----------
    experiment : {'table1', 'table2'}
    title : str
    presets : tuple of str
        Table 1: dcfre presets, each run in every mode of ``modes``.
    modes : dict
        Table 1: long-term mode -> column label, in column order.
    trackers : dict
        Table 2: tracker spec -> display label.
    with_root, offline : tuple of DatasetEntry
        Datasets used when a dataset root is given, and without one.
    absent_policy : {'exclude', 'failure'}
        Default absent-target policy of the success AUC.
    attributes : tuple of str
        Attributes of the attribute success plots (paper Fig. 6: FOC, OV).
    seed : int
    frames_scale : float
        Synthetic suite seed and length scale (defaults of the scripts' options).
    paper : dict
        The paper's numbers, reproduced in the outputs for comparison.
    """

    experiment: str
    title: str
    presets: tuple[str, ...] = ()
    modes: dict = field(default_factory=dict)
    trackers: dict = field(default_factory=dict)
    with_root: tuple[DatasetEntry, ...] = ()
    offline: tuple[DatasetEntry, ...] = ()
    absent_policy: str = "failure"
    attributes: tuple[str, ...] = ("FOC", "OV")
    seed: int = 0
    frames_scale: float = 1.0
    paper: dict = field(default_factory=dict)
    description: str = ""

    def tracker_specs(self, presets=None) -> list[str]:
        """Specs to run: ``PRESET:MODE`` for Table 1, the configured trackers for Table 2."""
        if self.experiment == "table1":
            return [f"{p}:{m}" for p in (presets or self.presets) for m in self.modes]
        return list(self.trackers)

    def label_of(self, spec: str) -> str:
        """Display label of a spec (Table 1: ``'updt +Re-detection'``; Table 2: configured label or spec)."""
        if self.experiment == "table1":
            preset, _, mode = spec.partition(":")
            return f"{preset} {self.modes.get(mode, mode)}"
        return self.trackers.get(spec, spec)


def _dataset_entries(items, where: str) -> tuple[DatasetEntry, ...]:
    if not isinstance(items, list):
        raise InputError(f"config: datasets.{where} must be a list")
    entries = []
    for item in items:
        if not isinstance(item, dict) or "dataset" not in item:
            raise InputError(f"config: every datasets.{where} entry needs a 'dataset' name, got {item!r}")
        unknown = set(item) - {"label", "dataset", "root", "results"}
        if unknown:
            raise InputError(f"config: unknown key(s) {', '.join(sorted(unknown))} in datasets.{where}")
        entries.append(DatasetEntry(str(item.get("label", item["dataset"])), str(item["dataset"]),
                                    item.get("root"), item.get("results")))
    labels = [e.label for e in entries]
    if len(set(labels)) != len(labels):
        raise InputError(f"config: duplicate dataset labels in datasets.{where}")
    return tuple(entries)


def config_from_dict(data: dict) -> ExperimentConfig:
    """Validate a config mapping (as read from JSON) and build an :class:`ExperimentConfig`."""
    from dcfre.evaluation import metrics, trackers

    if not isinstance(data, dict):
        raise InputError("config: expected a JSON object")
    unknown = set(data) - _CONFIG_KEYS
    if unknown:
        raise InputError(f"config: unknown key(s) {', '.join(sorted(unknown))}")
    experiment = data.get("experiment")
    if experiment not in EXPERIMENTS:
        raise InputError(f"config: 'experiment' must be one of {', '.join(EXPERIMENTS)}, got {experiment!r}")
    datasets = data.get("datasets", {})
    if not isinstance(datasets, dict) or set(datasets) - {"with_root", "offline"}:
        raise InputError("config: 'datasets' must be an object with 'with_root' and/or 'offline' lists")
    synthetic = data.get("synthetic", {})
    policy = metrics.check_policy(data.get("absent_policy", "failure"))
    config = ExperimentConfig(
        experiment=experiment,
        title=str(data.get("title", experiment)),
        description=str(data.get("description", "")),
        presets=tuple(data.get("presets", ())),
        modes=dict(data.get("modes", {})),
        trackers=dict(data.get("trackers", {})),
        with_root=_dataset_entries(datasets.get("with_root", []), "with_root"),
        offline=_dataset_entries(datasets.get("offline", []), "offline"),
        absent_policy=policy,
        attributes=tuple(data.get("attributes", ("FOC", "OV"))),
        seed=int(synthetic.get("seed", 0)),
        frames_scale=float(synthetic.get("frames_scale", 1.0)),
        paper=dict(data.get("paper", {})),
    )
    if experiment == "table1":
        if not config.presets or not config.modes:
            raise InputError("config: a table1 experiment needs 'presets' and 'modes'")
        for mode in config.modes:
            if mode not in trackers.REDETECT_MODES:
                raise InputError(f"config: unknown mode {mode!r}; valid: {', '.join(trackers.REDETECT_MODES)}")
    elif not config.trackers:
        raise InputError("config: a table2 experiment needs 'trackers'")
    if not config.offline and not config.with_root:
        raise InputError("config: no datasets")
    return config


def load_config(path) -> ExperimentConfig:
    """Read an experiment config from a JSON file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"config {path} is not valid JSON: {exc}") from None
    return config_from_dict(data)


# ---------------------------------------------------------------------------------------------
# Datasets


@dataclass
class PreparedDataset:
    """The sequences of one dataset entry, ready to run.

    Attributes
    ----------
    entry : DatasetEntry
    sequences : list of Sequence
        Possibly truncated (``frames_scale`` on real data, ``max_frames``) or limited in number.
    results_dir : Path
        Where the raw results of this dataset go.
    """

    entry: DatasetEntry
    sequences: list
    results_dir: Path

    @property
    def frames(self) -> int:
        return sum(len(s) for s in self.sequences)


def truncate_sequence(sequence, frames: int):
    """A copy of ``sequence`` keeping its first ``frames`` frames and ground-truth rows."""
    if frames >= len(sequence):
        return sequence
    kept = sequence.frames[:frames] if sequence.video is None else sequence.frames
    return dataclasses.replace(sequence, frames=kept, groundtruth=sequence.groundtruth[:frames])


def results_key(entry: DatasetEntry, seed: int, frames_scale: float, max_frames: int | None) -> str:
    """Folder name of an entry's raw results under ``OUT/runs`` (see the module docstring)."""
    from dcfre.data.suites import suite_folder_name

    if entry.dataset in SYNTHETIC:
        key = entry.results or suite_folder_name(entry.dataset, seed, frames_scale)
    else:
        key = entry.results or SHARED_RESULTS.get(entry.dataset, entry.dataset)
        if entry.dataset == "folder" and entry.results is None:
            key = slug(entry.label)
        if frames_scale != 1.0:
            key += f"-x{frames_scale:g}"
    if max_frames is not None:
        key += f"-first{max_frames}"
    return key


def slug(text: str) -> str:
    """Lower-case file-name-safe form of a label (``'UAV-Human'`` -> ``'uav-human'``)."""
    value = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.")
    return value or "dataset"


def select_entries(config: ExperimentConfig, root, names=None) -> list[DatasetEntry]:
    """The entries to run: ``with_root`` when a root is given, else ``offline``; optionally filtered.

    ``names`` selects entries by label or dataset name (case-insensitive), in the config's order.
    """
    entries = list(config.with_root if root is not None else config.offline)
    if not entries:
        kind = "with a dataset root" if root is not None else "without a dataset root (offline)"
        raise InputError(f"config {config.experiment} has no datasets to use {kind}")
    if names:
        wanted = {n.lower() for n in names}
        chosen = [e for e in entries if e.label.lower() in wanted or e.dataset.lower() in wanted]
        known = {e.label.lower() for e in entries} | {e.dataset.lower() for e in entries}
        unknown = sorted(wanted - known)
        if unknown:
            raise InputError(f"unknown dataset(s) {', '.join(unknown)}; available: {', '.join(e.label for e in entries)}")
        entries = chosen
    return entries


def prepare_datasets(
    entries,
    out_dir,
    root=None,
    cache=None,
    seed: int = 0,
    frames_scale: float = 1.0,
    max_frames: int | None = None,
    limit: int | None = None,
    jobs: int = 1,
) -> list[PreparedDataset]:
    """Load (and for synthetic suites generate) the sequences of each entry.

    Parameters
    ----------
    entries : list of DatasetEntry
    out_dir : path
        Experiment output folder; raw results go to ``out_dir/runs/<results key>``.
    root : path, optional
        Root of the real datasets (entries without their own ``root``).
    cache : path, optional
        Folder of the synthetic suites (default: :func:`dcfre.data.suites.default_cache_dir`).
    seed, frames_scale
        Synthetic suites: generation seed and length scale (event durations scale too). Real
        datasets: ``frames_scale < 1`` keeps the first ``round(frames_scale * N)`` frames.
    max_frames : int, optional
        Keep at most this many frames of every sequence.
    limit : int, optional
        Keep the first ``limit`` sequences of each dataset.
    jobs : int
        Processes generating synthetic suites.
    """
    from dcfre.data import load_dataset

    if not 0 < frames_scale <= 10:
        raise InputError(f"frames_scale must be in (0, 10], got {frames_scale}")
    if max_frames is not None and max_frames < 2:
        raise InputError(f"max_frames must be >= 2, got {max_frames}")
    if limit is not None and limit < 1:
        raise InputError(f"limit must be >= 1, got {limit}")
    prepared = []
    for entry in entries:
        if entry.dataset in SYNTHETIC:
            sequences = load_dataset(entry.dataset, entry.root or cache, seed=seed, frames_scale=frames_scale,
                                     jobs=jobs)
        else:
            base = entry.root or root
            if base is None:
                raise InputError(f"dataset {entry.label} ({entry.dataset}) needs --root")
            sequences = load_dataset(entry.dataset, base)
            if frames_scale > 1.0:
                raise InputError(f"frames_scale > 1 only applies to synthetic suites, not to {entry.label}")
            if frames_scale < 1.0:
                sequences = [truncate_sequence(s, max(2, round(frames_scale * len(s)))) for s in sequences]
        if limit is not None:
            sequences = sequences[:limit]
        if max_frames is not None:
            sequences = [truncate_sequence(s, max_frames) for s in sequences]
        if not sequences:
            raise InputError(f"dataset {entry.label} has no sequences")
        key = results_key(entry, seed, frames_scale, max_frames)
        prepared.append(PreparedDataset(entry, sequences, Path(out_dir) / "runs" / key))
    return prepared


# ---------------------------------------------------------------------------------------------
# Running and scoring


@dataclass
class DatasetOutcome:
    """Runs and scores of every tracker on one dataset.

    Attributes
    ----------
    prepared : PreparedDataset
    summary : Summary
        :func:`dcfre.evaluation.report.summarize` of the trackers' results (names = specs).
    ran, skipped : int
        Sequence runs computed now and reused from disk.
    failed : dict
        ``(spec, sequence) -> message``.
    """

    prepared: PreparedDataset
    summary: Any
    ran: int
    skipped: int
    failed: dict


def run_dataset(prepared: PreparedDataset, specs, policy: str, workers: int = 1, scheduler=None,
                progress: bool = True) -> DatasetOutcome:
    """Run every spec on one dataset (resumable) and score the results under ``policy``."""
    from dcfre.evaluation import report
    from dcfre.evaluation.runner import run_experiment

    run = run_experiment(prepared.sequences, specs, prepared.results_dir, workers=workers, scheduler=scheduler,
                         progress=progress, raise_on_error=False)
    scored = {name: per_seq for name, per_seq in run.results.items() if per_seq}
    if not scored:
        first = next(iter(run.failed.values()), "no results")
        raise InputError(f"every run on {prepared.entry.label} failed, first: {first}")
    summary = report.summarize(prepared.sequences, scored, policy, allow_missing=bool(run.failed))
    return DatasetOutcome(prepared, summary, len(run.ran), len(run.skipped), dict(run.failed))


def relabel(summary, labels: dict):
    """A copy of ``summary`` whose trackers are named by ``labels`` (spec -> display label)."""
    trackers = {}
    for name, tracker in summary.trackers.items():
        label = labels.get(name, name)
        trackers[label] = dataclasses.replace(tracker, name=label)
    return dataclasses.replace(summary, trackers=trackers)


def longterm_scores_of(tracker_summary) -> dict:
    """``{'f_score', 'precision', 'recall'}`` of one :class:`~dcfre.evaluation.report.TrackerSummary`."""
    lt = tracker_summary.longterm
    return {"f_score": float(lt.f_score), "precision": float(lt.precision_at_best), "recall": float(lt.recall_at_best)}


def write_dataset_outputs(outcome: DatasetOutcome, folder, labels: dict, attributes=(), longterm: bool = False,
                          plots: bool = True) -> list[Path]:
    """Per-dataset report (``summary.*``) and figures in ``folder``; returns the written paths."""
    from dcfre.evaluation import plots as figures
    from dcfre.evaluation import report

    folder = Path(folder)
    paths = list(report.write_summary(outcome.summary, folder).values())
    if not plots:
        return paths
    named = relabel(outcome.summary, labels)
    title = outcome.prepared.entry.label
    paths += figures.plot_success(named, folder / "success", title=f"Success plot on {title}")
    paths += figures.plot_precision(named, folder / "precision", title=f"Precision plot on {title}")
    if attributes:
        paths += figures.plot_attribute_success(named, folder / "attributes", attributes)
    if longterm:
        paths += figures.plot_precision_recall(named, folder / "longterm_pr", title=f"Long-term Pr/Re on {title}")
        paths += figures.plot_f_curve(named, folder / "longterm_f", title=f"Long-term F on {title}")
    return paths


# ---------------------------------------------------------------------------------------------
# Table formatting (pure functions of numbers: testable on hand-made results)


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
    return [(dataset, [_percent(per_column.get(c)) for c in columns]) for dataset, per_column in scores.items()]


def table1_gains(scores: dict, columns) -> list[tuple[str, list[float]]]:
    """Gain of each column over the previous one, AUC points (Table 1's "+2.5 / +0.9" of the text)."""
    rows = []
    for dataset, per_column in scores.items():
        values = [_percent(per_column.get(c)) for c in columns]
        rows.append((dataset, [b - a for a, b in itertools.pairwise(values)]))
    return rows


def _percent(value) -> float:
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


def _csv_number(value, decimals: int = 4) -> str:
    return "" if value is None or not math.isfinite(float(value)) else f"{float(value):.{decimals}f}"


def _json_number(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------------------------------
# Shared run settings


@dataclass
class RunOptions:
    """Options shared by both scripts (their command-line arguments).

    Attributes
    ----------
    out_dir : Path
        Output folder (raw results in ``runs/``, tables and figures beside).
    root : path or None
        Dataset root; None runs the offline datasets.
    cache : path or None
        Synthetic suite cache folder.
    datasets : list of str or None
        Subset of the config's datasets (labels or names).
    workers : int
    scheduler : str or None
        Dask scheduler address.
    frames_scale : float or None
        None: the config's.
    seed : int or None
        None: the config's.
    max_frames, limit : int or None
    absent_policy : str or None
        None: the config's.
    plots, progress : bool
    command : str
        The command line, recorded in the JSON output.
    """

    out_dir: Path
    root: Any = None
    cache: Any = None
    datasets: list | None = None
    workers: int = 1
    scheduler: str | None = None
    frames_scale: float | None = None
    seed: int | None = None
    max_frames: int | None = None
    limit: int | None = None
    absent_policy: str | None = None
    plots: bool = True
    progress: bool = True
    command: str = ""


def _settings(config: ExperimentConfig, options: RunOptions) -> dict:
    return {
        "root": str(options.root) if options.root is not None else None,
        "offline": options.root is None,
        "frames_scale": options.frames_scale if options.frames_scale is not None else config.frames_scale,
        "seed": options.seed if options.seed is not None else config.seed,
        "max_frames": options.max_frames,
        "limit": options.limit,
        "workers": options.workers,
        "scheduler": options.scheduler,
    }


def _environment() -> dict:
    import numpy

    return {"python": platform.python_version(), "numpy": numpy.__version__, "host": platform.node(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def _prepare(config: ExperimentConfig, options: RunOptions) -> tuple[list[PreparedDataset], dict]:
    settings = _settings(config, options)
    entries = select_entries(config, options.root, options.datasets)
    prepared = prepare_datasets(entries, options.out_dir, root=options.root, cache=options.cache,
                                seed=settings["seed"], frames_scale=settings["frames_scale"],
                                max_frames=options.max_frames, limit=options.limit, jobs=options.workers)
    return prepared, settings


def _policy(config: ExperimentConfig, options: RunOptions) -> str:
    from dcfre.evaluation import metrics

    return metrics.check_policy(options.absent_policy or config.absent_policy)


def _dataset_record(outcome: DatasetOutcome, out_dir: Path) -> dict:
    prepared = outcome.prepared
    return {
        "label": prepared.entry.label,
        "dataset": prepared.entry.dataset,
        "sequences": len(prepared.sequences),
        "frames": prepared.frames,
        "absent_frames": outcome.summary.absent_frames,
        "attribute_counts": dict(outcome.summary.attribute_counts),
        "results_dir": _relative(prepared.results_dir, out_dir),
        "ran": outcome.ran,
        "reused": outcome.skipped,
        "failed": {f"{t} on {s}": m for (t, s), m in outcome.failed.items()},
    }


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(path).relative_to(base).as_posix()
    except ValueError:
        return str(path)


def _write_files(out_dir: Path, stem: str, markdown: str, csv_body: str, record: dict) -> dict[str, Path]:
    from dcfre.io import atomic_write_text

    paths = {"md": out_dir / f"{stem}.md", "csv": out_dir / f"{stem}.csv", "json": out_dir / f"{stem}.json"}
    atomic_write_text(paths["md"], markdown)
    atomic_write_text(paths["csv"], csv_body)
    atomic_write_text(paths["json"], json.dumps(record, indent=2, allow_nan=False) + "\n")
    return paths


def _policy_line(policy: str) -> str:
    from dcfre.evaluation.report import POLICY_TEXT

    return f"Absent-target policy: **{policy}** - {POLICY_TEXT[policy]}."


def _data_line(settings: dict) -> str:
    source = f"datasets under {settings['root']}" if settings["root"] else "offline synthetic datasets"
    parts = [f"Data: {source}", f"seed {settings['seed']}", f"frames_scale {settings['frames_scale']:g}"]
    if settings["max_frames"]:
        parts.append(f"first {settings['max_frames']} frames per sequence")
    if settings["limit"]:
        parts.append(f"first {settings['limit']} sequences per dataset")
    return "; ".join(parts) + "."


# ---------------------------------------------------------------------------------------------
# Table 1


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
        ``'md'``, ``'csv'``, ``'json'`` -> Path.
    """

    scores: dict
    record: dict
    markdown: str
    paths: dict


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
    policy = _policy(config, options)
    out_dir = Path(options.out_dir)
    prepared, settings = _prepare(config, options)
    columns = list(config.modes.values())
    labels = {spec: config.label_of(spec) for spec in specs}

    scores = {p: {} for p in presets}
    details = {p: {} for p in presets}
    datasets = []
    for item in prepared:
        outcome = run_dataset(item, specs, policy, options.workers, options.scheduler, options.progress)
        folder = out_dir / "table1" / slug(item.entry.label)
        write_dataset_outputs(outcome, folder, labels, config.attributes, longterm=False, plots=options.plots)
        record = _dataset_record(outcome, out_dir)
        record["report_dir"] = _relative(folder, out_dir)
        datasets.append(record)
        for preset in presets:
            per_mode, detail = {}, {}
            for mode, column in config.modes.items():
                tracker = outcome.summary.trackers.get(f"{preset}:{mode}")
                per_mode[column] = None if tracker is None else float(tracker.auc)
                detail[column] = _table1_detail(tracker, config.attributes)
            scores[preset][item.entry.label] = per_mode
            details[preset][item.entry.label] = detail

    markdown = table1_markdown(config, scores, columns, settings, policy, datasets,
                               attribute_rows(details, columns, config.attributes))
    record = {
        "experiment": "table1",
        "title": config.title,
        "metric": "success AUC (fraction; the tables print percent)",
        "auc_convention": "mean over sequences of the per-sequence AUC (mean of the 21-threshold success curve)",
        "absent_policy": policy,
        "absent_policy_description": _policy_text(policy),
        "columns": columns,
        "modes": dict(config.modes),
        "presets": presets,
        "settings": settings,
        "command": options.command,
        "environment": _environment(),
        "datasets": datasets,
        "auc": {p: {d: {c: _json_number(v) for c, v in row.items()} for d, row in per.items()}
                for p, per in scores.items()},
        "details": details,
        "paper": config.paper,
    }
    csv_rows = []
    for preset in presets:
        for dataset in datasets:
            row = scores[preset][dataset["label"]]
            csv_rows.append([preset, dataset["label"]] + [_csv_number(_percent(row[c]), 2) for c in columns]
                            + [dataset["sequences"], dataset["frames"], policy])
    body = csv_text(["preset", "dataset"] + [f"{c} AUC (%)" for c in columns] + ["sequences", "frames", "absent_policy"],
                    csv_rows)
    paths = _write_files(out_dir, "table1", markdown, body, record)
    return Table1Result(scores, record, markdown, paths)


def _policy_text(policy: str) -> str:
    from dcfre.evaluation.report import POLICY_TEXT

    return POLICY_TEXT[policy]


def _table1_detail(tracker, attributes) -> dict | None:
    if tracker is None:
        return None
    return {
        "auc": _json_number(tracker.auc),
        "dp20": _json_number(tracker.dp20),
        "fps": _json_number(tracker.fps),
        "f_score": _json_number(tracker.longterm.f_score),
        "frames": tracker.frames,
        "sequences": len(tracker.sequences),
        "missing": list(tracker.missing),
        "attributes": {a: {"n": s.n, "auc": _json_number(s.auc)} for a, s in tracker.attributes.items()
                       if a in attributes},
    }


def table1_markdown(config: ExperimentConfig, scores: dict, columns, settings: dict, policy: str,
                    datasets: list, attributes: list | None = None) -> str:
    """The whole ``table1.md``: settings, one Table 1 per preset, gains, attribute AUCs, the paper's table."""
    parts = [f"# {config.title}", "", _policy_line(policy), "", _data_line(settings), "",
             ("Success AUC (%) = mean over sequences of the per-sequence area under the success curve "
              "(21 IoU thresholds). Every parameter is the preset's, fixed for all sequences and datasets."), ""]
    for preset, per_dataset in scores.items():
        parts += [f"## {preset}", "", format_table1(per_dataset, columns), "",
                  "Gain over the previous column (AUC points):", "",
                  markdown_table("Dataset", columns[1:], table1_gains(per_dataset, columns), TABLE1_DECIMALS), ""]
    if attributes:
        parts += ["## Attributes (paper Fig. 6): success AUC (%) over the sequences with the flag", "",
                  markdown_table("Preset / dataset / attribute (n)", columns, attributes, TABLE1_DECIMALS), ""]
    parts += ["## Datasets", "", "| Dataset | Sequences | Frames | Absent frames | Runs computed | Runs reused | Failed |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for d in datasets:
        parts.append(f"| {d['label']} | {d['sequences']} | {d['frames']} | {d['absent_frames']} | {d['ran']} | "
                     f"{d['reused']} | {len(d['failed'])} |")
    if config.paper:
        paper_scores = {d: dict(zip(columns, [v / 100.0 for v in values])) for d, values in config.paper.items()}
        parts += ["", "## Paper (Table 1, UPDT with ResNet-50 features, MATLAB)", "",
                  format_table1(paper_scores, columns)]
    return "\n".join(parts) + "\n"


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
                values = [_percent(f["auc"]) if f and f["auc"] is not None else math.nan for f in found]
                rows.append((f"{preset} / {dataset} / {attribute} ({n})", values))
    return rows


# ---------------------------------------------------------------------------------------------
# Table 2


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
    """

    scores: dict
    record: dict
    markdown: str
    paths: dict


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
    policy = _policy(config, options)
    out_dir = Path(options.out_dir)
    prepared, settings = _prepare(config, options)

    scores, details, datasets = {}, {}, []
    for item in prepared:
        outcome = run_dataset(item, specs, policy, options.workers, options.scheduler, options.progress)
        folder = out_dir / "table2" / slug(item.entry.label)
        write_dataset_outputs(outcome, folder, labels, (), longterm=True, plots=options.plots)
        record = _dataset_record(outcome, out_dir)
        record["report_dir"] = _relative(folder, out_dir)
        datasets.append(record)
        per_tracker, detail = {}, {}
        for spec in specs:
            tracker = outcome.summary.trackers.get(spec)
            if tracker is None:
                per_tracker[labels[spec]] = {"f_score": None, "precision": None, "recall": None}
                continue
            per_tracker[labels[spec]] = longterm_scores_of(tracker)
            detail[labels[spec]] = {"spec": spec, "auc": _json_number(tracker.auc), "fps": _json_number(tracker.fps),
                                    "frames": tracker.frames, "missing": list(tracker.missing)}
        scores[item.entry.label] = per_tracker
        details[item.entry.label] = detail

    markdown = table2_markdown(config, scores, settings, policy, datasets)
    record = {
        "experiment": "table2",
        "title": config.title,
        "metric": "long-term tracking F-score with Pr and Re at the F-maximizing threshold (LTB35 protocol)",
        "protocol": ("Pr(tau), Re(tau) averaged over sequences at each confidence threshold tau, F = 2 Pr Re / (Pr + Re), "
                     "F-score = max over tau; IoU 0 where exactly one of prediction and ground truth is empty"),
        "absent_policy": policy,
        "absent_policy_description": _policy_text(policy) + " (AUC in 'details' only; F/Pr/Re do not depend on it)",
        "trackers": labels,
        "settings": settings,
        "command": options.command,
        "environment": _environment(),
        "datasets": datasets,
        "scores": {d: {t: {k: _json_number(v) for k, v in s.items()} for t, s in per.items()}
                   for d, per in scores.items()},
        "order": {d: table2_order(per) for d, per in scores.items()},
        "details": details,
        "paper": config.paper,
    }
    csv_rows = []
    for dataset, per_tracker in scores.items():
        for label in table2_order(per_tracker):
            s = per_tracker[label]
            spec = next(k for k, v in labels.items() if v == label)
            csv_rows.append([dataset, label, spec] + [_csv_number(s[k]) for _, k in TABLE2_ROWS])
    body = csv_text(["dataset", "tracker", "spec", "f_score", "precision", "recall"], csv_rows)
    paths = _write_files(out_dir, "table2", markdown, body, record)
    return Table2Result(scores, record, markdown, paths)


def table2_markdown(config: ExperimentConfig, scores: dict, settings: dict, policy: str, datasets: list) -> str:
    """The whole ``table2.md``: settings, one Table 2 per dataset, dataset sizes, the paper's row."""
    parts = [f"# {config.title}", "",
             _data_line(settings), "",
             ("LTB35 protocol: the prediction of a frame counts at threshold tau when the tracker reports the "
              "target present with confidence >= tau; Pr and Re are averaged over sequences, F = 2 Pr Re / (Pr + Re) "
              "and the F-score is its maximum over tau (Pr and Re given at that threshold). Trackers sorted by "
              "F-score, best last (the paper's order). Every parameter is the preset's, fixed for all sequences."), ""]
    for dataset, per_tracker in scores.items():
        parts += [f"## {dataset}", "", format_table2(per_tracker), ""]
    parts += ["## Datasets", "", "| Dataset | Sequences | Frames | Absent frames | Runs computed | Runs reused | Failed |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for d in datasets:
        parts.append(f"| {d['label']} | {d['sequences']} | {d['frames']} | {d['absent_frames']} | {d['ran']} | "
                     f"{d['reused']} | {len(d['failed'])} |")
    if config.paper:
        names = list(config.paper)
        parts += ["", "## Paper (Table 2, LTB35)", "",
                  markdown_table("", names, [("F-score", [config.paper[n] for n in names])], 2)]
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------------
# Command-line helpers shared by scripts/reproduce_table1.py and scripts/table2_ltb35.py


def comma_list(text: str) -> list[str]:
    """argparse type: a non-empty comma-separated list."""
    import argparse

    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def _positive(kind):
    import argparse

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse


def add_common_arguments(parser, default_config: Path) -> None:
    """Options shared by both scripts (see :class:`RunOptions`)."""
    parser.add_argument("--config", default=str(default_config),
                        help="experiment config JSON (default: %(default)s)")
    parser.add_argument("--root", default=None,
                        help="dataset root; without it the offline synthetic datasets of the config are used")
    parser.add_argument("--out", default="results",
                        help="output folder: raw results in OUT/runs (resumable), tables and figures beside "
                             "(default: ./results, git-ignored in the repository)")
    parser.add_argument("--cache", default=None,
                        help="synthetic suite cache folder (default: $DCFRE_CACHE or ~/.cache/dcfre)")
    parser.add_argument("--datasets", type=comma_list, default=None,
                        help="subset of the config's datasets, by label or name (e.g. synth-lt)")
    parser.add_argument("--workers", type=_positive(int), default=1, help="local worker processes (default 1)")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address tcp://host:port (overrides --workers)")
    parser.add_argument("--frames-scale", type=_positive(float), default=None,
                        help="synthetic suites: length scale of the generated sequences (config default 1.0); "
                             "real datasets: keep this fraction of each sequence's first frames")
    parser.add_argument("--seed", type=int, default=None, help="synthetic suite seed (config default 0)")
    parser.add_argument("--max-frames", type=_positive(int), default=None,
                        help="track only the first N frames of each sequence")
    parser.add_argument("--limit", type=_positive(int), default=None,
                        help="use only the first N sequences of each dataset")
    parser.add_argument("--absent", choices=("exclude", "failure"), default=None,
                        help="absent-target frames in the success AUC: count them as failures (config default "
                             "for Table 1, the UAV123 toolkit's convention) or exclude them")
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def options_from_args(args, command: str) -> RunOptions:
    """:class:`RunOptions` from the parsed common arguments."""
    return RunOptions(
        out_dir=Path(args.out),
        root=args.root,
        cache=args.cache,
        datasets=args.datasets,
        workers=args.workers,
        scheduler=args.scheduler,
        frames_scale=args.frames_scale,
        seed=args.seed,
        max_frames=args.max_frames,
        limit=args.limit,
        absent_policy=args.absent,
        plots=not args.no_plots,
        progress=not args.quiet,
        command=command,
    )


def command_line(script: str, argv) -> str:
    """The command that ran, for the JSON record."""
    import shlex

    return shlex.join(["python", script] + list(argv))


def run_script(name: str, parser, run, argv=None) -> int:
    """Shared ``main`` of the table scripts: parse, run, print the table and where files went.

    ``run(config, options, args)`` returns a Table1Result/Table2Result. Exit code 0 when every run
    succeeded, 1 when some failed (the rest is still reported), 2 on bad input.
    """
    import sys

    from dcfre.errors import DcfreError

    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        options = options_from_args(args, command_line(f"scripts/{name}.py", argv))
        result = run(config, options, args)
    except DcfreError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    print(result.markdown)
    for kind, path in result.paths.items():
        print(f"{kind}: {path}")
    failed = sum(len(d["failed"]) for d in result.record["datasets"])
    if failed:
        print(f"{name}: {failed} run(s) failed (see the JSON record)", file=sys.stderr)
    return 1 if failed else 0
