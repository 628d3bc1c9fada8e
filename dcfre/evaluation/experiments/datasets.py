"""The sequences of an experiment's datasets: selection, loading, truncation and results folders."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from dcfre.errors import InputError
from dcfre.evaluation.experiments.config import DatasetEntry, ExperimentConfig

#: Dataset names whose results folder is another dataset's (same sequences, same names).
SHARED_RESULTS = {"uav-human": "uav123"}
#: Synthetic suites (generated on first use).
SYNTHETIC = ("synth-lt", "synth-human")


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
