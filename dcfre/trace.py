"""Per-frame decision traces: one JSON line per frame from :attr:`TrackState.info`.

``dcfre track --trace FILE`` writes them; :func:`read_trace` reads them back. A line holds the
frame number, box, confidence, present flag, mode and every key of ``info`` (documented in
:data:`dcfre.state.INFO_KEYS`). Whole-frame score maps are summarized (shape, maximum and where it
is) rather than written out: a 1280x720 scan would be megabytes per frame.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from dcfre.state import TrackState


def trace_record(state: TrackState) -> dict:
    """The JSON-ready record of one frame."""
    record = {
        "frame": int(state.frame_number),
        "box": [float(v) for v in np.asarray(state.box, dtype=np.float64).reshape(4)],
        "confidence": float(state.confidence),
        "present": bool(state.present),
        "mode": state.mode,
    }
    for key, value in state.info.items():
        record[key] = _summarize_scan(value) if key == "scan" else _jsonable(value)
    return record


def _summarize_scan(scan: dict) -> dict:
    out = {k: _jsonable(v) for k, v in scan.items() if not isinstance(v, np.ndarray)}
    for name in ("local", "global_"):
        values = scan.get(name)
        if isinstance(values, np.ndarray) and values.size:
            index = np.unravel_index(int(np.argmax(values)), values.shape)
            position = np.asarray(scan["origin"]) + np.asarray(index) * scan["step"]
            out[name] = {"shape": list(values.shape), "max": float(values[index]),
                         "argmax_yx": [float(v) for v in position]}
    return out


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


class TraceWriter:
    """Append one JSON line per frame to ``path`` (flushed per line, so an interrupted run keeps them)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w", encoding="utf-8")

    def write(self, state: TrackState) -> None:
        self._file.write(json.dumps(trace_record(state)) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_trace(path: str | Path) -> list[dict]:
    """All records of a trace file, in frame order."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def overlays(state: TrackState) -> list:
    """Boxes to draw for a traced frame: mined distractors and re-detection candidates."""
    out = [(box, "distractor") for box in state.info.get("distractors", ())]
    out += [(c["box"], "accepted" if c["accepted"] else "candidate") for c in state.info.get("candidates", ())]
    return out
