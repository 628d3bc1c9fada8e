"""Color Names table (shipped copy) and the per-cell table / intensity features."""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pytest
import skimage.data

from dcfre.errors import InputError
from dcfre.features.colornames import colornames, colornames_table, intensity, intensity_channel_table
from dcfre.image import is_color_frame

#: sha256 of the committed data/colornames_cnnorm.npy file and of the table's raw float32 bytes.
FILE_SHA256 = "40dfe59dc24e683b9e0f814f67c6fcb052cb0a759284b9f9c77520c74e44e5e2"
TABLE_SHA256 = "e6a0a45f68cf5880d018f9e2f82dff180e992296d335b0fa8eb253b9db403ec0"
FIRST_ROW_PREFIX = [0.45975, 0.014802, 0.044289]
LAST_ROW = [0.0087778, -0.015645, 0.004769, 0.011785, -0.54199, 0.31505, 0.00020476, -0.020282, 0.00021236, -0.34675]


def naive_cell_average(per_pixel, cell):
    rows, cols = per_pixel.shape[0] // cell, per_pixel.shape[1] // cell
    out = np.zeros((rows, cols, per_pixel.shape[2]))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = per_pixel[i * cell : (i + 1) * cell, j * cell : (j + 1) * cell].mean(axis=(0, 1))
    return out


def naive_colornames(image_uint8, cell):
    rgb = image_uint8.astype(np.int64)
    index = rgb[:, :, 0] // 8 + 32 * (rgb[:, :, 1] // 8) + 1024 * (rgb[:, :, 2] // 8)
    return naive_cell_average(colornames_table()[index].astype(np.float64), cell)


def test_committed_file_hash():
    data = resources.files("dcfre.features").joinpath("data/colornames_cnnorm.npy").read_bytes()
    assert hashlib.sha256(data).hexdigest() == FILE_SHA256


def test_table_content():
    table = colornames_table()
    assert table.shape == (32768, 10) and table.dtype == np.float32
    assert hashlib.sha256(table.tobytes()).hexdigest() == TABLE_SHA256
    np.testing.assert_array_equal(table[0, :3], np.float32(FIRST_ROW_PREFIX))
    np.testing.assert_array_equal(table[-1], np.float32(LAST_ROW))
    assert np.all(np.isfinite(table))


def test_table_is_cached_and_read_only():
    table = colornames_table()
    assert colornames_table() is table
    with pytest.raises(ValueError):
        table[0, 0] = 1.0


@pytest.mark.parametrize(("name", "cell"), [("astronaut", 4), ("coffee", 1), ("chelsea", 6)])
def test_colornames_matches_naive_lookup(name, cell):
    image = getattr(skimage.data, name)()[37:140, 51:170]
    features = colornames(image, cell)
    assert features.shape == (103 // cell, 119 // cell, 10) and features.dtype == np.float32
    np.testing.assert_allclose(features, naive_colornames(image, cell), rtol=1e-5, atol=1e-6)


def test_colornames_on_all_table_rows():
    # A 32768-pixel image visiting every colour bin once, cell 1: the output is the table itself.
    levels = np.arange(32768)
    image = np.stack([(levels % 32) * 8 + 7, (levels // 32 % 32) * 8, (levels // 1024) * 8 + 3], axis=-1)
    image = image.reshape(128, 256, 3).astype(np.uint8)
    np.testing.assert_array_equal(colornames(image, 1).reshape(-1, 10), colornames_table())


def test_float_input_is_rounded_like_uint8():
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, size=(24, 20, 3), dtype=np.uint8)
    reference = colornames(image, 4)
    np.testing.assert_array_equal(colornames(image.astype(np.float32), 4), reference)
    jitter = rng.uniform(-0.49, 0.49, size=image.shape)
    noisy = np.clip(image + jitter, -3.0, 300.0).astype(np.float32)
    np.testing.assert_array_equal(colornames(noisy, 4), reference)
    # 7.6 rounds to 8, which is the next colour level.
    low = colornames(np.full((4, 4, 3), 7.4, dtype=np.float32), 4)
    high = colornames(np.full((4, 4, 3), 7.6, dtype=np.float32), 4)
    np.testing.assert_allclose(low[0, 0], colornames_table()[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(high[0, 0], colornames_table()[1 + 32 + 1024], rtol=1e-6, atol=1e-7)
    assert not np.allclose(low, high)


def _eco_intensity_coding():
    """ECO's 6-channel intensity coding, from scipy's quadratic B-spline: spacing 255/4, centres (k - 1/2) * 255/4."""
    from scipy.interpolate import BSpline

    spline = BSpline.basis_element([-1.5, -0.5, 0.5, 1.5], extrapolate=False)
    spacing = 255 / 4
    levels = np.arange(256.0)
    return np.stack([np.nan_to_num(spline((levels - (k - 0.5) * spacing) / spacing)) for k in range(6)], axis=1)


def test_intensity_table_spans_ecos_coding_without_its_constant():
    table = intensity_channel_table().astype(np.float64)
    coding = _eco_intensity_coding()
    assert table.shape == (256, 5)
    np.testing.assert_allclose(coding.sum(axis=1), 1.0, atol=1e-12)  # the constant direction ECO drops
    centred = coding - coding.mean(axis=1, keepdims=True)
    # same inner products as the coding projected off (1, ..., 1): ECO's table up to a rotation
    np.testing.assert_allclose(table @ table.T, centred @ centred.T, atol=1e-6)
    # the rows' norms: 1/sqrt(3) at the spline centres and midpoints (levels 0, 32, 64, ... are not centres)
    centre_levels = [round((k - 0.5) * 255 / 4) for k in range(1, 5)]
    assert np.allclose(np.linalg.norm(table[centre_levels], axis=1), np.linalg.norm(centred[centre_levels], axis=1))
    assert not intensity_channel_table().flags.writeable


def test_intensity_matches_naive_average():
    gray = skimage.data.camera()[10:77, 20:103]
    features = intensity(gray, 4)
    assert features.shape == (16, 20, 5) and features.dtype == np.float32
    expected = naive_cell_average(intensity_channel_table()[gray].astype(np.float64), 4)
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(intensity(gray.astype(np.float32)[:, :, None], 4), features, atol=1e-7)
    np.testing.assert_allclose(intensity(np.full((4, 4), 300.0, np.float32), 2)[0, 0], intensity_channel_table()[255])


def test_equal_channel_rgb_is_gray():
    gray = skimage.data.camera()[:40, :50]
    assert not is_color_frame(gray)
    assert not is_color_frame(np.repeat(gray[:, :, None], 3, axis=2))
    assert is_color_frame(skimage.data.astronaut()[:40, :50])
    tinted = np.repeat(gray[:, :, None], 3, axis=2)
    tinted[5, 7, 1] ^= 1  # one differing pixel makes the frame colour, as in ECO
    assert is_color_frame(tinted)
    assert not is_color_frame(np.zeros((8, 8, 4), np.uint8))


@pytest.mark.parametrize(
    ("function", "image", "cell", "message"),
    [
        (colornames, np.zeros((8, 8), np.uint8), 4, "channel"),
        (colornames, np.zeros((8, 8, 4), np.uint8), 4, "channel"),
        (colornames, np.zeros((3, 8, 3), np.uint8), 4, "smaller than one"),
        (colornames, np.zeros((8, 8, 3), complex), 4, "dtype"),
        (colornames, np.zeros((8, 8, 3), np.uint8), 0, "cell_size"),
        (intensity, np.zeros((8, 8, 3), np.uint8), 4, "channel"),
        (intensity, np.zeros((8,), np.uint8), 4, "shape"),
        (intensity, np.zeros((8, 8), np.uint8), 2.5, "cell_size"),
    ],
)
def test_invalid_input_raises_input_error(function, image, cell, message):
    with pytest.raises(InputError, match=message):
        function(image, cell)


def test_float_patches_give_the_features_of_their_uint8_rounding():
    """The extractor passes float patches straight to the kernel: it must round them as _to_uint8 does."""
    from dcfre.features.colornames import colornames
    from dcfre.features.extractor import _to_uint8

    rng = np.random.default_rng(3)
    patch = rng.uniform(-3.0, 258.0, (24, 20, 3)).astype(np.float32)
    patch[:4] = np.round(patch[:4])  # whole values too, as ECO's sampling of uint8 frames gives
    patch[4, :3] = [254.5, 255.0, -0.5]
    np.testing.assert_array_equal(colornames(patch, 4), colornames(_to_uint8(patch), 4))
