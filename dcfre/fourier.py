"""Fourier-domain building blocks of the continuous DCF formulation.

Conventions used throughout dcfre
---------------------------------
A feature channel is a periodic function on the sample support ``[0, T)``; its Fourier series is
``g(t) = sum_k G[k] exp(i 2 pi k t / T)``. Coefficients are stored as **centred half spectra**:
an array of shape ``(..., K1, (K2 + 1) // 2)`` where ``K1`` and ``K2`` are odd, rows hold
``ky = -(K1 - 1) / 2 .. (K1 - 1) / 2`` and columns hold ``kx = 0 .. (K2 - 1) / 2``. The missing
columns ``kx < 0`` follow from conjugate symmetry ``G[-ky, -kx] = conj(G[ky, kx])`` because every
signal here is real. A discrete map of ``N`` samples is described by ``K = N + 1 - N % 2``
coefficients ``X[k mod N]``, ``|k| <= N / 2``: for even ``N`` both ``+N/2`` and ``-N/2`` carry the
Nyquist value, exactly as the Fourier series of the map's continuous interpolation (operator
``J`` of the paper) does, so every spectrum has odd size.

Score maps follow the same convention: the value at displacement ``t`` is
``s(t) = sum_k S[k] exp(i 2 pi k . t / K)`` with ``t`` in output-grid cells.
"""

from __future__ import annotations

import os
import pickle
from functools import lru_cache
from pathlib import Path

import numpy as np

from dcfre._lazy import hidden_modules

#: Optional packages that ``import pyfftw`` loads eagerly, when installed, only to offer FFT interfaces
#: for them (``pyfftw.interfaces.dask_fft`` and ``scipy_fftpack`` / ``scipy_fft``): ~0.2 s and ~0.3 s of
#: start-up. dcfre uses ``pyfftw.interfaces.numpy_fft`` alone.
_PYFFTW_EAGER_OPTIONAL = ("dask", "scipy.fftpack")


with hidden_modules(_PYFFTW_EAGER_OPTIONAL):
    import pyfftw
    from pyfftw.interfaces import numpy_fft  # noqa: F401  (import it from here: pyFFTW without the extras)

#: Planner effort of the tracking transforms. ESTIMATE is the default because it chooses the same
#: algorithm in every run, so results are reproducible bit for bit (MEASURE picks by timing, and
#: different rounding makes hard sequences diverge between runs); on the small odd sizes used here it
#: executes at most ~15 us per transform slower and plans ~50 ms faster. Set DCFRE_FFTW_PLANNER to
#: FFTW_MEASURE for the last microseconds; measured plans are then cached on disk as wisdom.
FFTW_PLANNER_EFFORT = os.environ.get("DCFRE_FFTW_PLANNER", "FFTW_ESTIMATE")

# Plans made through pyfftw.interfaces (1-D scale-filter transforms, whole-frame correlation) are
# cached per shape and reused.
pyfftw.interfaces.cache.enable()
pyfftw.interfaces.cache.set_keepalive_time(30)  # seconds an unused plan (and its buffers) is kept

# ------------------------------------------------------------------------------------------------
# FFTW wisdom, cached on disk so that MEASURE planning is paid once per machine, not per run
# ------------------------------------------------------------------------------------------------

_wisdom_state = {"loaded": False, "dirty": False}


def wisdom_path() -> Path:
    """File holding FFTW wisdom: ``$DCFRE_CACHE_DIR/fftw_wisdom.pkl`` (default ``~/.cache/dcfre``)."""
    root = os.environ.get("DCFRE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "dcfre")
    return Path(root) / "fftw_wisdom.pkl"


def _load_wisdom() -> None:
    if _wisdom_state["loaded"]:
        return
    _wisdom_state["loaded"] = True
    try:
        with open(wisdom_path(), "rb") as fh:
            pyfftw.import_wisdom(pickle.load(fh))
    except (OSError, pickle.PickleError, EOFError, ValueError, TypeError):
        pass  # no (usable) wisdom yet: plans are measured and the cache written afterwards


def save_wisdom() -> None:
    """Write the accumulated FFTW wisdom to :func:`wisdom_path` if new plans were measured."""
    if not _wisdom_state["dirty"]:
        return
    path = wisdom_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(pyfftw.export_wisdom(), fh)
        os.replace(tmp, path)
        _wisdom_state["dirty"] = False
    except OSError:
        pass  # a read-only home directory only costs planning time


def _new_plan(*args, **kwargs) -> pyfftw.FFTW:
    _load_wisdom()
    plan = pyfftw.FFTW(*args, **kwargs)
    _wisdom_state["dirty"] |= FFTW_PLANNER_EFFORT != "FFTW_ESTIMATE"
    return plan

def next_fast_len(target: int, real: bool = False) -> int:
    """:func:`scipy.fft.next_fast_len`, with scipy.fft imported on the first call (~0.3 s of start-up)."""
    from scipy.fft import next_fast_len as scipy_next_fast_len

    return scipy_next_fast_len(target, real=real)


# ------------------------------------------------------------------------------------------------
# Frequency grids and weights
# ------------------------------------------------------------------------------------------------


def half_frequencies(k1: int, k2: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer frequencies of a centred half spectrum of odd size ``(k1, k2)``.

    Returns
    -------
    ky : ndarray, shape (k1, 1), float64
    kx : ndarray, shape (1, (k2 + 1) // 2), float64
    """
    _check_odd(k1, k2)
    ky = np.arange(-(k1 - 1) // 2, (k1 - 1) // 2 + 1, dtype=np.float64)[:, None]
    kx = np.arange(0, (k2 - 1) // 2 + 1, dtype=np.float64)[None, :]
    return ky, kx


def half_weights(k1: int, kh: int) -> np.ndarray:
    """Multiplicity of each half-spectrum coefficient in the full spectrum, shape (k1, kh).

    Column ``kx = 0`` stands for itself, every other column also for its mirror ``-kx``; sums
    over the full spectrum are therefore ``sum(weights * values)`` over the half spectrum.
    """
    w = np.full((k1, kh), 2.0, dtype=np.float32)
    w[:, 0] = 1.0
    return w


def inner_product(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> float:
    """Real inner product ``Re <a, b>`` over full spectra, computed from half spectra.

    ``a`` and ``b`` have shape (..., k1, kh); ``weights`` is :func:`half_weights`.
    """
    return float(np.sum(weights * (a.real * b.real + a.imag * b.imag)))


def _check_odd(*sizes: int) -> None:
    for s in sizes:
        if s % 2 == 0:
            raise ValueError(f"spectrum sizes must be odd, got {sizes}")


def odd_size(n: int) -> int:
    """Number of Fourier coefficients used for a discrete map of ``n`` samples (odd)."""
    return n + 1 - n % 2


# ------------------------------------------------------------------------------------------------
# Transforms
# ------------------------------------------------------------------------------------------------


class RealFFT2:
    """A reusable pyFFTW plan: real (..., n1, n2) float32 -> centred half spectrum complex64.

    The plan and its aligned buffers are built once; each call copies the input in, executes and
    rearranges the unnormalized DFT ``X[k] = sum_n x[n] exp(-i 2 pi k n / N)`` into the centred
    odd-size layout (see the module docstring).
    """

    def __init__(self, shape: tuple[int, ...], threads: int = 1):
        self.shape = tuple(shape)
        n1, n2 = self.shape[-2:]
        self._in = pyfftw.empty_aligned(self.shape, dtype=np.float32)
        self._out = pyfftw.empty_aligned(self.shape[:-1] + (n2 // 2 + 1,), dtype=np.complex64)
        self._plan = _new_plan(
            self._in, self._out, axes=(-2, -1), direction="FFTW_FORWARD",
            flags=(FFTW_PLANNER_EFFORT,), threads=threads,
        )
        self.k1, self.k2 = odd_size(n1), odd_size(n2)
        self._rows = _centred_rows(n1)

    def __call__(self, x: np.ndarray, window: np.ndarray | None = None) -> np.ndarray:
        """DFT of ``x`` (shape ``self.shape``), times ``window`` (broadcast) if given, as a centred half
        spectrum (..., k1, (k2+1)//2). The product is written straight into the plan's input."""
        if window is None:
            self._in[...] = x
        else:
            np.multiply(x, window, out=self._in)
        self._plan.execute()
        kh = (self.k2 + 1) // 2  # for even n2 the last rfft column is the Nyquist frequency n2/2
        return np.ascontiguousarray(self._out[..., self._rows, :kh])


class Plans1D:
    """1-D complex transforms along one axis, ``numpy_fft.fft`` / ``ifft`` without their per-call cost.

    Each call of the :mod:`pyfftw.interfaces` functions builds a cache key from the input and looks
    the plan up (~10 us; the scale filter makes four such calls per frame on arrays of ~17 x 33
    numbers). Here the plan object of each input shape and dtype is built once, by the same builder
    with the same arguments as the interface, and called the same way, so the results are the same
    bit for bit.
    """

    def __init__(self) -> None:
        self._plans: dict[tuple, object] = {}

    def fft(self, x: np.ndarray, axis: int = -1) -> np.ndarray:
        """``numpy_fft.fft(x, axis=axis)``."""
        return self._run("fft", x, axis)

    def ifft(self, x: np.ndarray, axis: int = -1) -> np.ndarray:
        """``numpy_fft.ifft(x, axis=axis)`` (normalized by 1 / n)."""
        return self._run("ifft", x, axis)

    def _run(self, kind: str, x: np.ndarray, axis: int) -> np.ndarray:
        from pyfftw import builders
        from pyfftw.builders._utils import _default_effort, _default_threads

        x = np.asarray(x)
        key = (kind, x.shape, x.dtype.str, axis)
        plan = self._plans.get(key)
        if plan is None:
            template = pyfftw.empty_aligned(x.shape, dtype=x.dtype)
            plan = self._plans[key] = getattr(builders, kind)(
                template, None, axis, False, _default_effort(None), _default_threads(None), True, True)
        return plan(x, normalise_idft=True, ortho=False).copy()


def _centred_rows(n: int) -> np.ndarray:
    """Row gather index from FFT order to the centred layout: frequency k -> row k mod n."""
    k_max = (odd_size(n) - 1) // 2
    return np.mod(np.arange(-k_max, k_max + 1), n).astype(np.intp)


class HalfSpectrumSampler:
    """Evaluate a centred half spectrum of odd size (k1, k2) on its own ``k1 x k2`` grid.

    Returns ``s[n1, n2] = s(t = (n1, n2))`` (grid cells, index 0 = zero displacement), using a
    reusable inverse real FFT plan.
    """

    def __init__(self, k1: int, k2: int, threads: int = 1):
        _check_odd(k1, k2)
        self.k1, self.k2 = k1, k2
        kh = (k2 + 1) // 2
        self._in = pyfftw.empty_aligned((k1, kh), dtype=np.complex64)
        self._out = pyfftw.empty_aligned((k1, k2), dtype=np.float32)
        self._plan = _new_plan(
            self._in, self._out, axes=(0, 1), direction="FFTW_BACKWARD",
            flags=(FFTW_PLANNER_EFFORT, "FFTW_DESTROY_INPUT"), threads=threads,
        )
        self._rows = np.fft.ifftshift(np.arange(k1))

    def __call__(self, spectrum: np.ndarray) -> np.ndarray:
        np.take(spectrum, self._rows, axis=0, out=self._in)
        self._plan.execute()
        # FFTW's backward transform is unnormalized: it already computes sum_k S[k] e^{+i...}.
        return self._out.copy()


# ------------------------------------------------------------------------------------------------
# Continuous interpolation (operator J_d of the paper)
# ------------------------------------------------------------------------------------------------

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)


def cubic_kernel(x: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel u(x) with parameter ``a`` (support |x| < 2)."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    inner = (a + 2) * x**3 - (a + 3) * x**2 + 1
    outer = a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
    return np.where(x <= 1, inner, np.where(x < 2, outer, 0.0))


def cubic_kernel_fourier(f: np.ndarray, a: float) -> np.ndarray:
    """Continuous Fourier transform ``U(f) = int u(x) exp(-i 2 pi f x) dx`` of :func:`cubic_kernel`.

    ``u`` is even, so ``U(f) = 2 int_0^2 u(x) cos(2 pi f x) dx``; the integrand is a cubic times a
    cosine on each of [0, 1] and [1, 2], integrated by 24-point Gauss-Legendre quadrature, which
    is exact to float64 rounding for the frequencies used here (|f| <= 1).
    """
    f = np.asarray(f, dtype=np.float64)
    total = np.zeros_like(f)
    for lo, hi in ((0.0, 1.0), (1.0, 2.0)):
        x = 0.5 * (hi - lo) * _GL_NODES + 0.5 * (hi + lo)
        w = 0.5 * (hi - lo) * _GL_WEIGHTS
        total += np.tensordot(np.cos(2 * np.pi * f[..., None] * x) * cubic_kernel(x, a), w, axes=([-1], [0]))
    return 2.0 * total


@lru_cache(maxsize=64)
def interpolation_coefficients(n: int, a: float) -> np.ndarray:
    """Fourier coefficients of the interpolation operator for ``n`` samples on one axis.

    The ``n`` samples of a feature map sit at ``t_m = (m + 1/2) T / n`` (pixel centres, so the
    patch centre is at ``T / 2``). Interpolating them with the cubic kernel gives a periodic
    function whose coefficients are ``X_dft[k] * b[k]`` with
    ``b[k] = U(k / n) / n * exp(-i pi k / n)``.

    Returns
    -------
    ndarray, shape (odd_size(n),), complex128
        ``b[k]`` for ``k = -(K - 1)/2 .. (K - 1)/2``.
    """
    k_max = (odd_size(n) - 1) // 2
    k = np.arange(-k_max, k_max + 1, dtype=np.float64)
    return cubic_kernel_fourier(k / n, a) / n * np.exp(-1j * np.pi * k / n)


def interpolation_grid(n1: int, n2: int, a: float) -> np.ndarray:
    """Separable 2-D interpolation coefficients as a centred half spectrum, complex64."""
    by = interpolation_coefficients(n1, a)
    bx = interpolation_coefficients(n2, a)
    bx_half = bx[(len(bx) - 1) // 2:]
    return (by[:, None] * bx_half[None, :]).astype(np.complex64)


# ------------------------------------------------------------------------------------------------
# Shifts, labels, padding
# ------------------------------------------------------------------------------------------------


def shift_spectrum(xf: np.ndarray, shift_yx: tuple[float, float], k_size: tuple[int, int]) -> np.ndarray:
    """Translate a periodic function by ``shift_yx`` (in cells of a ``k_size`` grid).

    ``g(t) -> g(t - shift)`` multiplies coefficient ``k`` by ``exp(-i 2 pi k . shift / K)``.
    """
    k1, k2 = xf.shape[-2], 2 * xf.shape[-1] - 1
    ky, kx = half_frequencies(k1, k2)
    phase = np.exp(-2j * np.pi * (ky * shift_yx[0] / k_size[0] + kx * shift_yx[1] / k_size[1]))
    return (xf * phase.astype(np.complex64)).astype(np.complex64)


def gaussian_label(k1: int, k2: int, sigma: tuple[float, float], period: tuple[float, float]) -> np.ndarray:
    """Fourier coefficients of a periodic Gaussian centred at t = 0.

    ``y(t) = exp(-|t|^2 / (2 sigma^2))`` on a period ``T`` has coefficients
    ``sqrt(2 pi) sigma / T * exp(-2 (pi sigma k / T)^2)`` per axis (the Gaussian is narrow
    compared with the period, so aliasing is negligible).

    Returns a centred half spectrum of odd size (k1, k2), complex64.
    """
    ky, kx = half_frequencies(k1, k2)
    gy = np.sqrt(2 * np.pi) * sigma[0] / period[0] * np.exp(-2 * (np.pi * sigma[0] * ky / period[0]) ** 2)
    gx = np.sqrt(2 * np.pi) * sigma[1] / period[1] * np.exp(-2 * (np.pi * sigma[1] * kx / period[1]) ** 2)
    return (gy * gx).astype(np.complex64)


def hann_window(n: int) -> np.ndarray:
    """Cosine window of length ``n`` without zero end points (ECO's ``hann(n + 2)`` trimmed)."""
    return np.hanning(n + 2)[1:-1].astype(np.float32)


def full_from_half(xf: np.ndarray) -> np.ndarray:
    """Centred full spectrum (..., k1, k2) from a centred half spectrum (..., k1, kh)."""
    mirror = np.conj(xf[..., ::-1, :0:-1])  # G[-ky, -kx] for kx = kh-1 .. 1
    return np.concatenate([mirror, xf], axis=-1)


def pad_spectrum(xf: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Zero-pad a centred half spectrum (..., k1, kh) to the odd grid ``size`` (no coefficient lost).

    The function it represents is unchanged; only the grid it is sampled on becomes finer.
    """
    k1, kh = xf.shape[-2:]
    out_kh = (size[1] + 1) // 2
    if size[0] < k1 or out_kh < kh:
        raise ValueError(f"cannot pad a ({k1}, {kh}) spectrum to the smaller grid {size}")
    out = np.zeros(xf.shape[:-2] + (size[0], out_kh), dtype=xf.dtype)
    r0 = (size[0] - k1) // 2
    out[..., r0:r0 + k1, :kh] = xf
    return out
