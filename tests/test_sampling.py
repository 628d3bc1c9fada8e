"""crop_and_resize against OpenCV, scikit-image, scipy and a direct overlap-weight reference."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import scipy.ndimage
import skimage.data
import skimage.transform

from dcfre.errors import InputError
from dcfre.features.sampling import crop_and_resize, crop_and_resize_at, crop_and_resize_many, eco_sample_patches


def whole_image(image, out_hw):
    """Resample the whole image (patch = image extent) to out_hw."""
    height, width = image.shape[:2]
    return crop_and_resize(image, ((height - 1) / 2, (width - 1) / 2), (height, width), out_hw)


def reference_axis_weights(start, size, n_out, n_in):
    """Dense (n_out, n_in) weights of one axis, written directly from the definition."""
    step = size / n_out
    weights = np.zeros((n_out, n_in))
    for j in range(n_out):
        a, b = start + j * step, start + (j + 1) * step
        if step > 1:
            # Area average over [a, b] of the image extended by replicating its edge pixels.
            for i in range(math.floor(a) - 1, math.ceil(b) + 2):
                overlap = max(0.0, min(b, i + 0.5) - max(a, i - 0.5))
                weights[j, min(max(i, 0), n_in - 1)] += overlap / step
        else:
            centre = (a + b) / 2
            low = math.floor(centre)
            for i, w in ((low, 1 - (centre - low)), (low + 1, centre - low)):
                weights[j, min(max(i, 0), n_in - 1)] += w
    return weights


def reference_crop(image, center, patch, out_hw):
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 2:
        img = img[:, :, None]
    wy = reference_axis_weights(center[0] - patch[0] / 2, patch[0], out_hw[0], img.shape[0])
    wx = reference_axis_weights(center[1] - patch[1] / 2, patch[1], out_hw[1], img.shape[1])
    return np.einsum("jy,yxc,lx->jlc", wy, img, wx)


@pytest.fixture(scope="module")
def photo():
    return skimage.data.astronaut()[40:200, 100:290]  # 160 x 190 RGB uint8


def test_unit_scale_integer_crop_is_exact(photo):
    # ECO's integer crop of size s around pixel p is the patch centred on p + 0.5 * (1 - s % 2).
    for size_y, size_x, py, px in ((7, 8, 40, 50), (10, 11, 100, 21), (1, 2, 0, 5)):
        center = (py + 0.5 * (1 - size_y % 2), px + 0.5 * (1 - size_x % 2))
        patch = crop_and_resize(photo, center, (size_y, size_x), (size_y, size_x))
        expected = photo[py - (size_y - 1) // 2 : py + size_y // 2 + 1, px - (size_x - 1) // 2 : px + size_x // 2 + 1]
        assert patch.dtype == np.float32 and patch.shape == (size_y, size_x, 3)
        np.testing.assert_array_equal(patch, expected.astype(np.float32))


@pytest.mark.parametrize("out_hw", [(40, 38), (53, 47), (16, 95), (159, 189)])
def test_downsampling_matches_cv2_inter_area(photo, out_hw):
    image = photo.astype(np.float32)
    expected = cv2.resize(image, (out_hw[1], out_hw[0]), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(whole_image(image, out_hw), expected, atol=2e-3)


@pytest.mark.parametrize("out_hw", [(320, 380), (161, 191), (500, 233)])
def test_upsampling_matches_cv2_inter_linear(photo, out_hw):
    image = photo.astype(np.float32)
    expected = cv2.resize(image, (out_hw[1], out_hw[0]), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(whole_image(image, out_hw), expected, atol=2e-3)


def test_uint8_input_matches_cv2_within_rounding(photo):
    expected = cv2.resize(photo, (60, 50), interpolation=cv2.INTER_AREA).astype(np.float32)
    np.testing.assert_allclose(whole_image(photo, (50, 60)), expected, atol=0.51)


def test_integer_factor_matches_skimage_local_mean():
    gray = skimage.data.camera()[:120, :90]
    expected = skimage.transform.downscale_local_mean(gray.astype(np.float64), (3, 3))
    np.testing.assert_allclose(whole_image(gray, (40, 30)), expected, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize(
    ("center", "patch", "out_hw"),
    [
        ((80.3, 95.7), (101.4, 77.9), (31, 29)),  # area, non-integer everything
        ((10.25, 180.6), (60.5, 70.2), (20, 20)),  # crosses the top and right borders
        ((70.6, 50.2), (20.3, 30.8), (41, 67)),  # bilinear, sub-pixel centre
        ((150.0, 3.3), (90.0, 10.4), (30, 50)),  # area along y, bilinear along x
        ((-400.0, 600.0), (50.0, 50.0), (12, 12)),  # entirely outside
    ],
)
def test_sub_pixel_crops_match_direct_reference(photo, center, patch, out_hw):
    actual = crop_and_resize(photo, center, patch, out_hw)
    np.testing.assert_allclose(actual, reference_crop(photo, center, patch, out_hw), rtol=1e-5, atol=2e-3)


def test_upsampling_matches_scipy_map_coordinates():
    rng = np.random.default_rng(3)
    image = rng.uniform(0, 255, size=(40, 50)).astype(np.float32)
    center, patch, out_hw = (18.4, 27.9), (12.6, 21.3), (25, 44)
    rows = center[0] - patch[0] / 2 + (np.arange(out_hw[0]) + 0.5) * patch[0] / out_hw[0]
    cols = center[1] - patch[1] / 2 + (np.arange(out_hw[1]) + 0.5) * patch[1] / out_hw[1]
    grid = np.meshgrid(rows, cols, indexing="ij")
    expected = scipy.ndimage.map_coordinates(image.astype(np.float64), grid, order=1, mode="nearest")
    actual = crop_and_resize(image, center, patch, out_hw)
    assert actual.shape == out_hw
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-3)


def test_half_pixel_shift_averages_neighbours():
    image = np.array([[0.0, 10.0, 30.0], [100.0, 110.0, 130.0]], dtype=np.float32)
    # One output pixel centred between four pixel centres: their mean (bilinear at scale 1).
    patch = crop_and_resize(image, (0.5, 0.5), (1.0, 1.0), (1, 1))
    assert patch[0, 0] == pytest.approx(55.0)
    # A 2x2 area cell centred on pixel (0, 1) covers it fully plus halves and quarters around.
    patch = crop_and_resize(image, (0.0, 1.0), (2.0, 2.0), (1, 1))
    expected = (0.25 * 0 + 0.5 * 10 + 0.25 * 30) * 0.75 + (0.25 * 100 + 0.5 * 110 + 0.25 * 130) * 0.25
    assert patch[0, 0] == pytest.approx(expected)


def test_far_outside_replicates_border_pixels(photo):
    corner = crop_and_resize(photo, (-1e6, 1e7), (40.0, 33.3), (7, 9))
    np.testing.assert_array_equal(corner, np.broadcast_to(photo[0, -1].astype(np.float32), (7, 9, 3)))
    big = crop_and_resize(photo, (80.0, 95.0), (1e6, 1e6), (5, 5))
    assert np.all(np.isfinite(big))
    # A patch straddling the left border at scale 1: outside columns copy column 0.
    left = crop_and_resize(photo, (50.0, 0.0), (5.0, 9.0), (5, 9))
    for k in range(5):
        np.testing.assert_array_equal(left[:, k], photo[48:53, 0].astype(np.float32))


def test_outputs_are_convex_combinations():
    rng = np.random.default_rng(11)
    image = rng.uniform(0, 255, size=(60, 70, 2)).astype(np.float32)
    constant = np.full((30, 20), 42.0, dtype=np.float32)
    for _ in range(20):
        center = rng.uniform(-30, 100, size=2)
        patch = rng.uniform(0.5, 150, size=2)
        out_hw = tuple(rng.integers(1, 60, size=2))
        result = crop_and_resize(image, center, patch, out_hw)
        assert result.shape == (*out_hw, 2)
        assert result.min() >= image.min() - 1e-3 and result.max() <= image.max() + 1e-3
        np.testing.assert_allclose(crop_and_resize(constant, center, patch, out_hw), 42.0, rtol=1e-5)


def test_gray_input_gives_2d_output_and_uint8_equals_float(photo):
    gray = photo[:, :, 0]
    out = crop_and_resize(gray, (70.2, 80.9), (90.5, 60.1), (33, 21))
    assert out.shape == (33, 21) and out.dtype == np.float32
    np.testing.assert_allclose(out, crop_and_resize(gray.astype(np.float32), (70.2, 80.9), (90.5, 60.1), (33, 21)))
    np.testing.assert_allclose(out, crop_and_resize(photo, (70.2, 80.9), (90.5, 60.1), (33, 21))[:, :, 0], atol=1e-4)


def test_many_equals_single(photo):
    sizes = np.array([[40.0 * 1.02**k, 30.0 * 1.02**k] for k in range(-8, 9)])
    batch = crop_and_resize_many(photo, (90.3, 101.6), sizes, (16, 24))
    assert batch.shape == (17, 16, 24, 3) and batch.dtype == np.float32
    for i, size in enumerate(sizes):
        np.testing.assert_array_equal(batch[i], crop_and_resize(photo, (90.3, 101.6), size, (16, 24)))
    gray = crop_and_resize_many(photo[:, :, 1], (90.3, 101.6), sizes[:3], (16, 24))
    assert gray.shape == (3, 16, 24)


def test_at_several_centres_equals_single(photo):
    centres = np.array([[90.3, 101.6], [-20.0, 15.5], [300.7, 12.2], [5.0, 400.0]])  # some outside
    batch = crop_and_resize_at(photo, centres, (40.5, 30.2), (16, 24))
    assert batch.shape == (4, 16, 24, 3) and batch.dtype == np.float32
    for i, centre in enumerate(centres):
        np.testing.assert_array_equal(batch[i], crop_and_resize(photo, centre, (40.5, 30.2), (16, 24)))
    assert crop_and_resize_at(photo[:, :, 1], centres[:2], (40.5, 30.2), (16, 24)).shape == (2, 16, 24)
    for bad in (np.zeros((0, 2)), np.zeros((3, 3)), [[np.nan, 1.0]]):
        with pytest.raises(InputError, match="centers_yx"):
            crop_and_resize_at(photo, bad, (40.5, 30.2), (16, 24))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image": np.zeros((4, 4, 3, 2))}, "shape"),
        ({"image": np.zeros((4, 0))}, "empty"),
        ({"center_yx": (np.nan, 1.0)}, "center_yx"),
        ({"center_yx": (1.0, 2.0, 3.0)}, "center_yx"),
        ({"center_yx": "middle"}, "center_yx"),
        ({"patch_hw": (0.0, 5.0)}, "patch_hw"),
        ({"patch_hw": (np.inf, 5.0)}, "patch_hw"),
        ({"out_hw": (0, 5)}, "out_hw"),
        ({"out_hw": (4.0, 5)}, "out_hw"),
        ({"out_hw": 5}, "out_hw"),
    ],
)
def test_invalid_arguments_raise_input_error(kwargs, message):
    arguments = {"image": np.zeros((10, 10), np.uint8), "center_yx": (5, 5), "patch_hw": (4, 4), "out_hw": (3, 3)}
    arguments.update(kwargs)
    with pytest.raises(InputError, match=message):
        crop_and_resize(**arguments)


@pytest.mark.parametrize("sizes", [np.zeros((0, 2)), np.ones((3, 3)), [[1.0, -2.0]], [[np.nan, 1.0]], "big"])
def test_many_rejects_bad_sizes(sizes):
    with pytest.raises(InputError, match="patch_hws"):
        crop_and_resize_many(np.zeros((10, 10), np.uint8), (5, 5), sizes, (3, 3))


def _eco_sample_patch_reference(image, pos0, sample_hw, out_hw):
    """ECO's sample_patch.m written out with 1-based MATLAB indices, then a dense bilinear resize.

    The resize maps output pixel j to input coordinate (j + 0.5) * n_in / n_out - 0.5, clamped
    to the border (OpenCV INTER_LINEAR / mexResize 'linear', no antialiasing).
    """
    pos = np.floor(np.asarray(pos0, dtype=float) + 1)  # 1-based
    sample = np.asarray(sample_hw, dtype=float)
    df = max(math.floor(min(sample / np.asarray(out_hw)) - 0.1), 1)
    im = image
    if df > 1:
        os_ = np.mod(pos - 1, df)
        pos = (pos - 1 - os_) / df + 1
        sample = sample / df
        im = image[int(os_[0])::df, int(os_[1])::df]
    size = np.maximum(np.floor(sample + 0.5), 2).astype(int)  # MATLAB round
    ys = pos[0] + np.arange(1, size[0] + 1) - np.floor((size[0] + 1) / 2)
    xs = pos[1] + np.arange(1, size[1] + 1) - np.floor((size[1] + 1) / 2)
    ys = np.clip(ys, 1, im.shape[0]).astype(int) - 1
    xs = np.clip(xs, 1, im.shape[1]).astype(int) - 1
    patch = im[np.ix_(ys, xs)].astype(np.float64)

    def axis_matrix(n_in, n_out):
        m = np.zeros((n_out, n_in))
        for j in range(n_out):
            src = min(max((j + 0.5) * n_in / n_out - 0.5, 0.0), n_in - 1)
            lo = int(math.floor(src))
            hi = min(lo + 1, n_in - 1)
            m[j, lo] += 1 - (src - lo)
            m[j, hi] += src - lo
        return m

    ry, rx = axis_matrix(patch.shape[0], out_hw[0]), axis_matrix(patch.shape[1], out_hw[1])
    return np.einsum("ab,bcd,ec->aed", ry, patch, rx)


@pytest.mark.parametrize("pos, sample_hw, out_hw", [
    ((60, 80), (50.0, 50.0), (50, 50)),  # same size: a plain integer crop
    ((60, 81), (41.2, 41.2), (50, 50)),  # enlarged
    ((61, 80), (90.0, 90.0), (50, 50)),  # shrunk by 1.8: no decimation
    ((33, 47), (170.0, 170.0), (50, 50)),  # decimated by 3, then resized; leaves the image
    ((2, 150), (120.0, 120.0), (40, 40)),  # decimated by 2 at an odd position, border replicated
])
def test_eco_sample_patches_match_ecos_sample_patch(pos, sample_hw, out_hw):
    image = skimage.data.astronaut()[100:220, 150:310].astype(np.float32)
    got = eco_sample_patches(image, pos, [sample_hw], out_hw)[0]
    expected = _eco_sample_patch_reference(image, pos, sample_hw, out_hw)
    np.testing.assert_allclose(got, expected, atol=2e-3)
    gray = eco_sample_patches(image[:, :, 0], pos, [sample_hw, sample_hw], out_hw)
    assert gray.shape == (2,) + tuple(out_hw)
    np.testing.assert_allclose(gray[1], expected[:, :, 0], atol=2e-3)


@pytest.mark.parametrize("shape", [(50, 40, 31, 27), (164, 164, 41, 41), (30, 30, 30, 60), (13, 17, 41, 41)])
def test_bilinear_resize_matches_opencv_inter_linear(shape):
    """ECO's patch resize (OpenCV INTER_LINEAR through mexResize) computed by our kernel: equal in float,
    within one grey level on uint8 (OpenCV rounds its uint8 weights to 11 bits)."""
    import cv2

    from dcfre.features._sampling_kernels import bilinear_resize_kernel

    h, w, oh, ow = shape
    rng = np.random.default_rng(h * w)
    image = rng.random((h, w, 3)).astype(np.float32)
    reference = cv2.resize(image, (ow, oh), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(bilinear_resize_kernel(image, oh, ow, False), reference, atol=1e-6)
    image8 = (image * 255).astype(np.uint8)
    reference8 = cv2.resize(image8, (ow, oh), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    assert np.abs(bilinear_resize_kernel(image8.astype(np.float32), oh, ow, True) - reference8).max() <= 1.0


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("crop_hw, out_hw", [((23, 31), (17, 17)), ((9, 12), (25, 20)), ((17, 17), (17, 17))])
def test_gather_resize_equals_resizing_the_gathered_crop(dtype, crop_hw, out_hw, channels):
    """The in-place kernel of ECO's sampling gives exactly the values of copying the crop, then resizing."""
    from dcfre.features._sampling_kernels import bilinear_resize_kernel, gather_resize_kernel

    rng = np.random.default_rng(sum(crop_hw))
    image = (rng.random((40, 50, channels)) * 255).astype(dtype)
    # decimated by 2 from an odd offset, leaving the image at the top and left (replicated border rows)
    rows = np.clip(np.arange(crop_hw[0]) - 4, 0, 19) * 2 + 1
    cols = np.clip(np.arange(crop_hw[1]) - 3, 0, 24) * 2
    crop = image[rows[:, None], cols[None, :]].astype(np.float32)
    uint8 = dtype == np.uint8
    expected = crop if crop_hw == out_hw else bilinear_resize_kernel(crop, out_hw[0], out_hw[1], uint8)
    out = np.empty(out_hw + (channels,), dtype=np.float32)
    gather_resize_kernel(image, rows, cols, uint8, out)
    np.testing.assert_array_equal(out, expected)
