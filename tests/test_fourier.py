"""Fourier building blocks against direct evaluation of the continuous functions they represent."""

import numpy as np
import pytest
from scipy import integrate

from dcfre import fourier


def test_cubic_kernel_fourier_matches_numerical_integration():
    a = -0.75
    for f in [0.0, 0.1, 0.37, 0.5, 0.9]:
        ref, _ = integrate.quad(lambda x: fourier.cubic_kernel(x, a) * np.cos(2 * np.pi * f * x), -2, 2, limit=200)
        assert fourier.cubic_kernel_fourier(np.array(f), a) == pytest.approx(ref, abs=1e-10)
    assert fourier.cubic_kernel_fourier(np.array(0.0), a) == pytest.approx(1.0)


def _direct_interpolation(x: np.ndarray, a: float, dense: int) -> np.ndarray:
    """J{x}(t) on a dense grid by summing shifted cubic kernels (periodic), no Fourier at all."""
    def basis(n):
        t = (np.arange(n * dense) + 0.0) / dense  # in sample units, period n
        centres = np.arange(n) + 0.5
        d = t[:, None] - centres[None, :]
        return sum(fourier.cubic_kernel(d + p * n, a) for p in (-1, 0, 1))

    by, bx = basis(x.shape[0]), basis(x.shape[1])
    return by @ x @ bx.T


@pytest.mark.parametrize("shape", [(7, 9), (8, 6), (6, 7)])
def test_interpolated_spectrum_matches_direct_continuous_function(shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    a = -0.75
    coeffs = fourier.RealFFT2(shape)(x) * fourier.interpolation_grid(*shape, a)

    dense = 16
    values = _direct_interpolation(x.astype(np.float64), a, dense)
    ref_full = np.fft.fft2(values) / values.size  # Fourier series coefficients, FFT order
    k1, k2 = fourier.odd_size(shape[0]), fourier.odd_size(shape[1])
    ky, kx = fourier.half_frequencies(k1, k2)
    ref = ref_full[np.mod(ky.astype(int), values.shape[0]), np.mod(kx.astype(int), values.shape[1])]
    assert np.abs(coeffs - ref).max() < 2e-4 * np.abs(ref).max()


def test_half_spectrum_sampler_evaluates_the_series():
    k1, k2 = 7, 9
    rng = np.random.default_rng(2)
    spatial = rng.standard_normal((k1, k2)).astype(np.float32)
    spectrum = fourier.RealFFT2(spatial.shape)(spatial) / spatial.size
    values = fourier.HalfSpectrumSampler(k1, k2)(spectrum.astype(np.complex64))
    assert np.allclose(values, spatial, atol=1e-5)


def test_shift_spectrum_translates_the_function():
    k1, k2 = 9, 11
    label = fourier.gaussian_label(k1, k2, (1.5, 1.5), (k1, k2))
    shifted = fourier.shift_spectrum(label, (2.0, -3.0), (k1, k2))
    values = fourier.HalfSpectrumSampler(k1, k2)(shifted)
    assert np.unravel_index(np.argmax(values), values.shape) == (2, k2 - 3)


def test_gaussian_label_coefficients_match_sampled_gaussian():
    k, sigma = 31, 2.0
    label = fourier.gaussian_label(k, k, (sigma, sigma), (k, k))
    values = fourier.HalfSpectrumSampler(k, k)(label)
    t = np.minimum(np.arange(k), k - np.arange(k)).astype(np.float64)
    ref = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * sigma**2))
    assert np.abs(values - ref).max() < 1e-3


def test_full_from_half_is_conjugate_symmetric_and_matches_numpy():
    x = np.random.default_rng(3).standard_normal((5, 7)).astype(np.float32)
    full = fourier.full_from_half(fourier.RealFFT2(x.shape)(x))
    ref = np.fft.fftshift(np.fft.fft2(x))
    assert np.allclose(full, ref, atol=1e-4)


def test_real_fft_applies_a_window_while_filling_its_input():
    rng = np.random.default_rng(5)
    x = np.moveaxis(rng.standard_normal((2, 12, 10, 3)).astype(np.float32), -1, 1)  # strided, as the model's
    window = rng.random((12, 10)).astype(np.float32)
    plan = fourier.RealFFT2(x.shape)
    np.testing.assert_array_equal(plan(x, window), plan(x * window))


@pytest.mark.parametrize("shape, axis, dtype", [((17,), -1, np.float64), ((9, 17), 1, np.float64),
                                                ((33,), -1, np.complex128), ((4, 6), 0, np.complex128)])
def test_plans_1d_equal_the_interface_bit_for_bit_and_numpy(shape, axis, dtype):
    plans = fourier.Plans1D()
    rng = np.random.default_rng(3)
    for _ in range(2):  # the second call reuses the plan
        x = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if dtype == np.complex128 else 0)
        for kind in ("fft", "ifft"):
            got = getattr(plans, kind)(x, axis=axis)
            same = getattr(fourier.numpy_fft, kind)(x, axis=axis)
            assert got.dtype == same.dtype and np.array_equal(got.view(np.uint64), same.view(np.uint64))
            np.testing.assert_allclose(got, getattr(np.fft, kind)(x, axis=axis), atol=1e-12)
