"""Modules imported on first attribute access, for heavy dependencies that only some trackers use.

``ndimage = lazy_module("scipy.ndimage")`` at module level costs nothing; ``ndimage.rotate(...)`` imports
SciPy's ndimage on the first call. ECO-HC without re-detection never touches it, and SciPy's ndimage
costs ~0.2-0.3 s of start-up.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """Stand-in for a module: the first attribute access imports it, later ones cost a dict look-up.

    Parameters
    ----------
    name : str
        Full module name, e.g. ``"scipy.ndimage"``.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def _module(self) -> ModuleType:
        return importlib.import_module(self._name)

    def __getattr__(self, attribute: str):
        return getattr(self._module(), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> LazyModule:
    """A :class:`LazyModule` for ``name`` (nothing is imported yet)."""
    return LazyModule(name)
