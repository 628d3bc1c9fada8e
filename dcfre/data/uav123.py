"""UAV123, UAV20L and UAV-Human (the 45 person/group tracks of UAV123).

Layout of the dataset as distributed (``root`` may be the folder holding ``data_seq/`` and
``anno/``, or its parent holding ``UAV123/``)::

    data_seq/UAV123/<folder>/000001.jpg ...   frames, %06d.jpg, 1-based
    anno/UAV123/<track>.txt                   x,y,w,h per frame (1-based), NaN rows when absent
    anno/UAV123/att/<track>.txt               12 attribute flags (SV ARC LR FM FOC POC OV BC IV VC CM SOB)
    anno/UAV20L/<track>.txt                   the 20 long sequences (att/ beside them if present)

123 UAV123 tracks live in 91 folders: a split track (``bird1_2``) is a frame range of its folder
(``bird1``, frames 775-1477). The ranges come from the package data table ``uav123_tracks.csv``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from dcfre.data.annotations import read_groundtruth, read_uav123_attributes
from dcfre.data.sequence import Sequence
from dcfre.errors import DatasetError

#: UAV123 tracks that were rendered by a simulator; excluded from UAV-Human.
SIMULATOR_TRACKS = frozenset({"person1_s", "person2_s", "person3_s"})
_FRAME_PATTERN = "{:06d}.jpg"


@dataclass(frozen=True)
class Track:
    """One row of the track table: a named frame range of an image folder (1-based, inclusive)."""

    subset: str
    name: str
    folder: str
    first: int
    last: int

    @property
    def n_frames(self) -> int:
        return self.last - self.first + 1


@lru_cache(maxsize=1)
def track_table() -> tuple[Track, ...]:
    """All UAV123 and UAV20L tracks from the package data ``uav123_tracks.csv``."""
    text = resources.files("dcfre.data").joinpath("uav123_tracks.csv").read_text(encoding="utf-8")
    rows = csv.reader(line for line in io.StringIO(text) if line.strip() and not line.startswith("#"))
    return tuple(Track(subset, name, folder, int(first), int(last)) for subset, name, folder, first, last in rows)


def uav_human_names() -> list[str]:
    """The 45 UAV-Human tracks: UAV123 ``person*`` and ``group*`` without the simulator tracks."""
    return [
        t.name
        for t in track_table()
        if t.subset == "UAV123" and t.name.startswith(("person", "group")) and t.name not in SIMULATOR_TRACKS
    ]


def load_uav123(root: str | Path, names: list[str] | None = None) -> list[Sequence]:
    """Load the 123 UAV123 tracks (or the given subset ``names``), in table order."""
    return _load_subset(root, "UAV123", names)


def load_uav20l(root: str | Path, names: list[str] | None = None) -> list[Sequence]:
    """Load the 20 UAV20L long-term tracks (frames from ``data_seq/UAV123``, boxes from ``anno/UAV20L``)."""
    return _load_subset(root, "UAV20L", names)


def load_uav_human(root: str | Path) -> list[Sequence]:
    """Load the 45 UAV-Human tracks (see :func:`uav_human_names`)."""
    return _load_subset(root, "UAV123", uav_human_names())


def resolve_root(root: str | Path) -> Path:
    """The folder holding ``data_seq/`` and ``anno/`` (accepts its parent ``.../UAV123`` too)."""
    root = Path(root)
    for candidate in (root, root / "UAV123", root / "Dataset_UAV123" / "UAV123"):
        if (candidate / "data_seq").is_dir() and (candidate / "anno").is_dir():
            return candidate
    raise DatasetError(f"{root}: not a UAV123 root (expected data_seq/UAV123/ and anno/UAV123/ inside)")


def _load_subset(root: str | Path, subset: str, names: list[str] | None) -> list[Sequence]:
    base = resolve_root(root)
    tracks = [t for t in track_table() if t.subset == subset]
    if names is not None:
        known = {t.name for t in tracks}
        unknown = sorted(set(names) - known)
        if unknown:
            raise DatasetError(f"unknown {subset} track(s): {', '.join(unknown)}")
        wanted = set(names)
        tracks = [t for t in tracks if t.name in wanted]
    return [_load_track(base, subset, track) for track in tracks]


def _load_track(base: Path, subset: str, track: Track) -> Sequence:
    folder = base / "data_seq" / "UAV123" / track.folder
    frames = [folder / _FRAME_PATTERN.format(i) for i in range(track.first, track.last + 1)]
    for frame in (frames[0], frames[-1]):
        if not frame.is_file():
            raise DatasetError(f"{subset} track {track.name}: frame not found: {frame}")
    anno_dir = base / "anno" / subset
    groundtruth = read_groundtruth(anno_dir / f"{track.name}.txt")
    if len(groundtruth) != track.n_frames:
        raise DatasetError(
            f"{anno_dir / (track.name + '.txt')}: {len(groundtruth)} boxes, but track {track.name} "
            f"has {track.n_frames} frames ({track.folder} {track.first}-{track.last})"
        )
    att_path = anno_dir / "att" / f"{track.name}.txt"
    attributes = read_uav123_attributes(att_path) if att_path.is_file() else {}
    return Sequence(name=track.name, frames=frames, groundtruth=groundtruth, attributes=attributes)
