"""FHOG against a slow, direct reference written from the Felzenszwalb / Dollar definition."""

from __future__ import annotations

import math

import numpy as np
import pytest
import skimage.data

from dcfre.errors import InputError
from dcfre.features.hog import fhog, fhog_channel_count, fhog_many

TEXTURE_WEIGHT = 0.2357
BORDER_GAIN = 8.0 / 7.0
# Order of the 4 normalizing blocks of a cell, as (rows up, columns left) of the block's
# top-left cell: the block starting at the cell, above it, left of it, above-left of it.
BLOCK_OFFSETS = ((0, 0), (1, 0), (0, 1), (1, 1))


def reference_fhog(image, cell, n_orientations=9, clip=0.2, soft_orientation=False):
    """Direct FHOG: numpy gradients, per-pixel loops for the votes, per-cell loops for the rest."""
    img = np.asarray(image).astype(np.float32)
    if img.ndim == 2:
        img = img[:, :, None]
    height, width, channels = img.shape
    n_bins = 2 * n_orientations
    rows, cols = height // cell, width // cell

    # Gradients: centred differences, one-sided at the border, per channel, in float32.
    grads = [np.gradient(img[:, :, c]) for c in range(channels)]
    gy_all = np.stack([g[0] for g in grads], axis=-1)
    gx_all = np.stack([g[1] for g in grads], axis=-1)
    m2_all = gx_all * gx_all + gy_all * gy_all
    best = np.argmax(m2_all, axis=-1)  # first channel wins ties

    bin_width = 180.0 / n_orientations
    hist = np.zeros((rows, cols, n_bins))
    for y in range(rows * cell):
        for x in range(cols * cell):
            c = best[y, x]
            gx, gy = float(gx_all[y, x, c]), float(gy_all[y, x, c])
            magnitude = math.sqrt(float(m2_all[y, x, c])) / cell**2
            if magnitude == 0.0:
                continue
            angle = math.degrees(math.atan2(gy, gx)) % 360.0
            if soft_orientation:
                position = angle / bin_width
                low = math.floor(position)
                votes = [(low % n_bins, 1.0 - (position - low)), ((low + 1) % n_bins, position - low)]
            else:
                votes = [(math.floor(angle / bin_width + 0.5 + 1e-9) % n_bins, 1.0)]
            for i in range(rows):
                wy = max(0.0, 1.0 - abs(y - (i * cell + (cell - 1) / 2)) / cell)
                if wy == 0.0:
                    continue
                for j in range(cols):
                    wx = max(0.0, 1.0 - abs(x - (j * cell + (cell - 1) / 2)) / cell)
                    for b, wo in votes:
                        hist[i, j, b] += magnitude * wy * wx * wo
    hist[0] *= BORDER_GAIN
    hist[-1] *= BORDER_GAIN
    hist[:, 0] *= BORDER_GAIN
    hist[:, -1] *= BORDER_GAIN

    insensitive = hist[:, :, :n_orientations] + hist[:, :, n_orientations:]
    energy = (insensitive**2).sum(axis=-1)
    eps = 1e-4 / 4 / cell**4

    def block_norm(top, left):
        # Nearest complete block; a single row/column of cells is used twice.
        top = min(max(top, 0), max(rows - 2, 0))
        left = min(max(left, 0), max(cols - 2, 0))
        cells = [(min(top + a, rows - 1), min(left + b, cols - 1)) for a in (0, 1) for b in (0, 1)]
        return math.sqrt(sum(energy[p] for p in cells) + eps)

    out = np.zeros((rows, cols, 3 * n_orientations + 4))
    for i in range(rows):
        for j in range(cols):
            norms = [block_norm(i - di, j - dj) for di, dj in BLOCK_OFFSETS]
            for b in range(n_bins):
                truncated = [min(hist[i, j, b] / n, clip) for n in norms]
                out[i, j, b] = 0.5 * sum(truncated)
                for k in range(4):
                    out[i, j, 3 * n_orientations + k] += TEXTURE_WEIGHT * truncated[k]
            for o in range(n_orientations):
                out[i, j, n_bins + o] = 0.5 * sum(min(insensitive[i, j, o] / n, clip) for n in norms)
    return out


def assert_close(actual, expected):
    assert actual.shape == expected.shape
    assert actual.dtype == np.float32
    np.testing.assert_allclose(actual, expected, rtol=2e-4, atol=2e-6)


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize(
    ("shape", "cell"),
    [((36, 48, 3), 6), ((41, 37, 3), 4), ((29, 33), 5), ((23, 19, 3), 3), ((12, 13), 1), ((30, 31, 3), 7)],
)
def test_matches_reference_on_random_images(rng, shape, cell):
    image = rng.uniform(0, 255, size=shape).astype(np.float32)
    assert_close(fhog(image, cell), reference_fhog(image, cell))


@pytest.mark.parametrize(
    ("name", "window", "cell", "gray"),
    [
        ("astronaut", (slice(60, 138), slice(150, 216)), 6, False),
        ("coffee", (slice(100, 171), slice(200, 259)), 4, False),
        ("chelsea", (slice(50, 113), slice(120, 181)), 5, True),
    ],
)
def test_matches_reference_on_real_images(name, window, cell, gray):
    image = getattr(skimage.data, name)()[window]
    if gray:
        image = image[:, :, 1]
    assert image.dtype == np.uint8
    features = fhog(image, cell)
    assert_close(features, reference_fhog(image, cell))
    assert features.max() > 0.1  # a textured photo gives non-trivial features


def test_soft_orientation_matches_reference(rng):
    image = rng.uniform(0, 255, size=(30, 42, 3)).astype(np.float32)
    soft = fhog(image, 6, soft_orientation=True)
    assert_close(soft, reference_fhog(image, 6, soft_orientation=True))
    assert not np.allclose(soft, fhog(image, 6), atol=1e-3)


def test_other_orientation_counts_and_clip(rng):
    image = rng.uniform(0, 255, size=(32, 28)).astype(np.float32)
    features = fhog(image, 4, n_orientations=6, clip=0.1)
    assert features.shape == (8, 7, fhog_channel_count(6))
    assert_close(features, reference_fhog(image, 4, n_orientations=6, clip=0.1))
    assert features[:, :, :18].max() <= 2 * 0.1 + 1e-6


def test_single_row_of_cells_uses_that_row_twice(rng):
    image = rng.uniform(0, 255, size=(7, 40, 3)).astype(np.float32)
    assert fhog(image, 4).shape == (1, 10, 31)
    assert_close(fhog(image, 4), reference_fhog(image, 4))
    assert_close(fhog(image.transpose(1, 0, 2), 4), reference_fhog(image.transpose(1, 0, 2), 4))


def test_shape_ignores_trailing_pixels_but_uses_them_as_gradient_neighbours(rng):
    image = rng.uniform(0, 255, size=(40, 45, 3)).astype(np.float32)
    features = fhog(image, 6)
    assert features.shape == (6, 7, 31)
    # Rows/columns >= 6 * 6 + 1 influence nothing (row 36 only as a neighbour of row 35).
    changed = image.copy()
    changed[37:, :] = 0.0
    changed[:, 43:] = 0.0
    np.testing.assert_array_equal(fhog(changed, 6), features)
    changed[36, :] = 0.0
    assert not np.array_equal(fhog(changed, 6), features)


def test_constant_image_gives_zero_features():
    for value in (0, 77, 255):
        features = fhog(np.full((30, 36, 3), value, dtype=np.uint8), 6)
        assert features.shape == (5, 6, 31)
        assert not features.any()


def test_uint8_and_float32_inputs_agree():
    image = skimage.data.astronaut()[:90, :84]
    np.testing.assert_array_equal(fhog(image, 6), fhog(image.astype(np.float32), 6))
    np.testing.assert_array_equal(fhog(image, 6), fhog(image.astype(np.float64), 6))


def test_identical_channels_equal_gray():
    gray = skimage.data.camera()[100:160, 200:272]
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    np.testing.assert_array_equal(fhog(rgb, 4), fhog(gray, 4))


def _permute(features, n, sensitive, insensitive, texture):
    out = np.empty_like(features)
    out[..., [sensitive(o) for o in range(2 * n)]] = features[..., : 2 * n]
    out[..., [2 * n + insensitive(o) for o in range(n)]] = features[..., 2 * n : 3 * n]
    out[..., [3 * n + texture[k] for k in range(4)]] = features[..., 3 * n :]
    return out


def test_horizontal_flip_mirrors_orientations(rng):
    n = 9
    image = rng.uniform(0, 255, size=(36, 42, 3)).astype(np.float32)
    original = fhog(image, 6)
    flipped = fhog(image[:, ::-1], 6)[:, ::-1]
    # angle a -> 180 - a: bin o -> n - o; the "left" block becomes the one at the cell.
    expected = _permute(original, n, lambda o: (n - o) % (2 * n), lambda o: (n - o) % n, (2, 3, 0, 1))
    np.testing.assert_allclose(flipped, expected, rtol=1e-5, atol=1e-6)


def test_vertical_flip_and_rotation_map_orientations(rng):
    n = 9
    image = rng.uniform(0, 255, size=(30, 24)).astype(np.float32)
    original = fhog(image, 6)
    flipped = fhog(image[::-1], 6)[::-1]
    expected = _permute(original, n, lambda o: (-o) % (2 * n), lambda o: (-o) % n, (1, 0, 3, 2))
    np.testing.assert_allclose(flipped, expected, rtol=1e-5, atol=1e-6)
    rotated = fhog(image[::-1, ::-1], 6)[::-1, ::-1]
    expected = _permute(original, n, lambda o: (o + n) % (2 * n), lambda o: o, (3, 2, 1, 0))
    np.testing.assert_allclose(rotated, expected, rtol=1e-5, atol=1e-6)


def test_transpose_maps_orientations(rng):
    # angle a -> 90 - a maps bins onto bins when 90 degrees is a whole number of bins (n even).
    n = 6
    image = rng.uniform(0, 255, size=(26, 35, 3)).astype(np.float32)
    original = fhog(image, 4, n_orientations=n)
    transposed = fhog(image.transpose(1, 0, 2), 4, n_orientations=n).transpose(1, 0, 2)
    expected = _permute(original, n, lambda o: (n // 2 - o) % (2 * n), lambda o: (n // 2 - o) % n, (0, 2, 1, 3))
    np.testing.assert_allclose(transposed, expected, rtol=1e-5, atol=1e-6)


def test_exact_vertical_edges_vote_by_the_documented_tie_rule():
    # A horizontal step gives gx = 0, gy > 0: angle exactly 90 degrees, between bins 4 and 5
    # (n = 9); ties go to the higher bin, so all the energy is in sensitive bin 5.
    image = np.zeros((24, 24), dtype=np.uint8)
    image[12:, :] = 200
    features = fhog(image, 4)
    sensitive = features[:, :, :18].sum(axis=(0, 1))
    assert sensitive[5] > 0 and np.count_nonzero(sensitive) == 1
    # The opposite contrast points at 270 degrees, between bins 13 and 14: bin 14.
    sensitive = fhog(255 - image, 4)[:, :, :18].sum(axis=(0, 1))
    assert sensitive[14] > 0 and np.count_nonzero(sensitive) == 1


def test_fhog_many_equals_single_calls(rng):
    images = rng.integers(0, 256, size=(5, 32, 20, 3), dtype=np.uint8)
    batch = fhog_many(images, 4)
    assert batch.shape == (5, 8, 5, 31)
    for i in range(5):
        np.testing.assert_array_equal(batch[i], fhog(images[i], 4))
    gray_batch = fhog_many(images[:, :, :, 0], 4)
    np.testing.assert_array_equal(gray_batch[2], fhog(images[2, :, :, 0], 4))


@pytest.mark.parametrize(
    ("image", "cell", "message"),
    [
        (np.zeros(10), 4, "shape"),
        (np.zeros((3, 3, 3, 3)), 1, "shape"),
        (np.zeros((5, 5), dtype=complex), 2, "dtype"),
        (np.zeros((5, 5), dtype=bool), 2, "dtype"),
        (np.zeros((0, 5)), 2, "empty"),
        (np.zeros((5, 5)), 6, "smaller than one"),
        (np.zeros((1, 5)), 1, "2x2"),
        (np.zeros((8, 8)), 0, "cell_size"),
        (np.zeros((8, 8)), 2.0, "cell_size"),
        (np.zeros((8, 8)), True, "cell_size"),
        ("not an image", 2, "dtype"),
    ],
)
def test_invalid_input_raises_input_error(image, cell, message):
    with pytest.raises(InputError, match=message):
        fhog(image, cell)


def test_invalid_parameters_raise_input_error():
    image = np.zeros((12, 12), dtype=np.uint8)
    with pytest.raises(InputError, match="clip"):
        fhog(image, 4, clip=float("nan"))
    with pytest.raises(InputError, match="n_orientations"):
        fhog(image, 4, n_orientations=0)
    with pytest.raises(InputError, match="images"):
        fhog_many(np.zeros((4, 4)), 2)


def _histograms_pixel_by_pixel(image, cell, n_orientations, soft):
    """The votes of _accumulate_histograms written out one pixel at a time, in float32 as the kernel
    computes them: per pixel the channel with the strictly largest squared gradient, its magnitude
    / cell^2 split bilinearly over the 4 nearest cells (a grid padded by one cell), into the nearest
    sensitive bin (boundary test in float64, ties to the higher bin) or linearly over two bins."""
    from dcfre.features._hog_kernels import _boundary_directions

    image = np.asarray(image, dtype=np.float32)
    height, width, channels = image.shape
    n_rows, n_cols = (height // cell) * cell, (width // cell) * cell
    n_bins = 2 * n_orientations
    hist = np.zeros((n_rows // cell + 2, n_cols // cell + 2, n_bins), dtype=np.float32)
    cosines, sines = _boundary_directions(n_orientations)
    f32 = np.float32

    def lower_cell(p):
        position = (p + 0.5) / cell - 0.5
        low = math.floor(position)
        return low + 1, f32(1.0 - (position - low)), f32(position - low)

    for y in range(n_rows):
        yp, yn = max(y - 1, 0), min(y + 1, height - 1)
        for x in range(n_cols):
            xp, xn = max(x - 1, 0), min(x + 1, width - 1)
            best, gx, gy = f32(-1), f32(0), f32(0)
            for c in range(channels):
                cgx = (image[y, xn, c] - image[y, xp, c]) * (f32(1) if xn - xp == 1 else f32(0.5))
                cgy = (image[yn, x, c] - image[yp, x, c]) * (f32(1) if yn - yp == 1 else f32(0.5))
                if cgx * cgx + cgy * cgy > best:
                    best, gx, gy = cgx * cgx + cgy * cgy, cgx, cgy
            if best <= 0:
                continue
            magnitude = f32(math.sqrt(best)) * f32(1.0 / (cell * cell))
            r, wy0, wy1 = lower_cell(y)
            k, wx0, wx1 = lower_cell(x)
            votes = [(r, k, magnitude * wy0 * wx0), (r, k + 1, magnitude * wy0 * wx1),
                     (r + 1, k, magnitude * wy1 * wx0), (r + 1, k + 1, magnitude * wy1 * wx1)]
            if soft:
                angle = math.atan2(float(gy), float(gx)) % (2 * math.pi)
                position = angle * n_bins / (2 * math.pi)
                low = int(position) % n_bins
                fraction = f32(position - int(position))
                for b, share in ((low, f32(1) - fraction), ((low + 1) % n_bins, fraction)):
                    for i, j, w in votes:
                        hist[i, j, b] += w * share
            else:
                fx, fy, base = float(gx), float(gy), 0
                if fy < 0 or (fy == 0 and fx < 0):
                    fx, fy, base = -fx, -fy, n_orientations
                b = (base + sum(fy * cosines[m] - fx * sines[m] >= 0 for m in range(n_orientations))) % n_bins
                for i, j, w in votes:
                    hist[i, j, b] += w
    return hist


@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("shape, cell", [((13, 17, 3), 4), ((12, 12, 1), 6), ((9, 10, 3), 3)])
def test_histogram_votes_equal_the_pixel_by_pixel_definition_bit_for_bit(rng, shape, cell, soft):
    from dcfre.features._hog_kernels import _accumulate_histograms

    image = rng.integers(0, 256, shape).astype(np.float32)
    image[2, :, :] = image[3, :, :]  # zero vertical gradients: the half-plane and tie rules
    image[:, 4, :] = image[:, 5, :]
    image[6:8, 6:8, :] = 7  # a flat patch: pixels without a vote
    expected = _histograms_pixel_by_pixel(image, cell, 9, soft)
    hist = np.zeros_like(expected)
    _accumulate_histograms(image, cell, 18, soft, hist)
    assert np.array_equal(hist.view(np.uint32), expected.view(np.uint32))
