"""Decode frames ahead in a background thread while the tracker works on the current one.

JPEG decoding (OpenCV, see :mod:`dcfre.frames`) and video decoding (an ffmpeg pipe) release the GIL,
so on a machine with a spare core the next frame is ready when the tracker asks for it: decoding
leaves the per-frame critical path (on a machine whose cores are all busy it costs its CPU time
either way; measured: no stall of the tracker on an empty queue). The frames and their order are unchanged, and so are the tracker's results.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

#: Frames decoded ahead at most (each ~0.7 MB at 640x360 RGB): one is enough to hide the decode time of
#: a frame behind the tracking of the previous one; a second absorbs a slow decode.
READ_AHEAD_FRAMES = 2
#: Seconds the reader waits for free room before checking again whether it was stopped.
_POLL_SECONDS = 0.1


def read_ahead(items: Iterable[T], depth: int = READ_AHEAD_FRAMES) -> Iterator[T]:
    """Yield the items of ``items`` in order, produced up to ``depth`` ahead by a background thread.

    An exception raised while producing an item is re-raised by this generator at that item's
    position, after the items before it were yielded. Closing the generator early (``break`` out of
    the loop, an error in the loop body) stops the thread and closes the underlying iterator.

    Parameters
    ----------
    items : iterable
        E.g. a :class:`dcfre.io.FrameSource`.
    depth : int
        Items produced ahead at most (>= 1).
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    reader = threading.Thread(target=_produce, args=(items, slots, stop), name="dcfre-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "item":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        _drain(slots)  # frees a reader blocked on a full queue
        reader.join()


def _produce(items: Iterable, slots: queue.Queue, stop: threading.Event) -> None:
    iterator = iter(items)
    try:
        for item in iterator:
            if not _put(slots, ("item", item), stop):
                return
        _put(slots, ("end", None), stop)
    except BaseException as exc:  # noqa: BLE001  (handed to the consumer, re-raised there)
        _put(slots, ("error", exc), stop)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # e.g. stops the ffmpeg process of a video, in the thread that runs the generator


def _put(slots: queue.Queue, entry: tuple, stop: threading.Event) -> bool:
    """Put ``entry`` once there is room; False if the consumer stopped first."""
    while not stop.is_set():
        try:
            slots.put(entry, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def _drain(slots: queue.Queue) -> None:
    while True:
        try:
            slots.get_nowait()
        except queue.Empty:
            return
