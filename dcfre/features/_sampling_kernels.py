"""Numba kernels that crop a rectangle of an image and resample it to a fixed grid.

Private module: call :mod:`dcfre.features.sampling`, which validates the input and documents
the coordinate convention. Resampling is separable: along each axis an output sample is a
weighted sum of source pixels ("taps"), with weights from :func:`axis_taps`. The kernel first
combines source rows into one buffer row per output row (contiguous, vectorizable), then
combines buffer columns into output pixels.
"""

from __future__ import annotations

import math

import numpy as np
from dcfre._jit import njit  # numba.njit, with its start-up trimmed (see dcfre._jit)

#: Half the side of a pixel: pixel i covers [i - PIXEL_HALF, i + PIXEL_HALF].
PIXEL_HALF = 0.5


@njit(cache=True)
def _max_taps(step, n_in):
    """Upper bound of the taps of one output sample (see :func:`axis_taps`)."""
    if step <= 1.0:
        return 2
    # The interval meets at most ceil(step) + 1 unit cells of the extended image, and at most
    # the n_in pixels plus the two outside regions (which weigh on the edge pixels).
    return min(math.ceil(step) + 1, n_in + 2)


@njit(cache=True)
def _add_tap(indices, weights, j, count, index, weight):
    """Append a tap to sample j, merging it into the previous tap when the index repeats."""
    if count > 0 and indices[j, count - 1] == index:
        weights[j, count - 1] += weight
        return count
    indices[j, count] = index
    weights[j, count] = weight
    return count + 1


@njit(cache=True)
def _area_taps(start, step, n_in, j, indices, weights):
    """Exact area average of [start + j * step, start + (j + 1) * step]; returns the tap count.

    The image is piecewise constant (pixel i on [i - 0.5, i + 0.5]) and extended by its edge
    pixels, so the parts of the interval outside [-0.5, n_in - 0.5] weigh on pixel 0 or n_in - 1.
    """
    a = start + j * step
    b = a + step
    low_edge = -PIXEL_HALF
    high_edge = n_in - PIXEL_HALF
    count = 0
    if a < low_edge:
        count = _add_tap(indices, weights, j, count, 0, (min(b, low_edge) - a) / step)
    inner_a = max(a, low_edge)
    inner_b = min(b, high_edge)
    if inner_b > inner_a:
        first = max(math.floor(inner_a + PIXEL_HALF), 0)
        last = min(math.ceil(inner_b - PIXEL_HALF), n_in - 1)
        for i in range(first, last + 1):
            overlap = min(inner_b, i + PIXEL_HALF) - max(inner_a, i - PIXEL_HALF)
            if overlap > 0.0:
                count = _add_tap(indices, weights, j, count, i, overlap / step)
    if b > high_edge:
        count = _add_tap(indices, weights, j, count, n_in - 1, (b - max(a, high_edge)) / step)
    return count


@njit(cache=True)
def _linear_taps(start, step, n_in, j, indices, weights):
    """Linear interpolation between pixel centres at the centre of output sample j (2 taps)."""
    centre = start + (j + 0.5) * step
    low = math.floor(centre)
    fraction = centre - low
    low_index = int(min(max(low, -1.0), float(n_in)))  # clamp before the cast: no overflow
    i0 = min(max(low_index, 0), n_in - 1)
    i1 = min(max(low_index + 1, 0), n_in - 1)
    count = _add_tap(indices, weights, j, 0, i0, 1.0 - fraction)
    return _add_tap(indices, weights, j, count, i1, fraction)


@njit(cache=True)
def axis_taps(start, step, n_out, n_in):
    """Source taps of the n_out samples of one axis.

    Output sample j covers the source interval [start + j * step, start + (j + 1) * step]
    (pixel coordinates, pixel i centred on i). Downsampling (step > 1): exact area average.
    Otherwise: linear interpolation at the interval centre. Indices are clamped to
    [0, n_in - 1] (edge replication).

    Returns
    -------
    indices : int64 array (n_out, max_taps)
        Consecutive source indices ``indices[j, 0] + t`` for the used taps t < counts[j];
        unused taps repeat the last used index.
    weights : float32 array (n_out, max_taps), each row summing to 1 (0 for unused taps).
    counts : int64 array (n_out,), the number of used taps of each sample.
    """
    n_taps = _max_taps(step, n_in)
    indices = np.zeros((n_out, n_taps), dtype=np.int64)
    weights64 = np.zeros((n_out, n_taps), dtype=np.float64)
    counts = np.empty(n_out, dtype=np.int64)
    for j in range(n_out):
        if step > 1.0:
            count = _area_taps(start, step, n_in, j, indices, weights64)
        else:
            count = _linear_taps(start, step, n_in, j, indices, weights64)
        for t in range(count, n_taps):
            indices[j, t] = indices[j, count - 1]
        counts[j] = count
    return indices, weights64.astype(np.float32), counts


@njit(cache=True)
def _accumulate_row(buffer, weight, source):
    """buffer += weight * source (same length; written with plain indices so it vectorizes)."""
    for m in range(buffer.shape[0]):
        buffer[m] += weight * np.float32(source[m])


@njit(cache=True)
def _resample(image, row_idx, row_w, row_count, col_idx, col_w, col_count, out):
    """out[j, l, c] = sum_{s, t} row_w[j, s] col_w[l, t] image[row_idx[j, s], col_idx[l, t], c]."""
    height, width, channels = image.shape
    n_out_rows, n_out_cols, _ = out.shape
    col_low = col_idx.min()
    col_high = col_idx.max()
    start = col_low * channels
    stop = (col_high + 1) * channels
    flat = image.reshape(height, width * channels)
    buffer = np.empty(stop - start, dtype=np.float32)
    for j in range(n_out_rows):
        buffer[:] = 0.0
        for s in range(row_count[j]):
            _accumulate_row(buffer, row_w[j, s], flat[row_idx[j, s], start:stop])
        out_row = out[j]
        for l in range(n_out_cols):
            taps = buffer[(col_idx[l, 0] - col_low) * channels :]
            for c in range(channels):
                total = np.float32(0.0)
                for t in range(col_count[l]):
                    total += col_w[l, t] * taps[t * channels + c]
                out_row[l, c] = total


@njit(cache=True)
def crop_resize_kernel(image, top, left, step_y, step_x, out):
    """Resample the patch whose top-left corner is (top, left) with sample steps (step_y, step_x)."""
    n_out_rows, n_out_cols, _ = out.shape
    row_idx, row_w, row_count = axis_taps(top, step_y, n_out_rows, image.shape[0])
    col_idx, col_w, col_count = axis_taps(left, step_x, n_out_cols, image.shape[1])
    _resample(image, row_idx, row_w, row_count, col_idx, col_w, col_count, out)


@njit(cache=True)
def crop_resize_many_kernel(image, tops, lefts, steps_y, steps_x, out):
    """:func:`crop_resize_kernel` for each patch i into out[i]."""
    for i in range(out.shape[0]):
        crop_resize_kernel(image, tops[i], lefts[i], steps_y[i], steps_x[i], out[i])


@njit(cache=True)
def _half_pixel_taps(n_in, n_out):
    """Source index and weight of the lower neighbour for each output index, OpenCV's INTER_LINEAR
    mapping: ``src = (dst + 0.5) * n_in / n_out - 0.5``, clamped to the border."""
    lower = np.empty(n_out, dtype=np.int64)
    frac = np.empty(n_out, dtype=np.float64)
    scale = n_in / n_out
    for j in range(n_out):
        src = (j + 0.5) * scale - 0.5
        i = int(math.floor(src))
        f = src - i
        if i < 0:
            i, f = 0, 0.0
        if i >= n_in - 1:
            i, f = n_in - 1, 0.0
        lower[j] = i
        frac[j] = f
    return lower, frac


@njit(cache=True)
def bilinear_resize_kernel(image, out_h, out_w, round_result):
    """Bilinear resize of ``image`` (H, W, C) float32 to (out_h, out_w, C) with half-pixel centres
    (the mapping of OpenCV's INTER_LINEAR), in float; ``round_result`` rounds to whole values (uint8 input)."""
    h, w, c = image.shape
    ys, fy = _half_pixel_taps(h, out_h)
    xs, fx = _half_pixel_taps(w, out_w)
    out = np.empty((out_h, out_w, c), dtype=np.float32)
    for i in range(out_h):
        y0 = ys[i]
        y1 = min(y0 + 1, h - 1)
        wy = fy[i]
        for j in range(out_w):
            x0 = xs[j]
            x1 = min(x0 + 1, w - 1)
            wx = fx[j]
            for k in range(c):
                top = image[y0, x0, k] * (1.0 - wx) + image[y0, x1, k] * wx
                bottom = image[y1, x0, k] * (1.0 - wx) + image[y1, x1, k] * wx
                value = top * (1.0 - wy) + bottom * wy
                out[i, j, k] = math.floor(value + 0.5) if round_result else value
    return out


@njit(cache=True)
def gather_resize_kernel(image, rows, cols, round_result, out):
    """``out`` = :func:`bilinear_resize_kernel` of the crop ``image[rows][:, cols]`` (uint8 or float32),
    reading the crop's pixels in place: no gathered copy of the crop (one copy of ~0.1 M pixels per
    frame in ECO's sampling). The horizontal interpolation of a crop row is computed once and shared
    by the output rows that use it. Same arithmetic, so the same float32 values; a crop of the
    output's size is copied as is."""
    n_rows, n_cols = rows.size, cols.size
    out_h, out_w, c = out.shape
    if n_rows == out_h and n_cols == out_w:
        for i in range(out_h):
            for j in range(out_w):
                for k in range(c):
                    out[i, j, k] = image[rows[i], cols[j], k]
        return
    ys, fy = _half_pixel_taps(n_rows, out_h)
    xs, fx = _half_pixel_taps(n_cols, out_w)
    left = np.empty(out_w, dtype=np.int64)
    right = np.empty(out_w, dtype=np.int64)
    for j in range(out_w):
        left[j] = cols[xs[j]]
        right[j] = cols[min(xs[j] + 1, n_cols - 1)]
    # horizontal interpolation of each crop row used, computed on first use
    horizontal = np.empty((n_rows, out_w, c), dtype=np.float64)
    done = np.zeros(n_rows, dtype=np.bool_)
    for i in range(out_h):
        for r in (ys[i], min(ys[i] + 1, n_rows - 1)):
            if not done[r]:
                y = rows[r]
                for j in range(out_w):
                    wx = fx[j]
                    x0, x1 = left[j], right[j]
                    for k in range(c):
                        horizontal[r, j, k] = np.float32(image[y, x0, k]) * (1.0 - wx) + np.float32(image[y, x1, k]) * wx
                done[r] = True
    # vertical interpolation over whole output rows, (column, channel) flattened: a contiguous loop
    # without a branch inside, which vectorizes (the same operations per value)
    flat_horizontal = horizontal.reshape(n_rows, out_w * c)
    flat_out = out.reshape(out_h, out_w * c)
    for i in range(out_h):
        top = flat_horizontal[ys[i]]
        bottom = flat_horizontal[min(ys[i] + 1, n_rows - 1)]
        wy = fy[i]
        wy_top = 1.0 - wy
        target = flat_out[i]
        if round_result:
            for q in range(out_w * c):
                target[q] = math.floor(top[q] * wy_top + bottom[q] * wy + 0.5)
        else:
            for q in range(out_w * c):
                target[q] = top[q] * wy_top + bottom[q] * wy
