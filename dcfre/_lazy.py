"""Import control for start-up time: modules imported on first use, and imports kept out.

:func:`lazy_module` stands for a module imported on first attribute access, for heavy dependencies that
only some trackers use; :func:`hidden_modules` keeps optional packages from being imported by a
dependency that would load them eagerly without needing them.

``ndimage = lazy_module("scipy.ndimage")`` at module level costs nothing; ``ndimage.rotate(...)`` imports
SciPy's ndimage on the first call. ECO-HC without re-detection never touches it, and SciPy's ndimage
costs ~0.2-0.3 s of start-up.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator
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


@contextlib.contextmanager
def hidden_modules(names: tuple[str, ...]) -> Iterator[None]:
    """Make ``import NAME`` raise ImportError inside the block, for the names not imported yet.

    A ``None`` entry in ``sys.modules`` is Python's documented way to block an import; the entries are
    removed afterwards, so a later ``import dask`` (or ``import pyfftw.interfaces.scipy_fft``) works as
    usual. Used only at module import time of dcfre's own modules (a thread importing one of the
    names during the block would get an ImportError).
    """
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
