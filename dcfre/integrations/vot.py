"""dcfre under the VOT toolkit: a TraX server, its ``trackers.ini`` entry, and vot's long-term scoring.

The VOT toolkit (PyPI ``vot-toolkit``) runs a tracker as a separate process, one per sequence, and talks
to it over stdin/stdout with the TraX protocol (PyPI ``vot-trax``, module ``trax``): an *initialize*
request with the first image and the target region, then one *frame* request per image; the tracker
answers each with a region and optional properties. :func:`serve` is that server for dcfre:

- regions are rectangles ``x, y, w, h`` (0-based pixels, the toolkit's convention; dcfre returns boxes
  in the convention it was given); images are file paths of the ``color`` channel, decoded with
  :func:`dcfre.io.read_frame` exactly as ``dcfre track`` decodes a folder, so both see the same pixels;
- the initialization reply is the given box with no ``confidence`` property; every later reply is the
  tracker's box with a ``confidence`` property, or the empty ``Rectangle(0, 0, 0, 0)`` (with the
  confidence) when the tracker reports the target absent (the toolkit rejects TraX "special" regions);
- only TraX goes to the real stdout: everything else (Python prints, logs, warnings) goes to stderr,
  which the toolkit stores as the tracker's log;
- a bad request (unreadable image, non-rectangle region, box outside the image) is reported on stderr
  and answered with a TraX *quit* carrying the message, and the process exits with status 1.

The toolkit scores long-term results with its own conventions, which differ from
:mod:`dcfre.evaluation.metrics`; :func:`vot_longterm_scores` applies them to dcfre results so that the
two can be compared like with like (see its docstring).

The ``trax`` module is optional: it is imported only by :func:`serve` (``pip install vot-trax==4.0.2``).
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from dcfre.errors import DcfreError, InputError

#: The TraX package the server was written and tested against.
TRAX_REQUIREMENT = "vot-trax==4.0.2"
#: Seconds the toolkit waits for each reply (``timeout`` of the ``trackers.ini`` entry). The first
#: reply includes loading the tracker (and compiling its kernels on a machine where numba has no cache
#: yet, which can take a minute); later replies take a fraction of a second.
DEFAULT_TIMEOUT_S = 300
#: Number of confidence thresholds of vot's precision/recall curves (``resolution`` of its analysis).
VOT_THRESHOLD_COUNT = 100
#: The empty region the toolkit expects for "target absent" (it rejects TraX special regions).
EMPTY_REGION = (0.0, 0.0, 0.0, 0.0)


class TraxUnavailableError(DcfreError):
    """The optional TraX package is not installed or its native library does not load."""


def import_trax():
    """Import the ``trax`` module (``vot-trax``), or raise a one-line error telling how to install it."""
    try:
        import trax
        import trax.server  # noqa: F401  (the Server class lives there)
    except (ImportError, OSError) as exc:
        raise TraxUnavailableError(
            f"the VOT integration needs the TraX protocol package: pip install {TRAX_REQUIREMENT} ({exc})"
        ) from None
    return trax


# --------------------------------------------------------------------------------------------- replies


def reply_for(box, confidence: float, present: bool) -> tuple[tuple[float, float, float, float], dict]:
    """The rectangle and properties the server sends for one tracked frame.

    Parameters
    ----------
    box : array_like, shape (4,)
        ``x, y, w, h`` from the tracker.
    confidence : float
        Tracker confidence; sent as the ``confidence`` property (0 if not finite, since the toolkit
        drops NaN when choosing thresholds but compares every frame's value against them).
    present : bool
        False sends the empty rectangle :data:`EMPTY_REGION` instead of the box.

    Returns
    -------
    region : tuple of 4 float
    properties : dict
        ``{"confidence": float}``.
    """
    value = float(confidence) if confidence is not None and math.isfinite(float(confidence)) else 0.0
    region = tuple(float(v) for v in np.asarray(box, dtype=np.float64).reshape(4)) if present else EMPTY_REGION
    return region, {"confidence": value}


class VotSession:
    """Turns TraX requests into tracker calls; independent of the TraX library, so it can be tested alone.

    Parameters
    ----------
    tracker_factory : callable () -> tracker
        Builds a fresh tracker (an object with ``initialize(frame, box)`` and ``track(frame)`` returning
        a state with ``box``, ``confidence`` and ``present``) for each initialization.
    read_image : callable (path) -> ndarray, optional
        Image decoder; default :func:`dcfre.io.read_frame`.
    """

    def __init__(self, tracker_factory: Callable[[], object], read_image: Callable | None = None) -> None:
        self._factory = tracker_factory
        self._read_image = read_image
        self.tracker = None
        self.frames = 0
        #: seconds spent in the tracker's ``initialize`` and ``track`` (decoding excluded, as ``dcfre track`` counts)
        self.track_seconds = 0.0

    def initialize(self, image_path: str, box) -> tuple[tuple[float, ...], dict]:
        """Start on the first image; returns the given box and no properties."""
        frame = self._read(image_path)
        box = _box_from_request(box)
        tracker = self._factory()
        start = time.perf_counter()
        tracker.initialize(frame, box)  # validates the box against the image (InputError if outside)
        self.track_seconds = time.perf_counter() - start
        self.tracker, self.frames = tracker, 1
        return tuple(float(v) for v in box), {}

    def frame(self, image_path: str) -> tuple[tuple[float, ...], dict]:
        """Track in the next image; returns the reply of :func:`reply_for`."""
        if self.tracker is None:
            raise InputError("frame request before initialization")
        frame = self._read(image_path)
        start = time.perf_counter()
        state = self.tracker.track(frame)
        self.track_seconds += time.perf_counter() - start
        self.frames += 1
        return reply_for(state.box, state.confidence, state.present)

    def _read(self, path: str) -> np.ndarray:
        if self._read_image is None:
            from dcfre.io import read_frame

            self._read_image = read_frame
        return self._read_image(path)


def _box_from_request(box) -> np.ndarray:
    values = np.asarray(box, dtype=np.float64).reshape(-1)
    if values.size != 4 or not np.isfinite(values).all():
        raise InputError(f"initial region must be 4 finite numbers x,y,w,h, got {list(values)}")
    return values


# --------------------------------------------------------------------------------------------- server


@contextlib.contextmanager
def stdout_reserved_for_trax() -> Iterator[None]:
    """Keep the process's stdout for TraX only while the block runs.

    libtrax writes its messages to file descriptor 1 (or to the descriptor named by ``TRAX_OUT``). Here
    descriptor 1 is duplicated for TraX, then pointed at stderr, so that anything else written to stdout,
    by Python or by a native library, lands in the tracker's log instead of corrupting the protocol.
    """
    if "TRAX_SOCKET" in os.environ or "TRAX_OUT" in os.environ:
        yield  # the toolkit chose another channel; stdout is not the protocol's
        return
    sys.stdout.flush()
    trax_fd = os.dup(1)
    saved_stdout = sys.stdout
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ["TRAX_OUT"] = str(trax_fd)
    try:
        yield
    finally:
        os.environ.pop("TRAX_OUT", None)
        sys.stdout = saved_stdout
        os.dup2(trax_fd, 1)
        os.close(trax_fd)


def serve(tracker_factory: Callable[[], object], *, name: str = "dcfre", description: str = "") -> int:
    """Run the TraX server until the client quits.

    Parameters
    ----------
    tracker_factory : callable () -> tracker
        See :class:`VotSession`.
    name, description : str
        Tracker name and description announced in the TraX handshake.

    Returns
    -------
    int
        Process exit status: 0 after the client's quit, 1 after a bad request or a broken connection.
    """
    trax = import_trax()
    with stdout_reserved_for_trax():
        try:
            server = trax.server.Server(
                [trax.Region.RECTANGLE], [trax.Image.PATH], ["color"],
                tracker_name=name, tracker_description=description, tracker_family="dcf",
            )
        except trax.TraxException as exc:
            _log(f"cannot start the TraX server: {exc}")
            return 1
        session = VotSession(tracker_factory)
        return _serve_requests(trax, server, session)


def _serve_requests(trax, server, session: VotSession) -> int:
    while True:
        try:
            request = server.wait()
        except trax.TraxException as exc:
            _log(f"connection to the toolkit lost after {session.frames} frames: {exc}")
            return 1
        if request.type == trax.TraxStatus.QUIT:
            _log_speed(session)
            return 0
        try:
            region, properties = _answer(trax, session, request)
        except DcfreError as exc:
            return _quit(trax, server, f"frame {session.frames + 1}: {exc}")
        except Exception as exc:  # a bug: keep its traceback in the log, still end the session cleanly
            traceback.print_exc(file=sys.stderr)
            return _quit(trax, server, f"frame {session.frames + 1}: internal error: {type(exc).__name__}: {exc}")
        server.status([(trax.Rectangle.create(*region), properties)])


def _quit(trax, server, message: str) -> int:
    """Report ``message`` on stderr and to the client (TraX quit with a reason); the exit status."""
    _log(message)
    with contextlib.suppress(trax.TraxException):
        server.quit(reason=message)
    return 1


def _answer(trax, session: VotSession, request) -> tuple[tuple[float, ...], dict]:
    path = _image_path(trax, request.image)
    objects = request.objects or []
    if request.type == trax.TraxStatus.INITIALIZE or objects:
        if len(objects) != 1:
            raise InputError(f"expected one target region, got {len(objects)}")
        region = objects[0][0]
        if region.type != trax.Region.RECTANGLE:
            raise InputError(f"dcfre accepts rectangle regions only, got a {_region_kind(trax, region)} region")
        return session.initialize(path, region.bounds())
    return session.frame(path)


def _image_path(trax, images) -> str:
    image = (images or {}).get("color")
    if image is None:
        raise InputError(f"the request has no color image (channels: {', '.join(images or {}) or 'none'})")
    if image.type() != trax.Image.PATH:
        raise InputError("dcfre accepts images given as file paths only")
    return image.path()


def _region_kind(trax, region) -> str:
    names = {trax.Region.POLYGON: "polygon", trax.Region.MASK: "mask", trax.Region.SPECIAL: "special"}
    return names.get(region.type, f"type-{region.type}")


def _log_speed(session: VotSession) -> None:
    """The speed line ``dcfre track`` prints, counted the same way, so the two can be compared."""
    if session.frames > 0 and session.track_seconds > 0:
        print(f"dcfre vot: frames {session.frames}, seconds {session.track_seconds:.2f}, "
              f"FPS {session.frames / session.track_seconds:.1f}", file=sys.stderr, flush=True)


def _log(message: str) -> None:
    print(f"dcfre vot: error: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- trackers.ini


def trackers_ini_entry(
    name: str, *, preset: str | None = None, redetect: str | None = None, timeout: int = DEFAULT_TIMEOUT_S,
    python: str | None = None,
) -> str:
    """A ``trackers.ini`` section that runs this dcfre under the toolkit.

    The toolkit runs the command without a shell from a fresh temporary folder, so every path is
    absolute: the Python interpreter (``sys.executable`` by default) and, as ``PYTHONPATH``, the folder
    that holds this ``dcfre`` package (so a clone works without being installed).

    Parameters
    ----------
    name : str
        Tracker identifier (letters, digits, ``_``, ``-``, ``.``), the section name.
    preset, redetect : str or None
        Passed on as ``--preset`` / ``--redetect`` when given.
    timeout : int
        Seconds the toolkit waits for each reply.
    python : str or None
        Interpreter; default ``sys.executable``.

    Returns
    -------
    str
        The section, ending with a newline.
    """
    if not name or not all(c.isalnum() or c in "_-." for c in name):
        raise InputError(f"tracker name must be letters, digits, '_', '-' or '.', got {name!r}")
    command = [str(Path(python or sys.executable).absolute()), "-m", "dcfre", "vot"]
    if preset is not None:
        command += ["--preset", preset]
    if redetect is not None:
        command += ["--redetect", redetect]
    package_root = Path(__file__).resolve().parents[2]
    label = "dcfre" + (f" {preset}" if preset else "") + (f" redetect={redetect}" if redetect else "")
    return (
        f"[{name}]\n"
        f"label = {label}\n"
        "protocol = trax\n"
        f"command = {shlex.join(command)}\n"
        f"env_PYTHONPATH = {_ini_value(str(package_root))}\n"
        f"timeout = {int(timeout)}\n"
    )


def _ini_value(text: str) -> str:
    # The toolkit expands $VARS in env_ values (os.path.expandvars); '$$' is not an escape there, so a
    # literal '$' in a path cannot be written; refuse it rather than produce a wrong entry.
    if "$" in text:
        raise InputError(f"path {text!r} contains '$', which the VOT toolkit would expand as a variable")
    return text


# --------------------------------------------------------------------------------------------- vot's scores


def vot_overlaps(pred, present, gt, frame_size: tuple[int, int]) -> np.ndarray:
    """Per-frame overlap as vot-toolkit 0.9 computes it for a long-term (unsupervised) experiment.

    Its conventions, applied here to dcfre results:

    - the first frame is recorded as an empty ("initialization") region, whatever the tracker did;
    - a frame reported absent (``present`` False) is the empty rectangle the server sends;
    - regions are whole pixels: ``x, y, w, h`` are rounded separately (half to even) and a rectangle
      covers pixel columns ``x .. x + w - 1`` and rows ``y .. y + h - 1``, clipped to the image;
    - the overlap is (pixels in both) / (pixels in either), and two empty regions overlap **1**
      (an absent target correctly reported absent is a perfect frame), where
      :func:`dcfre.evaluation.metrics.iou` leaves such frames out.

    Parameters
    ----------
    pred : array_like, shape (N, 4)
        ``x, y, w, h`` per frame (0-based, the toolkit's pixel convention).
    present : array_like of bool, shape (N,)
    gt : array_like, shape (N, 4)
        Ground truth; rows with a non-finite value are absent frames.
    frame_size : (width, height)

    Returns
    -------
    ndarray, shape (N,), float64
    """
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    flags = np.asarray(present).reshape(-1).astype(bool)
    if not len(pred) == len(gt) == len(flags):
        raise InputError(f"pred, present and gt differ in length: {len(pred)}, {len(flags)}, {len(gt)}")
    width, height = frame_size
    out = np.empty(len(pred))
    for t in range(len(pred)):
        first = None if t == 0 else (pred[t] if flags[t] else np.zeros(4))
        second = gt[t] if np.isfinite(gt[t]).all() else None
        out[t] = _vot_overlap(first, second, width, height)
    return out


def _vot_bounds(box) -> tuple[int, int, int, int]:
    """(left, top, right, bottom), inclusive; a special (None) region has bounds (0, 0, 0, 0)."""
    if box is None:
        return 0, 0, 0, 0
    x, y, w, h = np.round(box)
    return int(x), int(y), int(x + w - 1), int(y + h - 1)


def _vot_pixels(box, raster: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """Inclusive pixel span of a rectangle inside ``raster``, None if it covers no pixel there."""
    if box is None:
        return None
    left, top, right, bottom = _vot_bounds(box)
    left, top = max(left, raster[0]), max(top, raster[1])
    right, bottom = min(right, raster[2]), min(bottom, raster[3])
    return (left, top, right, bottom) if left <= right and top <= bottom else None


def _vot_overlap(first, second, width: int, height: int) -> float:
    b1, b2 = _vot_bounds(first), _vot_bounds(second)
    union = (min(b1[0], b2[0]), min(b1[1], b2[1]), max(b1[2], b2[2]), max(b1[3], b2[3]))
    if union[0] >= union[2] or union[1] >= union[3]:
        return 1.0  # vot: "two empty regions are considered to be identical"
    raster = (max(0, union[0]), max(0, union[1]), min(width - 1, union[2]), min(height - 1, union[3]))
    if raster[0] >= raster[2] or raster[1] >= raster[3]:
        return 0.0
    p1, p2 = _vot_pixels(first, raster), _vot_pixels(second, raster)
    area1 = 0 if p1 is None else (p1[2] - p1[0] + 1) * (p1[3] - p1[1] + 1)
    area2 = 0 if p2 is None else (p2[2] - p2[0] + 1) * (p2[3] - p2[1] + 1)
    inter = 0
    if p1 is not None and p2 is not None:
        iw = min(p1[2], p2[2]) - max(p1[0], p2[0]) + 1
        ih = min(p1[3], p2[3]) - max(p1[1], p2[1]) + 1
        inter = max(iw, 0) * max(ih, 0)
    union_area = area1 + area2 - inter
    return inter / union_area if union_area > 0 else 0.0


def vot_confidences(confidence) -> np.ndarray:
    """Per-frame confidence as the toolkit records it: frame 1 has none and counts as 0."""
    conf = np.asarray(confidence, dtype=np.float64).reshape(-1).copy()
    if conf.size:
        conf[0] = 0.0
    return conf


def vot_thresholds(confidences: Iterable, count: int = VOT_THRESHOLD_COUNT) -> np.ndarray:
    """vot's thresholds: ``count - 2`` values at evenly spaced ranks of all frames' sorted confidences
    (every frame, repeats kept, NaN dropped; all of them when there are fewer), plus +inf and -inf."""
    parts = [np.asarray(c, dtype=np.float64).reshape(-1) for c in confidences]
    scores = np.concatenate(parts) if parts else np.zeros(0)
    scores = np.sort(scores[~np.isnan(scores)])[::-1]
    if scores.size > count - 2:
        delta = math.floor(scores.size / (count - 2))
        ranks = np.round(np.linspace(delta, scores.size - delta, num=count - 2)).astype(np.int64)
        scores = scores[ranks]
    return np.concatenate([[np.inf], scores, [-np.inf]])


def vot_longterm_scores(sequences: Iterable, count: int = VOT_THRESHOLD_COUNT):
    """Long-term Pr / Re / F of dcfre results with the VOT toolkit's conventions (vot-toolkit 0.9).

    Differences from :func:`dcfre.evaluation.metrics.longterm_scores`:

    - per-frame overlaps from :func:`vot_overlaps` (first frame empty, whole pixels, two empty regions
      overlap 1);
    - every frame is a prediction: at threshold tau, frame t counts when its confidence is >= tau,
      **including** frames reported absent (empty prediction: overlap 1 on an absent frame, 0 on a
      visible one), where dcfre counts non-empty predictions only; frame 1 has confidence 0;
    - thresholds from :func:`vot_thresholds` (all frames' confidences, repeats kept).

    What stays the same: ``Pr = 1, Re = 0`` where no frame counts, Pr and Re averaged over sequences at
    each threshold, F their harmonic mean, the F-score its maximum, Pr and Re at the first argmax.

    Parameters
    ----------
    sequences : iterable of tuple
        ``(pred, confidence, present, gt, (width, height))`` per sequence; pred and gt ``(N, 4)``.
    count : int
        Number of thresholds (vot's analysis ``resolution``).

    Returns
    -------
    dcfre.evaluation.metrics.LongTermScores
    """
    from dcfre.evaluation.metrics import LongTermScores, f_measure

    items = [(vot_overlaps(p, f, g, size), vot_confidences(c), np.isfinite(np.asarray(g, float)).all(axis=1))
             for p, c, f, g, size in sequences]
    if not items:
        raise InputError("vot_longterm_scores needs at least one sequence")
    thresholds = vot_thresholds([conf for _, conf, _ in items], count)
    precision, recall = [], []
    for overlaps, conf, visible in items:
        counted = conf[None, :] >= thresholds[:, None]
        n_counted = counted.sum(axis=1)
        overlap_sum = (counted * overlaps[None, :]).sum(axis=1)
        precision.append(np.where(n_counted > 0, overlap_sum / np.maximum(n_counted, 1), 1.0))
        recall.append(np.where(n_counted > 0, overlap_sum / max(int(visible.sum()), 1), 0.0))
    precision, recall = np.mean(precision, axis=0), np.mean(recall, axis=0)
    f = f_measure(precision, recall)
    best = int(np.argmax(f))
    return LongTermScores(thresholds, precision, recall, f, float(f[best]), float(precision[best]),
                          float(recall[best]), best)
