"""Benchmark inputs: synthetic sequences rendered and sequence folders decoded once, stored raw for the workers.

Standard library only at module level (see :mod:`dcfre.evaluation.benchmark`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dcfre.errors import InputError
from dcfre.evaluation.bench_config import (
    LOSS_INPUT_FRAMES,
    OUT_OF_VIEW_EVENT,
    SYNTHETIC_BASE_HEIGHT,
    SYNTHETIC_BASE_LIMITS,
    SYNTHETIC_BASE_TARGET,
    BenchConfig,
)


# ---------------------------------------------------------------------------------------------
# Inputs: frames rendered or decoded once, stored raw for the workers


@dataclass
class BenchInput:
    """Frames of one benchmark input, in memory.

    Attributes
    ----------
    name : str
        ``synthetic-640x360`` or the sequence folder's name.
    kind : {'synthetic', 'sequence'}
    frames : ndarray, shape (N, H, W, 3) or (N, H, W), uint8
    init_box : ndarray, shape (4,), float64
        ``x, y, w, h`` of the target in the first frame.
    source : str
        How the frames were made (generator settings or folder path).
    groundtruth : ndarray, shape (N, 4), float64, optional
        ``x, y, w, h`` per frame, NaN rows where the target is absent (synthetic inputs).
    events : list of dict, optional
        The generator's events (``kind``, ``start``, ``stop``, ... frame indices; synthetic inputs).
    """

    name: str
    kind: str
    frames: Any
    init_box: Any
    source: str
    groundtruth: Any = None
    events: list | None = None

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)``."""
        return int(self.frames.shape[2]), int(self.frames.shape[1])

    @property
    def absent_spans(self) -> list[tuple[int, int]] | None:
        """Runs of frames without a visible target, 1-based inclusive ``(first, last)``; None without ground truth."""
        if self.groundtruth is None:
            return None
        from dcfre.data._synth_script import absent_spans

        return absent_spans(self.groundtruth)


def synthetic_input(size: tuple[int, int], n_frames: int, seed: int = 0, overrides: dict | None = None,
                    name: str | None = None) -> BenchInput:
    """Render a synthetic sequence with a moving target, its size proportional to the frame height.

    Parameters
    ----------
    size : (width, height)
    n_frames : int
    seed : int
    overrides : dict, optional
        More :class:`~dcfre.data.synthetic.SceneConfig` fields.
    name : str, optional
        Input name (default ``synthetic-WxH``).
    """
    import numpy as np

    from dcfre.data.synthetic import make_sequence

    width, height = size
    settings = synthetic_scene_settings(size, overrides, name)
    sequence = make_sequence(seed=seed, n_frames=n_frames, size=(width, height), **settings)
    frames = np.ascontiguousarray(np.stack(sequence.frames))
    described = ", ".join(f"{k}={v}" for k, v in sorted(settings.items()) if k != "name")
    source = f"dcfre.data.synthetic.make_sequence(seed={seed}, n_frames={n_frames}, size={width}x{height}, {described})"
    groundtruth = np.asarray(sequence.groundtruth, dtype=np.float64)
    events = [dict(event) for event in sequence.events]
    return BenchInput(settings["name"], "synthetic", frames, sequence.init_box, source, groundtruth, events)


def synthetic_scene_settings(size: tuple[int, int], overrides: dict | None = None, name: str | None = None) -> dict:
    """:class:`~dcfre.data.synthetic.SceneConfig` fields of the input ``synthetic-WxH`` (besides seed,
    length and size): the target's size proportional to the frame height, then ``overrides``."""
    width, height = size
    scale = height / SYNTHETIC_BASE_HEIGHT
    settings = {
        "target_size": SYNTHETIC_BASE_TARGET * scale,
        "screen_size_limits": tuple(v * scale for v in SYNTHETIC_BASE_LIMITS),
        "name": name or f"synthetic-{width}x{height}",
    }
    settings.update(overrides or {})
    return settings


def loss_input(size: tuple[int, int], n_frames: int = LOSS_INPUT_FRAMES, seed: int = 0) -> BenchInput:
    """``synthetic-lt-WxH``: a synthetic input with the generator's default events, target absent at times.

    The events (full occlusion, out-of-view span, fast motion, blur) are those of
    :class:`~dcfre.data.synthetic.SceneConfig`'s defaults; they start after its ``clear_start``
    frames and are dropped when they do not fit into ``n_frames``.

    Raises
    ------
    InputError
        No out-of-view span, or no frame with the target absent, fits into ``n_frames``.
    """
    width, height = size
    item = synthetic_input(size, n_frames, seed, name=f"synthetic-lt-{width}x{height}")
    item.source += ", default events"
    kinds = [event["kind"] for event in item.events or []]
    if OUT_OF_VIEW_EVENT not in kinds or not item.absent_spans:
        raise InputError(
            f"{item.name}: no out-of-view span with absent frames fits into {n_frames} frames; "
            f"use {LOSS_INPUT_FRAMES} frames or more"
        )
    return item


def sequence_inputs(path: str | Path, max_frames: int | None = None) -> list[BenchInput]:
    """Decode a sequence folder (or every sequence folder of a dataset folder) into memory.

    Raises
    ------
    InputError
        No ground truth to initialize from, or frames of different sizes.
    """
    from dcfre.errors import DatasetError
    from dcfre.io import open_source

    try:
        sources = [open_source(path)]
    except DatasetError:
        from dcfre.data.folder import load_folder

        sources = [_SequenceAsSource(seq) for seq in load_folder(path)]
    return [_decode_source(source, max_frames, str(path)) for source in sources]


class _SequenceAsSource:
    """A :class:`~dcfre.data.sequence.Sequence` seen through the FrameSource attributes used here."""

    def __init__(self, sequence) -> None:
        self.name = sequence.name
        self.groundtruth = sequence.groundtruth
        self._sequence = sequence

    def __iter__(self):
        return self._sequence.iter_frames()


def _decode_source(source, max_frames: int | None, origin: str) -> BenchInput:
    import numpy as np

    if source.groundtruth is None or len(source.groundtruth) == 0:
        raise InputError(f"sequence {source.name!r} ({origin}) has no ground truth to take the first box from")
    init_box = np.asarray(source.groundtruth[0], dtype=np.float64)
    if not np.isfinite(init_box).all() or init_box[2] <= 0 or init_box[3] <= 0:
        raise InputError(f"sequence {source.name!r}: the first ground-truth box {init_box.tolist()} is not a visible target")
    frames = []
    for index, frame in enumerate(source):
        if max_frames is not None and index >= max_frames:
            break
        if frames and frame.shape != frames[0].shape:
            raise InputError(f"sequence {source.name!r}: frame {index + 1} has shape {frame.shape}, the first {frames[0].shape}")
        frames.append(frame)
    if len(frames) < 2:
        raise InputError(f"sequence {source.name!r} has fewer than 2 frames")
    stacked = np.ascontiguousarray(np.stack(frames).astype(np.uint8, copy=False))
    return BenchInput(source.name, "sequence", stacked, init_box, origin)


def make_inputs(config: BenchConfig, log: Callable[[str], None] = lambda message: None) -> list[BenchInput]:
    """Render the synthetic inputs and decode the sequence folders of ``config``."""
    inputs = []
    for size in config.sizes:
        log(f"rendering synthetic {size[0]}x{size[1]}, {config.synthetic_frames} frames")
        inputs.append(synthetic_input(size, config.synthetic_frames, config.seed, config.synthetic_overrides))
        if config.with_losses:
            log(f"rendering synthetic-lt {size[0]}x{size[1]}, {config.loss_input_frames} frames, with losses")
            inputs.append(loss_input(size, config.loss_input_frames, config.seed))
    for path in config.sequences:
        log(f"decoding {path}")
        inputs.extend(sequence_inputs(path, config.frames))
    names = [item.name for item in inputs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(f"two inputs are named {duplicates[0]!r}")
    return inputs


def write_input(item: BenchInput, folder: Path, index: int) -> dict:
    """Store an input's frames as one raw uint8 file; returns its description for the workers."""
    path = Path(folder) / f"input{index:02d}.u8"
    item.frames.tofile(path)
    return {
        "name": item.name,
        "kind": item.kind,
        "path": str(path),
        "shape": [int(n) for n in item.frames.shape],
        "init_box": [float(v) for v in item.init_box],
        "source": item.source,
        "absent_spans": item.absent_spans,
        "absent_frames": None if item.absent_spans is None else sum(b - a + 1 for a, b in item.absent_spans),
        "events": item.events,
    }


def load_frames(description: dict, count: int | None = None):
    """Read the first ``count`` (default all) frames of a stored input, shape (N, H, W[, 3]) uint8."""
    import numpy as np

    shape = list(description["shape"])
    n = shape[0] if count is None else min(int(count), shape[0])
    frame_size = int(np.prod(shape[1:]))
    data = np.fromfile(description["path"], dtype=np.uint8, count=n * frame_size)
    return data.reshape([n] + shape[1:])


def stream_frames(description: dict):
    """Yield a stored input's frames one at a time (each a fresh array; no memory map)."""
    import numpy as np

    shape = list(description["shape"])
    frame_size = int(np.prod(shape[1:]))
    with open(description["path"], "rb") as handle:
        for _ in range(shape[0]):
            buffer = np.empty(frame_size, dtype=np.uint8)
            handle.readinto(memoryview(buffer))
            yield buffer.reshape(shape[1:])
