"""Sequence folders in the common on-disk layouts, and datasets made of such folders.

A *sequence folder* is recognised in one of these layouts (checked in this order):

===========  =====================================  ==============================================
kind         frames                                 ground truth
===========  =====================================  ==============================================
``otb``      ``img/*`` images                       ``groundtruth_rect.txt`` / ``groundtruth_rect.N.txt``
``plain``    ``img/*`` images                       ``groundtruth.txt``
``vot``      ``color/*`` images, else root images   ``groundtruth.txt``
``frames``   ``img/``, ``color/`` or root images    none (a bare folder of frames)
===========  =====================================  ==============================================

Images are taken in natural order (``2.jpg`` before ``10.jpg``). Optional per-sequence
attributes come from ``attributes.txt`` (one line of 12 UAV123 flags) or from an
``"attributes"`` mapping in ``meta.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dcfre.data._files import list_images, natural_key
from dcfre.data.annotations import read_groundtruth, read_uav123_attributes
from dcfre.data.otb import otb_groundtruth_files, read_otb_folder
from dcfre.data.sequence import Sequence
from dcfre.errors import DatasetError

PLAIN_GROUNDTRUTH = "groundtruth.txt"
ATTRIBUTES_FILE = "attributes.txt"
META_FILE = "meta.json"


@dataclass(frozen=True)
class SequenceLayout:
    """Where the frames and the ground truth of one sequence folder are.

    Attributes
    ----------
    kind : str
        ``"otb"``, ``"plain"``, ``"vot"`` or ``"frames"`` (see the module docstring).
    folder : Path
        The sequence folder.
    frames : list of Path
        Frame images in natural order (never empty).
    groundtruth : Path or None
        The (first) ground-truth file; None for a bare folder of frames.
    """

    kind: str
    folder: Path
    frames: list[Path]
    groundtruth: Path | None


def detect_layout(folder: str | Path) -> SequenceLayout:
    """Recognise the layout of one sequence folder.

    Raises
    ------
    DatasetError
        Missing folder, empty folder, or no images in ``img/``, ``color/`` or the folder itself.
    """
    folder = Path(folder)
    if not folder.exists():
        raise DatasetError(f"folder not found: {folder}")
    if not folder.is_dir():
        raise DatasetError(f"not a folder: {folder}")
    plain_gt = folder / PLAIN_GROUNDTRUTH
    plain_gt = plain_gt if plain_gt.is_file() else None
    img_frames = list_images(folder / "img")
    if img_frames:
        otb_files = otb_groundtruth_files(folder)
        if otb_files:
            return SequenceLayout("otb", folder, img_frames, otb_files[0][1])
        return SequenceLayout("plain" if plain_gt else "frames", folder, img_frames, plain_gt)
    frames = list_images(folder / "color") or list_images(folder)
    if frames:
        return SequenceLayout("vot" if plain_gt else "frames", folder, frames, plain_gt)
    if not any(folder.iterdir()):
        raise DatasetError(f"empty folder: {folder}")
    raise DatasetError(f"no images in {folder} (looked in img/, color/ and the folder itself)")


def read_sequence_folder(folder: str | Path) -> list[Sequence]:
    """Read one sequence folder with ground truth (several sequences for multi-target OTB folders).

    Raises
    ------
    DatasetError
        Unrecognised layout, no ground truth, or as many boxes as frames not given.
    """
    layout = detect_layout(folder)
    if layout.kind == "otb":
        return read_otb_folder(layout.folder)
    if layout.groundtruth is None:
        raise DatasetError(f"{layout.folder}: no ground truth ({PLAIN_GROUNDTRUTH} or groundtruth_rect.txt)")
    groundtruth = read_groundtruth(layout.groundtruth)
    if len(groundtruth) != len(layout.frames):
        raise DatasetError(f"{layout.groundtruth}: {len(groundtruth)} boxes for {len(layout.frames)} frames")
    attributes = read_folder_attributes(layout.folder)
    return [Sequence(name=layout.folder.name, frames=layout.frames, groundtruth=groundtruth, attributes=attributes)]


def read_folder_attributes(folder: str | Path) -> dict[str, bool]:
    """Attributes of a sequence folder from ``attributes.txt`` or ``meta.json`` (empty if neither)."""
    folder = Path(folder)
    if (folder / ATTRIBUTES_FILE).is_file():
        return read_uav123_attributes(folder / ATTRIBUTES_FILE)
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        return {}
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {meta_path}: {exc}") from None
    attributes = meta.get("attributes") if isinstance(meta, dict) else None
    if isinstance(attributes, dict):
        return {str(name): bool(value) for name, value in attributes.items()}
    return {}


def load_folder(root: str | Path) -> list[Sequence]:
    """Load every sequence folder directly under ``root`` (any layout of :func:`detect_layout`).

    ``root`` may also be a single sequence folder. Hidden folders (names starting with ``.``,
    e.g. unfinished synthetic sequences) and folders without any image are skipped; a folder
    with images but no ground truth raises, since it cannot be evaluated.

    Returns
    -------
    list of Sequence
        In natural order of folder names.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder not found: {root}")
    if _is_sequence_folder(root):
        return read_sequence_folder(root)
    sequences = []
    for folder in sorted(root.iterdir(), key=lambda p: natural_key(p.name)):
        if folder.is_dir() and not folder.name.startswith(".") and _has_images(folder):
            sequences.extend(read_sequence_folder(folder))
    if not sequences:
        raise DatasetError(f"{root}: no sequence folders (<name>/img/ + <name>/groundtruth.txt or similar)")
    return sequences


def _has_images(folder: Path) -> bool:
    return bool(list_images(folder / "img") or list_images(folder / "color") or list_images(folder))


def _is_sequence_folder(folder: Path) -> bool:
    try:
        return detect_layout(folder).groundtruth is not None
    except DatasetError:
        return False
