"""Numba kernels of Felzenszwalb's HOG (FHOG) as computed by Piotr Dollar's toolbox ``fhog``.

Private module: call :func:`dcfre.features.hog.fhog`, which validates the input. The kernels
assume a C-contiguous (H, W, C) image of dtype uint8 or float32 with H, W >= 2 and at least
one cell in each direction, and a zero-initialised float32 output.

Definition implemented (``fhog`` = ``gradientMag(I, 0, full=1)`` followed by
``gradientHist(M, O, cell, nOrients, softBin=-1, useHog=2, clip)``):

1. Gradients by centred differences ``(I[p+1] - I[p-1]) / 2``, one-sided ``I[1] - I[0]`` and
   ``I[n-1] - I[n-2]`` on the first and last row/column, in float32. For several channels,
   the channel with the strictly largest squared magnitude wins (ties: the first channel).
2. Orientation ``atan2(gy, gx)`` in [0, 2 pi) with y pointing down (row index), quantised to
   ``2 * n_orientations`` contrast-sensitive bins centred on ``k * pi / n_orientations``; the
   nearest bin wins and an orientation exactly on a bin boundary goes to the higher bin.
   ``soft_orientation=True`` splits the vote linearly between the two neighbouring bins
   (the toolbox's ``softBin=1``); ``fhog`` itself does not.
3. Each pixel of the first ``(H // cell) * cell`` rows and ``(W // cell) * cell`` columns votes
   ``magnitude / cell**2`` into the 4 cells around it by bilinear interpolation between cell
   centres, cell ``i`` being centred on pixel coordinate ``i * cell + (cell - 1) / 2``; votes that
   fall outside the cell grid are dropped and the outermost row and column of cells are then
   multiplied by 8/7 (the toolbox's correction for their missing outer neighbours).
4. Contrast-insensitive histograms: bin ``o`` plus bin ``o + n_orientations``. Each 2x2 block
   of cells gets ``1 / sqrt(sum of squared insensitive bins + eps)``, ``eps = 1e-4 / 4 / cell**4``;
   blocks are replicated outwards so that border cells also get four normalizers.
5. Per cell and normalizer ``t = min(h * norm, clip)``. Outputs: 2n sensitive channels
   ``0.5 * sum over the 4 normalizers``, n insensitive channels the same, and 4 texture channels
   ``0.2357 * sum over the 2n sensitive bins`` (one per normalizer: block at the cell, above,
   left, above-left). The toolbox's 32nd, all-zero channel is not produced.
"""

from __future__ import annotations

import math

import numpy as np
from dcfre._jit import njit  # numba.njit, with its start-up trimmed (see dcfre._jit)

#: Gain of the outermost cells (toolbox: "boundary bins only get 7/8 of the weight").
BORDER_CELL_GAIN = 8.0 / 7.0
#: Weight of each truncated value in the 4 texture channels (toolbox constant, ~ 1/sqrt(18)).
TEXTURE_WEIGHT = 0.2357
#: Weight of each of the 4 normalizations in the orientation channels.
NORMALIZATION_WEIGHT = 0.5
#: Regularizer of the block norm before division by 4 * cell**4 (toolbox constant).
BLOCK_NORM_EPS = 1e-4
#: Cross products smaller than this are treated as exact zeros when building bin boundaries.
_SNAP = 1e-12
#: Pixels whose gradients and bins are computed in one pass (whole rows; a few thousand keep the
#: per-pixel arrays in the first-level cache and make the loops long even for small patches).
CHUNK_PIXELS = 2048


@njit(cache=True)
def _boundary_directions(n_half):
    """Unit vectors of the bin boundaries in [0, pi): angle (k + 0.5) * pi / n_half, k < n_half.

    Components that should be exactly 0 or exactly +-|other| (axis and diagonal boundaries)
    are snapped so that gradients lying exactly on such a boundary are classified exactly.
    """
    cosines = np.empty(n_half, dtype=np.float64)
    sines = np.empty(n_half, dtype=np.float64)
    for k in range(n_half):
        angle = (k + 0.5) * math.pi / n_half
        c = math.cos(angle)
        s = math.sin(angle)
        if abs(c) < _SNAP:
            c = 0.0
        if abs(s) < _SNAP:
            s = 0.0
        if abs(abs(c) - abs(s)) < _SNAP:
            c = math.copysign(abs(s), c)
        cosines[k] = c
        sines[k] = s
    return cosines, sines


@njit(cache=True)
def _interpolated_bins(gx, gy, n_bins):
    """Lower bin, upper bin and the upper bin's weight for linear orientation interpolation."""
    angle = math.atan2(gy, gx)
    if angle < 0.0:
        angle += 2.0 * math.pi
    position = angle * n_bins / (2.0 * math.pi)
    lower = int(position)
    fraction = position - lower
    lower = lower % n_bins
    upper = lower + 1
    if upper == n_bins:
        upper = 0
    return lower, upper, fraction


@njit(cache=True)
def _cell_interpolation_table(n_used, cell, index, weight_low, weight_high):
    """Bilinear cell weights of pixel coordinates 0 .. n_used - 1.

    ``index[p]`` is the lower cell of pixel ``p`` in a grid padded by one cell on each side
    (padded index = cell index + 1), so both neighbours are always valid array indices.
    """
    for p in range(n_used):
        position = (p + 0.5) / cell - 0.5
        low = math.floor(position)
        fraction = position - low
        index[p] = low + 1
        weight_low[p] = 1.0 - fraction
        weight_high[p] = fraction


@njit(cache=True, inline="always")
def _keep_stronger(x, cgx, cgy, row_m2, row_gx, row_gy):  # pragma: no cover - jitted
    """Keep channel gradient (cgx, cgy) at pixel x if its squared magnitude beats the best so far
    (the first channel wins ties)."""
    m2 = cgx * cgx + cgy * cgy
    better = m2 > row_m2[x]  # selects, not a branch: the interior loop stays vectorizable
    row_m2[x] = m2 if better else row_m2[x]
    row_gx[x] = np.float64(cgx) if better else row_gx[x]
    row_gy[x] = np.float64(cgy) if better else row_gy[x]


@njit(cache=True)
def _accumulate_histograms(image, cell, n_bins, soft_orientation, hist_padded):
    """Add every used pixel's gradient vote to the padded (hb + 2, wb + 2, n_bins) histograms."""
    height, width, channels = image.shape
    n_rows = (hist_padded.shape[0] - 2) * cell
    n_cols = (hist_padded.shape[1] - 2) * cell
    row_index = np.empty(n_rows, dtype=np.int64)
    row_low = np.empty(n_rows, dtype=np.float32)
    row_high = np.empty(n_rows, dtype=np.float32)
    col_index = np.empty(n_cols, dtype=np.int64)
    col_low = np.empty(n_cols, dtype=np.float32)
    col_high = np.empty(n_cols, dtype=np.float32)
    _cell_interpolation_table(n_rows, cell, row_index, row_low, row_high)
    _cell_interpolation_table(n_cols, cell, col_index, col_low, col_high)
    cosines, sines = _boundary_directions(n_bins // 2)
    pixel_weight = np.float32(1.0 / (cell * cell))
    half = np.float32(0.5)
    one = np.float32(1.0)

    # A few rows at a time (a chunk of about CHUNK_PIXELS pixels), in passes over contiguous per-pixel
    # arrays (vectorized): the winning gradient row by row, then its magnitude and orientation bin
    # over the whole chunk (long loops, also for the scale filter's small patches); then the votes,
    # pixel by pixel in the original order.
    chunk_rows = max(1, min(n_rows, CHUNK_PIXELS // n_cols))
    chunk = chunk_rows * n_cols
    # separate arrays (not rows of one): the compiler then knows that they do not overlap and
    # vectorizes the loops that write several of them
    chunk_gx = np.empty(chunk, dtype=np.float64)  # the winning gradient of each pixel
    chunk_gy = np.empty(chunk, dtype=np.float64)
    chunk_m2 = np.empty(chunk, dtype=np.float32)
    n_half = n_bins // 2
    chunk_magnitude = np.empty(chunk, dtype=np.float32)
    chunk_bin = np.empty(chunk, dtype=np.int64)  # orientation bin
    chunk_flipped = np.empty(chunk, dtype=np.bool_)
    # the channels as contiguous float32 planes: the gradient passes below then read whole rows with
    # unit stride (the interleaved (H, W, C) rows do not vectorize); the same float32 values
    planes = np.empty((channels, min(height, n_rows + 1), width), dtype=np.float32)
    for y in range(planes.shape[1]):
        for x in range(width):
            for c in range(channels):
                planes[c, y, x] = np.float32(image[y, x, c])
    interior_end = min(n_cols, width - 1)  # x in [1, interior_end): centred differences
    for first_row in range(0, n_rows, chunk_rows):
        stop_row = min(n_rows, first_row + chunk_rows)
        n_used = (stop_row - first_row) * n_cols
        # gradients: the winning channel (largest squared magnitude, first on ties) per pixel
        for x in range(n_used):
            chunk_gx[x] = 0.0
            chunk_gy[x] = 0.0
            chunk_m2[x] = -1.0
        for y in range(first_row, stop_row):
            y_prev = max(y - 1, 0)
            y_next = min(y + 1, height - 1)
            gy_scale = one if y_next - y_prev == 1 else half
            offset = (y - first_row) * n_cols
            row_m2 = chunk_m2[offset: offset + n_cols]
            row_gx = chunk_gx[offset: offset + n_cols]
            row_gy = chunk_gy[offset: offset + n_cols]
            for c in range(channels):
                here = planes[c, y]
                above = planes[c, y_prev]
                below = planes[c, y_next]
                for x in range(1, interior_end):
                    cgx = (np.float32(here[x + 1]) - np.float32(here[x - 1])) * half
                    cgy = (np.float32(below[x]) - np.float32(above[x])) * gy_scale
                    _keep_stronger(x, cgx, cgy, row_m2, row_gx, row_gy)
                for x in (0, interior_end):
                    if x >= n_cols:
                        continue
                    x_prev = max(x - 1, 0)
                    x_next = min(x + 1, width - 1)
                    gx_scale = one if x_next - x_prev == 1 else half
                    cgx = (np.float32(here[x_next]) - np.float32(here[x_prev])) * gx_scale
                    cgy = (np.float32(below[x]) - np.float32(above[x])) * gy_scale
                    _keep_stronger(x, cgx, cgy, row_m2, row_gx, row_gy)
        for x in range(n_used):
            best_m2 = chunk_m2[x]
            chunk_magnitude[x] = np.float32(math.sqrt(best_m2)) * pixel_weight if best_m2 > 0.0 else np.float32(0.0)
            gx = chunk_gx[x]
            gy = chunk_gy[x]
            # the half-plane gy > 0 (or gy = 0, gx >= 0): the other one maps to it and to bins n_half..
            flip = gy < 0.0 or (gy == 0.0 and gx < 0.0)
            chunk_gx[x] = -gx if flip else gx
            chunk_gy[x] = -gy if flip else gy
            chunk_bin[x] = n_half if flip else 0
            chunk_flipped[x] = flip
        if not soft_orientation:
            # nearest sensitive bin: base + the number of bin boundaries (in [0, pi)) at or below the
            # angle of the (flipped) gradient, so that a gradient on a boundary goes to the higher bin;
            # the tests hold for a prefix of the boundaries, counted here boundary by boundary
            for k in range(n_half):
                ck = cosines[k]
                sk = sines[k]
                for x in range(n_used):
                    chunk_bin[x] += chunk_gy[x] * ck - chunk_gx[x] * sk >= 0.0
            for x in range(n_used):
                if chunk_bin[x] >= n_bins:
                    chunk_bin[x] -= n_bins
        for y in range(first_row, stop_row):
            r = row_index[y]
            wy_low = row_low[y]
            wy_high = row_high[y]
            offset = (y - first_row) * n_cols
            for x in range(n_cols):
                p = offset + x
                magnitude = chunk_magnitude[p]
                if magnitude == 0.0:
                    continue
                k = col_index[x]
                w00 = magnitude * wy_low * col_low[x]
                w01 = magnitude * wy_low * col_high[x]
                w10 = magnitude * wy_high * col_low[x]
                w11 = magnitude * wy_high * col_high[x]
                if soft_orientation:
                    sign = -1.0 if chunk_flipped[p] else 1.0  # the gradient as computed (negation is exact)
                    lower, upper, fraction = _interpolated_bins(sign * chunk_gx[p], sign * chunk_gy[p], n_bins)
                    f_up = np.float32(fraction)
                    f_low = one - f_up
                    hist_padded[r, k, lower] += w00 * f_low
                    hist_padded[r, k + 1, lower] += w01 * f_low
                    hist_padded[r + 1, k, lower] += w10 * f_low
                    hist_padded[r + 1, k + 1, lower] += w11 * f_low
                    hist_padded[r, k, upper] += w00 * f_up
                    hist_padded[r, k + 1, upper] += w01 * f_up
                    hist_padded[r + 1, k, upper] += w10 * f_up
                    hist_padded[r + 1, k + 1, upper] += w11 * f_up
                else:
                    b = chunk_bin[p]
                    hist_padded[r, k, b] += w00
                    hist_padded[r, k + 1, b] += w01
                    hist_padded[r + 1, k, b] += w10
                    hist_padded[r + 1, k + 1, b] += w11


@njit(cache=True)
def _apply_border_gain(hist):
    """Multiply the first/last row and column of cells by BORDER_CELL_GAIN (corners twice)."""
    n_rows, n_cols, n_bins = hist.shape
    gain = np.float32(BORDER_CELL_GAIN)
    for y in (0, n_rows - 1):
        for x in range(n_cols):
            for b in range(n_bins):
                hist[y, x, b] *= gain
    for x in (0, n_cols - 1):
        for y in range(n_rows):
            for b in range(n_bins):
                hist[y, x, b] *= gain


@njit(cache=True)
def _block_inverse_norms(hist, n_orientations, cell):
    """Inverse L2 norms of the 2x2 blocks of contrast-insensitive histograms.

    Returns an array (max(hb - 1, 1), max(wb - 1, 1)); block (i, j) covers cells i, i + 1 and
    j, j + 1. With a single row (column) of cells the block uses that row (column) twice.
    """
    n_rows, n_cols, _ = hist.shape
    energy = np.zeros((n_rows, n_cols), dtype=np.float32)
    for y in range(n_rows):
        for x in range(n_cols):
            total = np.float32(0.0)
            for o in range(n_orientations):
                v = hist[y, x, o] + hist[y, x, o + n_orientations]
                total += v * v
            energy[y, x] = total
    eps = np.float32(BLOCK_NORM_EPS / 4.0 / cell / cell / cell / cell)
    n_block_rows = max(n_rows - 1, 1)
    n_block_cols = max(n_cols - 1, 1)
    inverse = np.empty((n_block_rows, n_block_cols), dtype=np.float32)
    for i in range(n_block_rows):
        i2 = min(i + 1, n_rows - 1)
        for j in range(n_block_cols):
            j2 = min(j + 1, n_cols - 1)
            total = energy[i, j] + energy[i2, j] + energy[i, j2] + energy[i2, j2] + eps
            inverse[i, j] = np.float32(1.0 / math.sqrt(total))
    return inverse


@njit(cache=True)
def _normalize_and_truncate(hist, inverse_norms, n_orientations, clip, out):
    """Write the 3 * n_orientations + 4 FHOG channels of every cell into ``out``."""
    n_rows, n_cols, n_bins = hist.shape
    n_block_rows, n_block_cols = inverse_norms.shape
    clip32 = np.float32(clip)
    half = np.float32(NORMALIZATION_WEIGHT)
    texture_weight = np.float32(TEXTURE_WEIGHT)
    texture_base = n_bins + n_orientations
    norms = np.empty(4, dtype=np.float32)
    for y in range(n_rows):
        i_here = min(y, n_block_rows - 1)
        i_above = min(max(y - 1, 0), n_block_rows - 1)
        for x in range(n_cols):
            j_here = min(x, n_block_cols - 1)
            j_left = min(max(x - 1, 0), n_block_cols - 1)
            norms[0] = inverse_norms[i_here, j_here]
            norms[1] = inverse_norms[i_above, j_here]
            norms[2] = inverse_norms[i_here, j_left]
            norms[3] = inverse_norms[i_above, j_left]
            for b in range(n_bins):
                value = hist[y, x, b]
                channel_sum = np.float32(0.0)
                for n in range(4):
                    t = min(value * norms[n], clip32)
                    channel_sum += t
                    out[y, x, texture_base + n] += t * texture_weight
                out[y, x, b] = channel_sum * half
            for o in range(n_orientations):
                value = hist[y, x, o] + hist[y, x, o + n_orientations]
                channel_sum = np.float32(0.0)
                for n in range(4):
                    channel_sum += min(value * norms[n], clip32)
                out[y, x, n_bins + o] = channel_sum * half


@njit(cache=True)
def fhog_kernel(image, cell, n_orientations, clip, soft_orientation, out):
    """FHOG of one (H, W, C) image into the zeroed ``out`` (H // cell, W // cell, 3n + 4) float32."""
    n_rows, n_cols, _ = out.shape
    n_bins = 2 * n_orientations
    hist_padded = np.zeros((n_rows + 2, n_cols + 2, n_bins), dtype=np.float32)
    _accumulate_histograms(image, cell, n_bins, soft_orientation, hist_padded)
    hist = np.ascontiguousarray(hist_padded[1 : n_rows + 1, 1 : n_cols + 1, :])
    _apply_border_gain(hist)
    inverse_norms = _block_inverse_norms(hist, n_orientations, cell)
    _normalize_and_truncate(hist, inverse_norms, n_orientations, clip, out)


@njit(cache=True)
def fhog_batch_kernel(images, cell, n_orientations, clip, soft_orientation, out):
    """FHOG of N same-size images (N, H, W, C) into the zeroed ``out`` (N, hb, wb, 3n + 4)."""
    for i in range(images.shape[0]):
        fhog_kernel(images[i], cell, n_orientations, clip, soft_orientation, out[i])
