"""Tracker names used by the evaluation: OpenCV baselines, dcfre presets and registered extras.

A tracker *spec* is one of

- ``'opencv-csrt'`` or ``'opencv-kcf'`` (:mod:`dcfre.evaluation.baselines`);
- a dcfre preset name from ``dcfre.config.PRESETS`` (e.g. ``'eco-hc'``), built with
  ``Tracker.from_preset(name)``;
- ``'PRESET:MODE'`` with MODE in ``off``, ``local``, ``global`` (e.g. ``'updt:global'``),
  built with ``Tracker.from_preset(PRESET, redetect=MODE)``;
- a name added with :func:`register_tracker` (tests, user experiments).

Results of a tracker live in a folder named by :func:`tracker_dir_name`: the spec with ``':'``
replaced by ``'@'`` (``updt:global`` -> ``updt@global``), a name that is valid on every
common filesystem; :func:`tracker_name_from_dir` inverts it.
"""

from __future__ import annotations

import functools
import re
from typing import Callable

from dcfre.errors import InputError

#: OpenCV baseline spec -> kind understood by :class:`~dcfre.evaluation.baselines.OpenCVTracker`
BASELINES = {"opencv-csrt": "csrt", "opencv-kcf": "kcf"}
#: Long-term modes accepted after ``':'`` in a dcfre preset spec.
REDETECT_MODES = ("off", "local", "global")
#: Character replacing ``':'`` in result folder names.
DIR_SEPARATOR = "@"

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
_REGISTERED: dict[str, Callable[[], object]] = {}


def tracker_dir_name(name: str) -> str:
    """Filesystem-safe folder name of a tracker: ``':'`` -> ``'@'`` (``updt:global`` -> ``updt@global``)."""
    _check_name_syntax(name)
    return name.replace(":", DIR_SEPARATOR)


def tracker_name_from_dir(dirname: str) -> str:
    """Inverse of :func:`tracker_dir_name`."""
    return dirname.replace(DIR_SEPARATOR, ":")


def _check_name_syntax(name: str) -> None:
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise InputError(
            f"invalid tracker name {name!r}: use letters, digits, '.', '_', '-' and at most one ':' before a mode"
        )


def dcfre_presets() -> list[str]:
    """Names of dcfre's tracker presets (empty if the tracker package is not available)."""
    try:
        from dcfre.config import PRESETS
    except ImportError:
        return []
    return sorted(PRESETS)


def register_tracker(name: str, factory: Callable[[], object]) -> None:
    """Make ``name`` a valid tracker spec built by ``factory()``.

    ``factory`` must be picklable (a module-level function or class) when the runner uses worker
    processes or Dask: the factory itself, not the name, is sent to the workers.
    """
    _check_name_syntax(name)
    if name in BASELINES:
        raise InputError(f"tracker name {name!r} is reserved for an OpenCV baseline")
    _REGISTERED[name] = factory


def unregister_tracker(name: str) -> None:
    """Remove a name added with :func:`register_tracker` (no error if absent)."""
    _REGISTERED.pop(name, None)


def available_trackers() -> list[str]:
    """All valid tracker specs without a mode (each dcfre preset also accepts ``:off|local|global``)."""
    return list(BASELINES) + dcfre_presets() + sorted(_REGISTERED)


def _invalid(spec: str) -> InputError:
    presets = dcfre_presets()
    valid = ", ".join(available_trackers()) or "(none)"
    hint = f"; dcfre presets also accept ':{'|'.join(REDETECT_MODES)}'" if presets else ""
    if not presets:
        hint += "; dcfre presets unavailable (dcfre.config not importable)"
    return InputError(f"unknown tracker {spec!r}; valid: {valid}{hint}")


def parse_spec(spec: str) -> tuple[str, str | None]:
    """Split a spec into (base name, mode or None) and validate both.

    Raises
    ------
    InputError
        Unknown name or mode, with the list of valid names.
    """
    _check_name_syntax(spec)
    if spec in BASELINES or spec in _REGISTERED:
        return spec, None
    base, _, mode = spec.partition(":")
    if base not in dcfre_presets():
        raise _invalid(spec)
    if ":" in spec:
        if mode not in REDETECT_MODES:
            raise InputError(f"unknown long-term mode {mode!r} in {spec!r}; valid: {', '.join(REDETECT_MODES)}")
        return base, mode
    return base, None


def build_tracker(spec: str):
    """Build a fresh tracker from a spec (see module docstring).

    Returns
    -------
    object
        Has ``initialize(frame, box) -> state`` and ``track(frame) -> state`` where state has
        ``.box`` (ndarray (4,), x, y, w, h), ``.confidence`` (float) and ``.present`` (bool).
    """
    base, mode = parse_spec(spec)
    if base in BASELINES:
        from dcfre.evaluation.baselines import OpenCVTracker

        return OpenCVTracker(BASELINES[base])
    if base in _REGISTERED:
        return _REGISTERED[base]()
    from dcfre.tracker import Tracker

    if mode is None:
        return Tracker.from_preset(base)
    return Tracker.from_preset(base, redetect=mode)


def resolve_tracker(spec: str) -> Callable[[], object]:
    """Validate ``spec`` and return a picklable zero-argument factory building the tracker.

    Registered names return their own factory so that worker processes, which do not share
    this process's registry, can still build them.
    """
    base, _ = parse_spec(spec)
    if base in _REGISTERED:
        return _REGISTERED[base]
    return functools.partial(build_tracker, spec)
