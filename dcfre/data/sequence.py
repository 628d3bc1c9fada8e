"""The one sequence type every loader returns and every runner consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

#: The 12 UAV123 attribute flags, in the order of the dataset's ``att/<seq>.txt`` files.
UAV123_ATTRIBUTES = ("SV", "ARC", "LR", "FM", "FOC", "POC", "OV", "BC", "IV", "VC", "CM", "SOB")


@dataclass
class Sequence:
    """A tracking sequence: frames, per-frame ground truth and attributes.

    Attributes
    ----------
    name : str
        Unique name inside its dataset (used as the results file name).
    frames : list of Path
        Frame image files in temporal order. Empty when ``video`` is set.
    groundtruth : ndarray, shape (N, 4), float64
        ``x, y, w, h`` per frame in the dataset's own pixel convention (1-based top-left for
        OTB/UAV123). A row of NaN marks a frame where the target is absent.
    attributes : dict of str to bool
        Challenge flags (for UAV123 the 12 flags of :data:`UAV123_ATTRIBUTES`).
    video : Path or None
        A video file holding the frames instead of ``frames``.
    init_box : ndarray, shape (4,), or None
        Box to initialize on the first frame; defaults to the first ground-truth row.
    """

    name: str
    frames: list[Path]
    groundtruth: np.ndarray
    attributes: dict[str, bool] = field(default_factory=dict)
    video: Path | None = None
    init_box: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.groundtruth = np.asarray(self.groundtruth, dtype=np.float64).reshape(-1, 4)
        if self.init_box is None and len(self.groundtruth):
            self.init_box = self.groundtruth[0].copy()
        if self.init_box is not None:
            self.init_box = np.asarray(self.init_box, dtype=np.float64).reshape(4)

    def __len__(self) -> int:
        return len(self.frames) if self.video is None else len(self.groundtruth)

    @property
    def absent(self) -> np.ndarray:
        """Boolean mask, shape (N,), True where the target is absent (NaN ground truth)."""
        return ~np.isfinite(self.groundtruth).all(axis=1)

    def iter_frames(self) -> Iterator[np.ndarray]:
        """Yield decoded frames (H, W, 3) uint8 RGB or (H, W) uint8, in order."""
        from dcfre.frames import iter_video, read_frame  # Pillow (and ffmpeg for videos): on first use only

        if self.video is not None:
            yield from iter_video(self.video)
        else:
            for path in self.frames:
                yield read_frame(path)
