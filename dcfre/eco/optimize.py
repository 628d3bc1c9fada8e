"""Preconditioned conjugate gradient on lists of arrays, with ECO's warm-start and forgetting.

A "vector" is a list of numpy arrays (one per feature block, plus projection matrices in the
joint problem); the inner product is supplied by the problem so that half spectra are weighted
as the full spectra they stand for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Vector = list  # list[np.ndarray]


@dataclass
class CGState:
    """Search direction and scalars carried from one filter update to the next (ECO)."""

    direction: Vector
    rho: float
    previous_residual: Vector | None


def _axpy(alpha: float, x: Vector, y: Vector) -> Vector:
    """y + alpha * x, element-wise over the list."""
    return [yi + alpha * xi for xi, yi in zip(x, y)]


def conjugate_gradient(
    apply_lhs: Callable[[Vector], Vector],
    rhs: Vector,
    x0: Vector,
    precond_diag: Vector,
    inner: Callable[[Vector, Vector], float],
    max_iterations: int,
    fletcher_reeves: bool = False,
    state: CGState | None = None,
    forget_factor: float = 1.0,
) -> tuple[Vector, CGState | None, list[float]]:
    """Solve ``A x = b`` by preconditioned CG with a diagonal preconditioner.

    Parameters
    ----------
    apply_lhs : callable
        ``x -> A x`` (A symmetric positive definite under ``inner``).
    rhs, x0, precond_diag : list of arrays
        ``b``, the starting point, and the diagonal of the preconditioner ``M`` (``M^-1 r`` is
        ``r / precond_diag``).
    max_iterations : int
    fletcher_reeves : bool
        Fletcher-Reeves instead of Polak-Ribiere beta.
    state : CGState or None
        Direction from a previous call to continue from (ECO warm start); its ``rho`` is divided
        by ``forget_factor`` so old directions lose weight.

    Returns
    -------
    x : list of arrays
    state : CGState or None
        For the next call (None if the iteration broke down).
    residual_norms : list of float
        ``inner(r, r)`` before each iteration, for diagnostics and tests.
    """
    x = [np.array(v, copy=True) for v in x0]
    r = _axpy(-1.0, apply_lhs(x), rhs)
    p = rho = r_prev = None
    if state is not None:
        p, rho, r_prev = state.direction, state.rho / forget_factor, state.previous_residual
    norms = []
    for _ in range(max_iterations):
        norms.append(inner(r, r))
        z = [ri / mi for ri, mi in zip(r, precond_diag)]
        rho_old, rho = rho, inner(r, z)
        if not np.isfinite(rho) or rho == 0.0:
            break
        if p is None or rho_old is None:
            p = z
        else:
            if fletcher_reeves or r_prev is None:
                beta = rho / rho_old
            else:
                beta = (rho - inner(r_prev, z)) / rho_old
            if not np.isfinite(beta) or beta < 0:
                beta = 0.0
            p = _axpy(beta, p, z)
        q = apply_lhs(p)
        pq = inner(p, q)
        if not np.isfinite(pq) or pq <= 0:
            return x, None, norms
        alpha = rho / pq
        x = _axpy(alpha, p, x)
        if not fletcher_reeves:
            r_prev = r
        r = _axpy(-alpha, q, r)
    if p is None or rho is None:
        return x, None, norms
    return x, CGState(p, rho, None if fletcher_reeves else r_prev), norms
