"""LTB35 (VOT-LT2018 long-term benchmark): 35 sequences in the VOT layout.

Each sequence folder holds ``groundtruth.txt`` (``x,y,w,h`` per frame, ``nan`` rows while the
target is absent; 8-number polygons are accepted too) and its frames, either in ``color/%08d.jpg``
or directly in the folder. Per-frame VOT tag files (``*.tag``/``*.label``, one 0/1 per frame)
become sequence attributes that are True when any frame is tagged.
"""

from __future__ import annotations

from pathlib import Path

from dcfre.data.annotations import read_frame_flags, read_groundtruth
from dcfre.data.folder import detect_layout
from dcfre.data.sequence import Sequence
from dcfre.errors import DatasetError

#: The 35 LTB35 sequences (VOT-LT2018).
LTB35_SEQUENCES = (
    "ballet", "bicycle", "bike1", "bird1", "car1", "car3", "car6", "car8", "car9", "car16",
    "carchase", "cat1", "cat2", "dragon", "following", "freestyle", "group1", "group2", "group3",
    "liverRun", "longboard", "nissan", "person2", "person4", "person5", "person7", "person14",
    "person17", "person19", "person20", "rollerman", "skiing", "tightrope", "uav1", "yamaha",
)  # fmt: skip
_LIST_FILE = "list.txt"
_TAG_SUFFIXES = (".tag", ".label")


def load_ltb35(root: str | Path, names: list[str] | None = None) -> list[Sequence]:
    """Load the LTB35 sequences under ``root``.

    Parameters
    ----------
    root : str or Path
        Folder holding one sub-folder per sequence.
    names : list of str, optional
        Sequences to load; default: the names in ``root/list.txt`` if present, else
        :data:`LTB35_SEQUENCES`.

    Raises
    ------
    DatasetError
        Missing root or sequence folders (all missing names are listed), frame/box count mismatch.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"LTB35 root not found: {root}")
    names = list(names) if names is not None else _default_names(root)
    missing = [name for name in names if not (root / name).is_dir()]
    if missing:
        raise DatasetError(f"{root}: LTB35 sequence folder(s) not found: {', '.join(missing)}")
    return [read_vot_sequence(root / name) for name in names]


def read_vot_sequence(folder: str | Path) -> Sequence:
    """One VOT-layout sequence folder (``groundtruth.txt`` + ``color/`` or root images)."""
    layout = detect_layout(folder)
    if layout.groundtruth is None or layout.kind not in ("vot", "plain"):
        raise DatasetError(f"{layout.folder}: expected groundtruth.txt and color/ (or images) in VOT layout")
    groundtruth = read_groundtruth(layout.groundtruth)
    if len(groundtruth) != len(layout.frames):
        raise DatasetError(f"{layout.groundtruth}: {len(groundtruth)} boxes for {len(layout.frames)} frames")
    return Sequence(
        name=layout.folder.name, frames=layout.frames, groundtruth=groundtruth, attributes=_read_tags(layout.folder)
    )


def _default_names(root: Path) -> list[str]:
    list_file = root / _LIST_FILE
    if list_file.is_file():
        names = [line.strip() for line in list_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        if names:
            return names
    return list(LTB35_SEQUENCES)


def _read_tags(folder: Path) -> dict[str, bool]:
    tags = sorted(p for p in folder.iterdir() if p.suffix in _TAG_SUFFIXES and p.is_file())
    return {p.stem: bool(read_frame_flags(p).any()) for p in tags}
