"""Experiment configs: which trackers, datasets and policy a Table 1 / Table 2 run uses (JSON files)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dcfre.errors import InputError

#: Experiments a config can describe.
EXPERIMENTS = ("table1", "table2")

_CONFIG_KEYS = {
    "experiment", "title", "description", "presets", "modes", "trackers", "datasets", "absent_policy",
    "attributes", "synthetic", "paper",
}



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
