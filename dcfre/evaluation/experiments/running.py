"""Running an experiment's trackers on one dataset, scoring them and recording the settings."""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dcfre.errors import InputError
from dcfre.evaluation.experiments.config import ExperimentConfig
from dcfre.evaluation.experiments.datasets import PreparedDataset, prepare_datasets, select_entries


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


def run_settings(config: ExperimentConfig, options: RunOptions) -> dict:
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


def environment() -> dict:
    import numpy

    return {"python": platform.python_version(), "numpy": numpy.__version__, "host": platform.node(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def prepare(config: ExperimentConfig, options: RunOptions) -> tuple[list[PreparedDataset], dict]:
    settings = run_settings(config, options)
    entries = select_entries(config, options.root, options.datasets)
    prepared = prepare_datasets(entries, options.out_dir, root=options.root, cache=options.cache,
                                seed=settings["seed"], frames_scale=settings["frames_scale"],
                                max_frames=options.max_frames, limit=options.limit, jobs=options.workers)
    return prepared, settings


def resolve_policy(config: ExperimentConfig, options: RunOptions) -> str:
    from dcfre.evaluation import metrics

    return metrics.check_policy(options.absent_policy or config.absent_policy)


def dataset_record(outcome: DatasetOutcome, out_dir: Path) -> dict:
    prepared = outcome.prepared
    return {
        "label": prepared.entry.label,
        "dataset": prepared.entry.dataset,
        "sequences": len(prepared.sequences),
        "frames": prepared.frames,
        "absent_frames": outcome.summary.absent_frames,
        "attribute_counts": dict(outcome.summary.attribute_counts),
        "results_dir": relative_path(prepared.results_dir, out_dir),
        "ran": outcome.ran,
        "reused": outcome.skipped,
        "failed": {f"{t} on {s}": m for (t, s), m in outcome.failed.items()},
    }


def relative_path(path: Path, base: Path) -> str:
    try:
        return Path(path).relative_to(base).as_posix()
    except ValueError:
        return str(path)


def write_table_files(out_dir: Path, stem: str, markdown: str, csv_body: str, record: dict,
                      events_csv: str | None = None) -> dict[str, Path]:
    """Write ``STEM.md``, ``STEM.csv``, ``STEM.json`` and (if given) ``STEM_events.csv``; returns their paths."""
    from dcfre.io import atomic_write_text

    paths = {"md": out_dir / f"{stem}.md", "csv": out_dir / f"{stem}.csv", "json": out_dir / f"{stem}.json"}
    atomic_write_text(paths["md"], markdown)
    atomic_write_text(paths["csv"], csv_body)
    atomic_write_text(paths["json"], json.dumps(record, indent=2, allow_nan=False) + "\n")
    if events_csv is not None:
        paths["events_csv"] = out_dir / f"{stem}_events.csv"
        atomic_write_text(paths["events_csv"], events_csv)
    return paths
