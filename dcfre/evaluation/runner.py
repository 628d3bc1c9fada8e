"""Run trackers on sequences: resumable, atomic, locally parallel or on a Dask cluster.

One *job* = one tracker on one sequence. Its results are two files::

    OUT/<tracker folder>/<sequence>.txt        one line per frame: x,y,w,h,confidence,present
    OUT/<tracker folder>/<sequence>.time.json  {"seconds": tracker time, "frames": N, "fps": ...}

The first line is the initialization box with confidence 1 and present 1. ``seconds`` counts
only the tracker's ``initialize``/``track`` calls, not frame decoding. The tracker folder is
:func:`~dcfre.evaluation.trackers.tracker_dir_name` of its spec (``updt:global`` ->
``updt@global``).

The line format is :mod:`dcfre.io`'s (``write_results_atomic`` / ``read_results``).
Resumability: both files are written by the driving process only after the whole sequence
finished, each to a temporary file in the same folder renamed with ``os.replace`` (atomic),
``.time.json`` last: it is the completion marker. A job whose ``.time.json`` exists and records
the expected number of frames is skipped, so an interrupted run loses at most the sequences
that were in flight and never recomputes finished ones. A run killed during a write can
leave a hidden ``.<name>.*.tmp`` file, which is ignored.

Parallelism: ``workers > 1`` runs jobs in a ``ProcessPoolExecutor`` of *spawned* processes (a
script calling :func:`run_experiment` needs an ``if __name__ == "__main__":`` guard, and
registered trackers must be importable classes or functions); ``scheduler='tcp://host:port'``
(or a ``distributed.Client``) submits the same job function to Dask, whose workers need dcfre
installed and the frames at the same paths (shared filesystem). Results come back to the
driver, which writes them, so the output folder need only be local to the driver. Every job
builds a fresh tracker, so results do not depend on the backend or on the job order. Timing
includes any numba JIT compilation a tracker triggers on its first frames (``cache=True``
kernels compile once per machine).
Trackers run single-threaded by default (``threads=1``): worker processes get
``OMP/OPENBLAS/MKL/NUMBA/DCFRE_NUM_THREADS`` set before they import numerical libraries, and
every job sets ``cv2.setNumThreads`` and ``numba.set_num_threads`` for its duration, so that N
workers use N cores.

This module imports only the standard library at import time: a spawned worker imports it
(to unpickle its initializer) before it sets the thread environment variables.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import platform
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from dcfre.errors import DcfreError, FrameReadError, InputError

#: Environment variables set to the thread count in worker processes before imports.
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "PYFFTW_NUM_THREADS",
    "OPENCV_FOR_THREADS_NUM",
    "DCFRE_NUM_THREADS",
)
RESULT_SUFFIX = ".txt"
TIME_SUFFIX = ".time.json"


class RunError(DcfreError):
    """Some jobs of an experiment failed (the others finished and were saved)."""


@dataclass(frozen=True)
class Job:
    """One tracker on one sequence.

    Attributes
    ----------
    tracker : str
        Tracker spec (also its name in results).
    sequence : Sequence
    factory : callable
        Zero-argument picklable callable building a fresh tracker.
    max_frames : int or None
        Track only the first ``max_frames`` frames.
    threads : int or None
        Thread limit for numerical libraries during the job; None leaves them alone.
    """

    tracker: str
    sequence: Any
    factory: Callable[[], Any]
    max_frames: int | None = None
    threads: int | None = 1


@dataclass
class TrackingOutput:
    """What one job produces (before it is written to disk).

    Attributes
    ----------
    boxes : ndarray, shape (N, 4), float64
    confidence : ndarray, shape (N,), float64
    present : ndarray, shape (N,), bool
    seconds : float
        Tracker time (initialize + track), excluding frame decoding.
    """

    tracker: str
    sequence: str
    boxes: Any
    confidence: Any
    present: Any
    seconds: float

    @property
    def frames(self) -> int:
        return int(len(self.boxes))


@dataclass
class SequenceResult:
    """Results of one tracker on one sequence, as read back from disk.

    Attributes
    ----------
    boxes : ndarray, shape (N, 4), float64
    confidence : ndarray, shape (N,), float64
    present : ndarray, shape (N,), bool
    seconds : float
        Tracker seconds from the ``.time.json`` file.
    frames : int
    """

    boxes: Any
    confidence: Any
    present: Any
    seconds: float
    frames: int

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class ExperimentRun:
    """Outcome of :func:`run_experiment`.

    Attributes
    ----------
    results : dict
        ``results[tracker][sequence] -> SequenceResult`` for every finished job (read back
        from disk, so fresh and resumed runs give the same objects).
    ran, skipped : list of (tracker, sequence)
        Jobs computed in this call and jobs whose results already existed.
    failed : dict
        ``(tracker, sequence) -> error message`` of jobs that raised.
    """

    results: dict = field(default_factory=dict)
    ran: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Result files


def result_paths(out_dir, tracker: str, sequence_name: str) -> tuple[Path, Path]:
    """Paths of the ``.txt`` and ``.time.json`` files of one job."""
    from dcfre.evaluation.trackers import tracker_dir_name

    if not sequence_name or "/" in sequence_name or "\\" in sequence_name or sequence_name.startswith("."):
        raise InputError(f"sequence name {sequence_name!r} cannot be used as a file name")
    folder = Path(out_dir) / tracker_dir_name(tracker)
    return folder / f"{sequence_name}{RESULT_SUFFIX}", folder / f"{sequence_name}{TIME_SUFFIX}"


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (:func:`dcfre.io.atomic_write_text`)."""
    from dcfre import io

    io.atomic_write_text(path, text)


def read_result_file(path) -> tuple[Any, Any, Any]:
    """Read a result file (:func:`dcfre.io.read_results`).

    Returns
    -------
    boxes : ndarray, shape (N, 4), float64
    confidence : ndarray, shape (N,), float64
    present : ndarray, shape (N,), bool
    """
    from dcfre import io

    return io.read_results(path)


def save_output(out_dir, output: TrackingOutput, extra: dict | None = None) -> None:
    """Write one job's result and timing files atomically (timing file last)."""
    from dcfre import io

    txt, timing = result_paths(out_dir, output.tracker, output.sequence)
    io.write_results_atomic(txt, output.boxes, output.confidence, output.present)
    record = {
        "tracker": output.tracker,
        "sequence": output.sequence,
        "seconds": output.seconds,
        "frames": output.frames,
        "fps": output.frames / output.seconds if output.seconds > 0 else None,
        "host": platform.node(),
    }
    record.update(extra or {})
    atomic_write_text(timing, json.dumps(record, indent=2) + "\n")


def load_result(out_dir, tracker: str, sequence_name: str) -> SequenceResult:
    """Read back one job's results (raises InputError if missing or malformed)."""
    txt, timing = result_paths(out_dir, tracker, sequence_name)
    if not timing.exists() or not txt.exists():
        raise InputError(f"no finished results for tracker {tracker!r} on sequence {sequence_name!r} in {out_dir}")
    boxes, confidence, present = read_result_file(txt)
    record = _read_timing(timing)
    if record is None:
        raise InputError(f"malformed timing file {timing}")
    return SequenceResult(boxes, confidence, present, float(record["seconds"]), len(boxes))


def _read_timing(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or "frames" not in record or "seconds" not in record:
        return None
    return record


def expected_frames(sequence, max_frames: int | None) -> int:
    """Number of frames a job tracks: the sequence length, capped by ``max_frames``."""
    n = len(sequence)
    return n if max_frames is None else min(n, int(max_frames))


def is_finished(out_dir, tracker: str, sequence, max_frames: int | None = None) -> bool:
    """True if the job's files exist and record the expected number of frames."""
    txt, timing = result_paths(out_dir, tracker, sequence.name)
    if not txt.exists():
        return False
    record = _read_timing(timing)
    return record is not None and record["frames"] == expected_frames(sequence, max_frames)


# ---------------------------------------------------------------------------------------------
# Jobs


def _init_worker(threads: int | None) -> None:
    """Process-pool initializer: thread-count environment variables before numerical imports."""
    if threads is not None:
        for name in THREAD_ENV_VARS:
            os.environ[name] = str(int(threads))


_CV_LIMIT_LOCK = threading.Lock()
_cv_limit = {"depth": 0, "saved": None}


@contextlib.contextmanager
def _limit_opencv_threads(threads: int):
    # cv2's thread count is process-wide while Dask may run several jobs as threads of one
    # process: the first job in saves the caller's setting, the last one out restores it.
    import cv2

    with _CV_LIMIT_LOCK:
        if _cv_limit["depth"] == 0:
            _cv_limit["saved"] = cv2.getNumThreads()
        _cv_limit["depth"] += 1
        cv2.setNumThreads(int(threads))
    try:
        yield
    finally:
        with _CV_LIMIT_LOCK:
            _cv_limit["depth"] -= 1
            if _cv_limit["depth"] == 0:
                cv2.setNumThreads(_cv_limit["saved"])


@contextlib.contextmanager
def _limit_numba_threads(threads: int):
    # numba's setting is per calling thread, so a plain save/restore is safe.
    if "numba" not in sys.modules:
        yield
        return
    import numba

    saved = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(saved)


@contextlib.contextmanager
def limit_threads(threads: int | None):
    """Limit OpenCV and numba threads to ``threads`` inside the block, then restore them.

    OpenCV is always limited (the baselines and the features use it); numba only if it was
    imported already (enter again after building a tracker that imports it). ``None`` does
    nothing.
    """
    if threads is None:
        yield
        return
    with _limit_opencv_threads(threads), _limit_numba_threads(threads):
        yield


def track_sequence(tracker, sequence, max_frames: int | None = None, name: str = "tracker") -> TrackingOutput:
    """Run an initialized-from-scratch tracker over a sequence, timing only tracker calls.

    Parameters
    ----------
    tracker : object
        Fresh tracker with ``initialize(frame, box)`` and ``track(frame)``.
    sequence : Sequence
    max_frames : int or None
        Stop after this many frames.
    name : str
        Tracker name stored in the output.

    Returns
    -------
    TrackingOutput
        Frame 0 holds the initialization box with confidence 1 and present True.
    """
    import numpy as np

    n = expected_frames(sequence, max_frames)
    if n == 0:
        raise InputError(f"sequence {sequence.name!r} has no frames")
    if sequence.init_box is None:
        raise InputError(f"sequence {sequence.name!r} has no initialization box")
    boxes = np.full((n, 4), np.nan)
    confidence = np.zeros(n)
    present = np.zeros(n, dtype=bool)
    seconds = 0.0
    count = 0
    for index, frame in enumerate(sequence.iter_frames()):
        if index >= n:
            break
        start = time.perf_counter()
        if index == 0:
            tracker.initialize(frame, np.asarray(sequence.init_box, dtype=np.float64).copy())
            boxes[0], confidence[0], present[0] = sequence.init_box, 1.0, True
        else:
            state = tracker.track(frame)
            boxes[index] = np.asarray(state.box, dtype=np.float64).reshape(4)
            confidence[index] = float(state.confidence)
            present[index] = bool(state.present)
        seconds += time.perf_counter() - start
        count += 1
    if count != n:
        raise FrameReadError(f"sequence {sequence.name!r}: expected {n} frames, decoded {count}")
    return TrackingOutput(name, sequence.name, boxes, confidence, present, seconds)


def run_job(job: Job) -> TrackingOutput:
    """Build a fresh tracker and track one sequence under the job's thread limit (worker side)."""
    with limit_threads(job.threads):
        tracker = job.factory()
        with limit_threads(job.threads):  # again, now that the tracker's imports are done
            return track_sequence(tracker, job.sequence, job.max_frames, job.tracker)


# ---------------------------------------------------------------------------------------------
# Experiment


def _check_unique_names(sequences) -> None:
    seen = set()
    for sequence in sequences:
        if sequence.name in seen:
            raise InputError(f"two sequences are named {sequence.name!r}")
        seen.add(sequence.name)


def plan_jobs(sequences, tracker_specs: Iterable[str], out_dir, max_frames=None, threads=1):
    """Split all (tracker, sequence) pairs into jobs to run and pairs already finished.

    Jobs are ordered longest sequence first (better load balance), then by tracker.
    """
    from dcfre.evaluation.trackers import resolve_tracker

    specs = list(dict.fromkeys(tracker_specs))
    if not specs:
        raise InputError("no trackers given")
    factories = {spec: resolve_tracker(spec) for spec in specs}
    ordered = sorted(sequences, key=lambda s: -expected_frames(s, max_frames))
    todo, done = [], []
    for sequence in ordered:
        for spec in specs:
            if is_finished(out_dir, spec, sequence, max_frames):
                done.append((spec, sequence.name))
            else:
                todo.append(Job(spec, sequence, factories[spec], max_frames, threads))
    return todo, done


def run_experiment(
    sequences,
    tracker_specs,
    out_dir,
    workers: int = 1,
    scheduler=None,
    progress: bool = True,
    max_frames: int | None = None,
    threads: int | None = 1,
    raise_on_error: bool = True,
) -> ExperimentRun:
    """Run every tracker on every sequence, skipping finished jobs, and collect the results.

    Parameters
    ----------
    sequences : list of Sequence
    tracker_specs : iterable of str
        Tracker specs (:mod:`dcfre.evaluation.trackers`), validated before anything runs.
    out_dir : path
        Results folder (created).
    workers : int
        Local worker processes; 1 runs the jobs in this process.
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``'tcp://host:port'``) or client; overrides ``workers``.
    progress : bool
        Show a tqdm progress bar on stderr.
    max_frames : int, optional
        Track only the first frames of each sequence (quick runs).
    threads : int or None
        Threads per job for numerical libraries (default 1); None leaves them alone.
    raise_on_error : bool
        Raise :class:`RunError` after all jobs ran if any failed; otherwise report the failures
        in ``ExperimentRun.failed``.

    Returns
    -------
    ExperimentRun
    """
    sequences = list(sequences)
    _check_unique_names(sequences)
    if workers < 1:
        raise InputError(f"workers must be >= 1, got {workers}")
    if max_frames is not None and max_frames < 1:
        raise InputError(f"max_frames must be >= 1, got {max_frames}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    todo, done = plan_jobs(sequences, tracker_specs, out_dir, max_frames, threads)
    run = ExperimentRun(skipped=list(done))
    bar = _progress_bar(len(todo) + len(done), len(done), progress)
    extra = {"max_frames": max_frames, "threads": threads}

    def on_done(job: Job, output: TrackingOutput | None, error: BaseException | None) -> None:
        key = (job.tracker, job.sequence.name)
        if error is not None:
            run.failed[key] = f"{type(error).__name__}: {error}"
        else:
            save_output(out_dir, output, extra)
            run.ran.append(key)
        bar.set_postfix_str(f"{job.tracker} {job.sequence.name}", refresh=False)
        bar.update(1)

    try:
        if todo:
            if scheduler is not None:
                _run_dask(todo, scheduler, on_done)
            elif workers == 1:
                _run_serial(todo, on_done)
            else:
                _run_pool(todo, workers, threads, on_done)
    finally:
        bar.close()
    for spec in dict.fromkeys(tracker_specs):
        for sequence in sequences:
            if (spec, sequence.name) not in run.failed:
                run.results.setdefault(spec, {})[sequence.name] = load_result(out_dir, spec, sequence.name)
    if run.failed and raise_on_error:
        (tracker, name), message = next(iter(run.failed.items()))
        raise RunError(f"{len(run.failed)} job(s) failed, first: {tracker} on {name}: {message}")
    return run


def _progress_bar(total: int, initial: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, file=sys.stderr, disable=not enabled, desc="eval", unit="seq")


def _run_serial(jobs, on_done) -> None:
    for job in jobs:
        try:
            output = run_job(job)
        except Exception as exc:  # recorded; the other jobs go on
            on_done(job, None, exc)
        else:
            on_done(job, output, None)


def _run_pool(jobs, workers: int, threads: int | None, on_done) -> None:
    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)), mp_context=context, initializer=_init_worker, initargs=(threads,)
    )
    pending = {executor.submit(run_job, job): job for job in jobs}
    try:
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                job = pending.pop(future)
                error = future.exception()
                if isinstance(error, BrokenProcessPool):
                    raise RunError(
                        "a worker process died (out of memory, killed, or it could not start: worker processes are "
                        "spawned, so a script calling run_experiment needs an `if __name__ == '__main__':` guard)"
                    ) from error
                on_done(job, None if error else future.result(), error)
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)


def _run_dask(jobs, scheduler, on_done) -> None:
    from distributed import Client, as_completed

    own_client = not isinstance(scheduler, Client)
    client = Client(scheduler, set_as_default=False) if own_client else scheduler
    futures = {}
    try:
        futures = {client.submit(run_job, job, pure=False): job for job in jobs}
        for future in as_completed(list(futures)):
            job = futures[future]
            try:
                output = future.result()
            except Exception as exc:
                on_done(job, None, exc)
            else:
                on_done(job, output, None)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    finally:
        if own_client:
            client.close()
