"""Ground-truth and attribute files of tracking datasets.

Ground-truth files hold one region per line, one line per frame. Accepted line forms:

- ``x,y,w,h`` with any mix of comma, semicolon, tab or space delimiters (OTB uses all of them);
- more than 4 numbers other than 8: the first 4 are the box (extra columns are ignored);
- exactly 8 numbers: a VOT polygon ``x1,y1,...,x4,y4``, converted to its axis-aligned bounds
  ``(min x, min y, max x - min x, max y - min y)`` as the VOT toolkit does;
- ``NaN`` in any column (any case, also ``nan,nan,nan,nan``): the whole row becomes NaN (target absent).

**Blank lines.** A blank line *between* annotated lines is read as a NaN row (target absent in that
frame) rather than skipped: dropping it would silently shift every later box by one frame, and the
frame-count check done by the loaders could not notice. Blank lines (and whitespace) at the end of
the file are ignored. Lines starting with ``#`` are comments and are skipped entirely.

Every problem is raised as :class:`~dcfre.errors.AnnotationError` naming the file and the
1-based line number.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from dcfre.data.sequence import UAV123_ATTRIBUTES
from dcfre.errors import AnnotationError

_DELIMITERS = re.compile(r"[,;\s]+")
_POLYGON_VALUES = 8
_BOX_VALUES = 4


def read_groundtruth(path: str | Path) -> np.ndarray:
    """Read a ground-truth file into one box per frame.

    Parameters
    ----------
    path : str or Path
        Text file, one region per line (see the module docstring for the accepted forms).

    Returns
    -------
    ndarray, shape (N, 4), float64
        ``x, y, w, h`` per line in the file's own pixel convention; NaN rows where the target
        is absent (NaN values or blank lines inside the file).

    Raises
    ------
    AnnotationError
        Missing or unreadable file, or a malformed line (named by number).
    """
    path = Path(path)
    lines = _read_lines(path)
    rows = [_parse_region_line(line, path, number) for number, line in lines]
    if not rows:
        return np.zeros((0, 4), dtype=np.float64)
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)


def parse_region(values: list[float]) -> tuple[float, float, float, float]:
    """Convert one annotation row (4+ numbers, or an 8-number polygon) to ``x, y, w, h``.

    A row containing any NaN becomes all-NaN. Raises ``ValueError`` for fewer than 4 numbers.
    """
    if len(values) < _BOX_VALUES:
        raise ValueError(f"expected 4 numbers (x,y,w,h) or 8 (polygon), got {len(values)}")
    if any(math.isnan(v) for v in values):
        return (math.nan, math.nan, math.nan, math.nan)
    if len(values) == _POLYGON_VALUES:
        xs, ys = values[0::2], values[1::2]
        return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    x, y, w, h = values[:_BOX_VALUES]
    return (x, y, w, h)


def read_uav123_attributes(path: str | Path) -> dict[str, bool]:
    """Read a UAV123 attribute file: one line of 12 flags (0/1) in :data:`UAV123_ATTRIBUTES` order.

    Returns
    -------
    dict of str to bool
        ``{"SV": True, "ARC": False, ...}`` with all 12 keys.
    """
    path = Path(path)
    lines = [(n, line) for n, line in _read_lines(path) if line.strip()]
    if len(lines) != 1:
        raise AnnotationError(
            f"{path}: expected one line of {len(UAV123_ATTRIBUTES)} 0/1 flags, got {len(lines)} lines"
        )
    number, line = lines[0]
    tokens = [t for t in _DELIMITERS.split(line.strip()) if t]
    if len(tokens) != len(UAV123_ATTRIBUTES):
        raise AnnotationError(f"{path}:{number}: expected {len(UAV123_ATTRIBUTES)} flags, got {len(tokens)}")
    flags = {}
    for name, token in zip(UAV123_ATTRIBUTES, tokens):
        try:
            value = float(token)
        except ValueError:
            raise AnnotationError(f"{path}:{number}: flag {name} is {token!r}, expected 0 or 1") from None
        if value not in (0.0, 1.0):
            raise AnnotationError(f"{path}:{number}: flag {name} is {token!r}, expected 0 or 1")
        flags[name] = value == 1.0
    return flags


def format_uav123_attributes(flags: dict[str, bool]) -> str:
    """One line of 12 comma-separated 0/1 flags in UAV123 order (missing names count as 0)."""
    unknown = set(flags) - set(UAV123_ATTRIBUTES)
    if unknown:
        raise AnnotationError(f"unknown UAV123 attribute(s): {', '.join(sorted(unknown))}")
    return ",".join("1" if flags.get(name, False) else "0" for name in UAV123_ATTRIBUTES)


def read_frame_flags(path: str | Path) -> np.ndarray:
    """Read a per-frame 0/1 tag file (VOT ``*.tag`` / ``*.label``), one value per line.

    Returns
    -------
    ndarray, shape (N,), bool
    """
    path = Path(path)
    values = []
    for number, line in _read_lines(path):
        token = line.strip()
        if not token:
            values.append(False)
            continue
        try:
            values.append(float(token) != 0.0)
        except ValueError:
            raise AnnotationError(f"{path}:{number}: expected 0 or 1, got {token!r}") from None
    return np.asarray(values, dtype=bool)


def _read_lines(path: Path) -> list[tuple[int, str]]:
    """(1-based line number, text) of every non-comment line, trailing blank lines removed."""
    if not path.is_file():
        raise AnnotationError(f"annotation file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig", errors="strict")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"cannot read annotation file {path}: {exc}") from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if not line.lstrip().startswith("#")]
    while lines and not lines[-1][1].strip():
        lines.pop()
    return lines


def _parse_region_line(line: str, path: Path, number: int) -> tuple[float, float, float, float]:
    text = line.strip()
    if not text:
        return (math.nan, math.nan, math.nan, math.nan)
    if text[0] in "mM":
        raise AnnotationError(f"{path}:{number}: mask annotations are not supported, expected x,y,w,h")
    tokens = [t for t in _DELIMITERS.split(text) if t]
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        raise AnnotationError(f"{path}:{number}: not a list of numbers: {text[:60]!r}") from None
    if any(math.isinf(v) for v in values):
        raise AnnotationError(f"{path}:{number}: infinite value in {text[:60]!r}")
    try:
        return parse_region(values)
    except ValueError as exc:
        raise AnnotationError(f"{path}:{number}: {exc}") from None
