"""``njit`` for dcfre's kernels, with numba's start-up trimmed.

The first jitted call of a process loads numba's CPU target (~0.3-0.5 s). Part of that is
``numba.np.arraymath``, which imports SciPy's linear algebra (~0.2-0.3 s: ``scipy.linalg`` and what
it pulls in) only to learn whether BLAS is there, a flag that picks the inner-product
implementation of ``np.correlate`` / ``np.convolve`` in jitted code. dcfre's kernels use neither, so
that module is imported here with ``scipy.linalg`` hidden. Functions that need BLAS (``np.dot``,
``np.linalg``) still get it: numba imports ``scipy.linalg.cython_blas`` again when it compiles them.
Kernel modules import :func:`njit` from here so that this happens before their first call.
"""

from __future__ import annotations

from numba import njit  # noqa: F401  (re-exported for the kernel modules)

from dcfre._lazy import hidden_modules

#: Imported eagerly by ``numba.np.arraymath`` (see the module docstring).
_NUMBA_EAGER_OPTIONAL = ("scipy.linalg",)

with hidden_modules(_NUMBA_EAGER_OPTIONAL):
    import numba.np.arraymath  # noqa: F401  (decides its BLAS flag now, without importing SciPy)
