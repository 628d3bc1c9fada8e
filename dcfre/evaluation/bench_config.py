"""Benchmark settings: what to run (:class:`BenchConfig`), the defaults, and option parsing.

Standard library only (see :mod:`dcfre.evaluation.benchmark`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from dcfre.errors import DcfreError, InputError
from dcfre.evaluation.runner import THREAD_ENV_VARS as RUNNER_THREAD_ENV_VARS


#: Tracker whose FPS the others are compared with.
REFERENCE_TRACKER = "opencv-csrt"
#: Trackers of the default run.
DEFAULT_TRACKERS = ("eco-hc", "opencv-csrt", "opencv-kcf")
#: Synthetic frame sizes (width, height) of the default run.
DEFAULT_SIZES = ((640, 360), (1280, 720))
#: Environment variables holding the thread count of numerical libraries in worker processes.
THREAD_ENV_VARS = RUNNER_THREAD_ENV_VARS
#: Frame size (height) at which the synthetic target has its base size; it scales with the height.
SYNTHETIC_BASE_HEIGHT = 360
#: Synthetic target side sqrt(w h) at the base height, pixels (SceneConfig's default).
SYNTHETIC_BASE_TARGET = 50.0
#: On-screen size range of the synthetic target at the base height (SceneConfig's default).
SYNTHETIC_BASE_LIMITS = (24.0, 110.0)
#: Packages whose versions are recorded with the results.
RECORDED_PACKAGES = ("numpy", "numba", "scipy", "pyFFTW", "onnxruntime", "opencv-contrib-python-headless")
#: Frames of a ``synthetic-lt-WxH`` input unless set: enough for every default event of the
#: generator to fit (with 150 frames the occlusion is dropped and the out-of-view span may be).
LOSS_INPUT_FRAMES = 300
#: Event kind of the generator that takes the target out of the frame.
OUT_OF_VIEW_EVENT = "out_of_view"
#: Frames scanned (and mining rounds) per repeat by the long-term component measurement.
LONG_TERM_SCANS_PER_REPEAT = 5
#: Report format version (bump when keys change).
REPORT_VERSION = 2


class BenchError(DcfreError):
    """A benchmark worker process failed."""


@dataclass
class BenchConfig:
    """What to benchmark and how.

    Attributes
    ----------
    trackers : tuple of str
        Tracker specs (:mod:`dcfre.evaluation.trackers`); the reference ``opencv-csrt`` is in the
        default list.
    sizes : tuple of (width, height)
        One synthetic sequence per size, rendered once.
    frames : int
        Frames per synthetic sequence; sequence folders are cut to their first ``frames``
        frames as well (None: synthetic 150, folders whole).
    sequences : tuple of str
        Sequence folders (any layout of :func:`dcfre.io.open_source`) or dataset folders holding
        several of them; the first ground-truth box initializes the trackers.
    threads : {'1', 'all'}
        Thread count of numerical libraries in the workers: one, or the number of cores.
    repeats : int
        Timed runs per tracker and input; per-frame numbers are medians over them.
    warmup_frames : int
        Frames tracked by the untimed warm-up run before the timed runs.
    seed : int
        Seed of the synthetic sequences.
    measure_jit : bool
        Run the cold and cached JIT workers.
    measure_memory : bool
        Run the memory workers.
    synthetic_overrides : dict
        :class:`~dcfre.data.synthetic.SceneConfig` fields for the synthetic sequences. Default:
        no full occlusion and no out-of-view span, so the target stays visible and moving
        (fast motion, blur, scale and illumination changes stay on).
    worker_timeout_s : float
        Longest time a worker process may take, seconds.
    with_losses : bool
        Also render, per size, ``synthetic-lt-WxH``: the generator's default events (full
        occlusion, out-of-view span, ...) on, so the target is absent in some frames.
    loss_frames : int or None
        Frames of the ``synthetic-lt-WxH`` inputs (None: the larger of :data:`LOSS_INPUT_FRAMES`
        and ``frames``). Rendering fails if no out-of-view span with absent frames fits.
    """

    trackers: tuple[str, ...] = DEFAULT_TRACKERS
    sizes: tuple[tuple[int, int], ...] = DEFAULT_SIZES
    frames: int | None = None
    sequences: tuple[str, ...] = ()
    threads: str = "1"
    repeats: int = 3
    warmup_frames: int = 10
    seed: int = 0
    measure_jit: bool = True
    measure_memory: bool = True
    synthetic_overrides: dict = field(default_factory=lambda: {"n_occlusions": 0, "n_out_of_view": 0})
    worker_timeout_s: float = 3600.0
    with_losses: bool = False
    loss_frames: int | None = None

    #: frames per synthetic sequence when ``frames`` is None
    DEFAULT_SYNTHETIC_FRAMES = 150

    def validate(self) -> None:
        """Raise InputError on an unusable setting (unknown tracker included)."""
        from dcfre.evaluation.trackers import parse_spec

        if not self.trackers:
            raise InputError("no trackers given")
        for spec in self.trackers:
            parse_spec(spec)
        if len(set(self.trackers)) != len(self.trackers):
            raise InputError(f"a tracker is listed twice in {','.join(self.trackers)}")
        if not self.sizes and not self.sequences:
            raise InputError("nothing to run: give at least one size or one sequence folder")
        for width, height in self.sizes:
            if width < 32 or height < 32:
                raise InputError(f"frame size must be at least 32x32, got {width}x{height}")
        if self.frames is not None and self.frames < 2:
            raise InputError(f"frames must be at least 2, got {self.frames}")
        if self.threads not in ("1", "all"):
            raise InputError(f"threads must be '1' or 'all', got {self.threads!r}")
        if self.repeats < 1:
            raise InputError(f"repeats must be at least 1, got {self.repeats}")
        if self.warmup_frames < 0:
            raise InputError(f"warmup_frames must be >= 0, got {self.warmup_frames}")
        if self.loss_frames is not None and self.loss_frames < 2:
            raise InputError(f"loss_frames must be at least 2, got {self.loss_frames}")
        if self.with_losses and not self.sizes:
            raise InputError("with_losses needs at least one synthetic size")

    @property
    def synthetic_frames(self) -> int:
        return self.frames if self.frames is not None else self.DEFAULT_SYNTHETIC_FRAMES

    @property
    def loss_input_frames(self) -> int:
        """Frames of each ``synthetic-lt-WxH`` input."""
        if self.loss_frames is not None:
            return self.loss_frames
        return max(LOSS_INPUT_FRAMES, self.synthetic_frames)


# ---------------------------------------------------------------------------------------------
# Argument parsing helpers


def parse_size(text: str) -> tuple[int, int]:
    """``'640x360'`` -> ``(640, 360)`` (width, height)."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"invalid size {text!r}, expected WIDTHxHEIGHT such as 640x360") from None
    if width < 32 or height < 32:
        raise InputError(f"invalid size {text!r}: at least 32x32")
    return width, height


def parse_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """``'640x360,1280x720'`` -> ``((640, 360), (1280, 720))``; empty text -> no sizes."""
    return tuple(parse_size(part) for part in text.split(",") if part.strip())


def parse_trackers(text: str) -> tuple[str, ...]:
    """``'eco-hc, opencv-csrt'`` -> ``('eco-hc', 'opencv-csrt')`` (duplicates dropped)."""
    return tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def thread_count(threads: str) -> int:
    """Threads per worker: 1, or every core available to this process for ``'all'``."""
    if threads == "1":
        return 1
    if threads == "all":
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not Linux
            return max(1, os.cpu_count() or 1)
    raise InputError(f"threads must be '1' or 'all', got {threads!r}")


def thread_environment(count: int) -> dict[str, str]:
    """Environment variables limiting numerical libraries to ``count`` threads."""
    return {name: str(int(count)) for name in THREAD_ENV_VARS}
