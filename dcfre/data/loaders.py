"""Load a dataset by name: ``load_dataset("uav123", root)``.

Names: ``uav123``, ``uav20l``, ``uav-human``, ``ltb35``, ``otb``, ``folder`` (sequence folders in
any layout of :mod:`dcfre.data.folder`), and the synthetic suites ``synth-lt`` and ``synth-human``,
which are generated on first use (see :func:`load_synthetic`).
"""

from __future__ import annotations

from pathlib import Path

from dcfre.data.folder import load_folder
from dcfre.data.ltb35 import load_ltb35
from dcfre.data.otb import load_otb
from dcfre.data.sequence import Sequence
from dcfre.data.suites import SUITE_NAMES, default_cache_dir, suite_folder_name
from dcfre.data.uav123 import load_uav20l, load_uav123, load_uav_human
from dcfre.errors import InputError

_LOADERS = {
    "uav123": load_uav123,
    "uav20l": load_uav20l,
    "uav-human": load_uav_human,
    "ltb35": load_ltb35,
    "otb": load_otb,
    "folder": load_folder,
}
#: Every name :func:`load_dataset` accepts.
DATASET_NAMES = tuple(_LOADERS) + SUITE_NAMES


def load_dataset(name: str, root: str | Path | None = None, **options) -> list[Sequence]:
    """Load the sequences of a dataset.

    Parameters
    ----------
    name : str
        One of :data:`DATASET_NAMES` (case-insensitive; ``_`` may stand for ``-``).
    root : str or Path, optional
        Dataset root. Required for the real datasets; for the synthetic suites it is the cache
        folder the suite is generated under (default: :func:`~dcfre.data.suites.default_cache_dir`).
    **options
        Passed to the loader: ``names=[...]`` for uav123/uav20l/ltb35/otb; ``seed``,
        ``frames_scale`` and ``jobs`` for the synthetic suites.

    Returns
    -------
    list of Sequence
    """
    key = name.strip().lower().replace("_", "-")
    if key in SUITE_NAMES:
        return load_synthetic(key, root, **options)
    if key not in _LOADERS:
        raise InputError(f"unknown dataset {name!r}, expected one of {', '.join(DATASET_NAMES)}")
    if root is None:
        raise InputError(f"dataset {key} needs a root folder")
    return _LOADERS[key](root, **options)


def load_synthetic(
    suite: str, root: str | Path | None = None, seed: int = 0, frames_scale: float = 1.0, jobs: int = 1
) -> list[Sequence]:
    """Generate a synthetic suite if needed (idempotent), then load it as a folder dataset.

    The suite lives in ``<root>/<suite>`` (``synth-lt``, or e.g. ``synth-lt-seed3-x0.25`` for a
    non-default seed or scale), ``root`` defaulting to the user cache folder.
    """
    from dcfre.data.synthetic import generate_suite  # the generator imports SciPy and OpenCV: only when needed

    base = Path(root) if root is not None else default_cache_dir()
    folder = base / suite_folder_name(suite, seed, frames_scale)
    generate_suite(suite, folder, seed=seed, frames_scale=frames_scale, jobs=jobs)
    return load_folder(folder)
