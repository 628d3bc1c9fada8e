"""Names of the synthetic benchmark suites and where generated suites are cached.

Kept apart from :mod:`dcfre.data.synthetic` (the generator, which imports OpenCV, scikit-image
and SciPy) so that command-line parsers and dataset loaders can name the suites cheaply.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The synthetic suites :func:`dcfre.data.synthetic.generate_suite` can write.
SUITE_NAMES = ("synth-lt", "synth-human")


def default_cache_dir() -> Path:
    """Where generated suites are cached: ``$DCFRE_CACHE``, else ``$XDG_CACHE_HOME/dcfre``, else ``~/.cache/dcfre``."""
    if os.environ.get("DCFRE_CACHE"):
        return Path(os.environ["DCFRE_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "dcfre"


def suite_folder_name(suite: str, seed: int = 0, frames_scale: float = 1.0) -> str:
    """Cache sub-folder of a suite: ``synth-lt`` for the defaults, ``synth-lt-seed3-x0.25`` otherwise."""
    name = suite
    if seed != 0:
        name += f"-seed{seed}"
    if frames_scale != 1.0:
        name += f"-x{frames_scale:g}"
    return name
