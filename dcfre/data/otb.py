"""OTB-2013/OTB-100 layout: ``<Seq>/img/*.jpg`` + ``<Seq>/groundtruth_rect.txt``.

A folder with several targets has ``groundtruth_rect.1.txt``, ``groundtruth_rect.2.txt``, ...
(Jogging, Skating2, Human4): each becomes its own sequence named ``<Seq>.<N>``. Empty
ground-truth files (Human4 ships one) are skipped. Frames are the images of ``img/`` in natural
order (a few sequences start at another number than 1, e.g. BlurCar1 at 0247.jpg).

Five OTB sequences have fewer boxes than images; the benchmark's own configuration gives the
frame range the boxes belong to (:data:`OTB_FRAME_RANGES`).
"""

from __future__ import annotations

import re
from pathlib import Path

from dcfre.data._files import list_images, natural_key
from dcfre.data.annotations import read_groundtruth
from dcfre.data.sequence import Sequence
from dcfre.errors import DatasetError

#: OTB sequences whose annotation covers only part of ``img/``: name -> (first, last) image,
#: 1-based inclusive positions in the sorted image list (OTB benchmark configuration).
OTB_FRAME_RANGES = {
    "David": (300, 770),
    "Diving": (1, 215),
    "Football1": (1, 74),
    "Freeman3": (1, 460),
    "Freeman4": (1, 283),
}

_GROUNDTRUTH_NAME = re.compile(r"^groundtruth_rect(?:\.(\d+))?\.txt$")


def otb_groundtruth_files(folder: Path) -> list[tuple[str, Path]]:
    """Non-empty OTB ground-truth files of a sequence folder as ``(suffix, path)``.

    ``suffix`` is ``""`` for ``groundtruth_rect.txt`` and ``".N"`` for ``groundtruth_rect.N.txt``.
    """
    found = []
    for path in Path(folder).iterdir():
        match = _GROUNDTRUTH_NAME.match(path.name)
        if match and path.is_file() and path.stat().st_size > 0:
            suffix = f".{match.group(1)}" if match.group(1) else ""
            found.append((suffix, path))
    return sorted(found, key=lambda item: natural_key(item[1].name))


def read_otb_folder(folder: str | Path) -> list[Sequence]:
    """All sequences (one per ground-truth file) of one OTB sequence folder.

    Raises
    ------
    DatasetError
        No ``img/`` images, no ground truth, or a box count that matches neither the image
        count nor a known frame range.
    """
    folder = Path(folder)
    frames = list_images(folder / "img")
    if not frames:
        raise DatasetError(f"{folder}: no images in img/")
    gt_files = otb_groundtruth_files(folder)
    if not gt_files:
        raise DatasetError(f"{folder}: no groundtruth_rect.txt or groundtruth_rect.N.txt")
    sequences = []
    for suffix, gt_path in gt_files:
        groundtruth = read_groundtruth(gt_path)
        seq_frames = _frames_for_groundtruth(folder.name, frames, len(groundtruth), gt_path)
        sequences.append(Sequence(name=folder.name + suffix, frames=seq_frames, groundtruth=groundtruth))
    return sequences


def load_otb(root: str | Path, names: list[str] | None = None) -> list[Sequence]:
    """Load every OTB sequence folder directly under ``root``.

    Parameters
    ----------
    root : str or Path
        Folder holding ``<Seq>/img/`` + ``<Seq>/groundtruth_rect*.txt`` sub-folders. Other
        sub-folders (without ``img/`` and ground truth) are ignored.
    names : list of str, optional
        Keep only these sequence names (``Jogging.1`` or the folder name ``Jogging`` for all
        its targets). Unknown names raise.

    Returns
    -------
    list of Sequence
        Sorted by name, frame paths and (N, 4) float64 ground truth (1-based OTB boxes).
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"OTB root not found: {root}")
    folders = sorted(
        (p for p in root.iterdir() if p.is_dir() and (p / "img").is_dir()), key=lambda p: natural_key(p.name)
    )
    sequences = [seq for folder in folders if otb_groundtruth_files(folder) for seq in read_otb_folder(folder)]
    if not sequences:
        raise DatasetError(f"{root}: no OTB sequence folders (<Seq>/img/ + <Seq>/groundtruth_rect.txt)")
    return _select(sequences, names, root)


def _frames_for_groundtruth(name: str, frames: list[Path], n_boxes: int, gt_path: Path) -> list[Path]:
    if n_boxes == len(frames):
        return frames
    if name in OTB_FRAME_RANGES:
        first, last = OTB_FRAME_RANGES[name]
        if last - first + 1 == n_boxes and last <= len(frames):
            return frames[first - 1 : last]
    raise DatasetError(f"{gt_path}: {n_boxes} boxes for {len(frames)} images in {gt_path.parent / 'img'}")


def _select(sequences: list[Sequence], names: list[str] | None, root: Path) -> list[Sequence]:
    if names is None:
        return sequences
    wanted = set(names)
    kept = [s for s in sequences if s.name in wanted or s.name.split(".")[0] in wanted]
    found = {s.name for s in kept} | {s.name.split(".")[0] for s in kept}
    missing = sorted(wanted - found)
    if missing:
        raise DatasetError(f"{root}: sequence(s) not found: {', '.join(missing)}")
    return kept
