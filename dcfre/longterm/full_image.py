"""Score every position of a whole frame with an appearance model's filters (one FFT correlation).

The local model is a continuous filter on the sample period; on the feature grid of a block it
is the discrete kernel ``gamma[j] = sum_k F[k] b[k] exp(i 2 pi k j / N)`` (``b`` = interpolation
coefficients), and the score of a sample is the circular convolution of its (cosine-windowed,
normalized) features with ``gamma``. Applied to features of the whole frame, the same kernel gives
a score for a sample centred at every feature cell, without a loop over crops. Blocks with
different cell sizes are resampled to the finest grid and summed, as the model sums them.

Two variants (``match_samples``):

* ``False`` (default, the paper's "predictions of the model over the entire image"): the filter is
  correlated with the frame's features as they are, normalized once over the whole frame. The
  filter's outer coefficients, which the cosine window damps on samples, count fully here, so
  scores are lower than a sample's away from a target's exact look: re-detection is more precise.
  Measured on the synthetic suites (updt, global): success AUC 54.3 / 34.2 (synth-lt /
  synth-human) against 48.0 / 31.6 with ``True``.
* ``True``: the kernel includes the cosine window and every position gets the feature
  normalization its own sample would get (box sums of the feature energy), so the score at a
  position equals the model's score of a sample centred there, up to feature effects at a crop's
  border (exact for pixel-wise features; tested against crops).

Features are extracted from the frame only and zero-padded by half a sample (in cells) on each
side, so that targets centred near the frame border are scored too: a sample reaching outside the
frame is scored on its visible part. Padding the features rather than the image keeps the CNN off
the padding (at 1280x720 with ECO's deep sample it was 37 % of the pixels it ran on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dcfre._lazy import lazy_module
from dcfre.eco.appearance import AppearanceModel
from dcfre.eco.model import project_channels
from dcfre.features.sampling import crop_and_resize_many
from dcfre.fourier import full_from_half, next_fast_len  # next_fast_len: scipy.fft's, imported on first use
from dcfre.fourier import numpy_fft as fftw  # pyFFTW with its plan cache on (see dcfre.fourier)

ndimage = lazy_module("scipy.ndimage")  # re-detection scans only


@dataclass
class FrameFeatures:
    """Projected features of a whole padded frame at one scale.

    Attributes
    ----------
    blocks : list of (C, Hb + 2 pb, Wb + 2 pb) float32
        Projected features of the scanned region, zero-padded by ``pads[b]`` cells on each side.
    top_left : (2,) ndarray
        Image coordinates (y, x) of the scanned region's top-left edge.
    scale : float
        Image pixels per resized pixel.
    pads : list of int
        Zero cells added on each side of each block.
    normalizers : list of (Vb1, Vb2) float64, or None
        Per block, the factor that turns the region-wide feature normalization into the one a
        sample centred at each scored position would get (ECO normalizes every sample); only
        computed for a scorer with ``match_samples``.
    """

    blocks: list
    top_left: np.ndarray
    scale: float
    pads: list
    normalizers: list | None = None


@dataclass
class FrameScores:
    """Score of every candidate target centre on a regular grid over the frame.

    ``values[i, j]`` is the score of a target centred at image position
    ``origin + (i, j) * step`` (y, x).
    """

    values: np.ndarray
    origin: np.ndarray
    step: float

    def position(self, index) -> np.ndarray:
        """Image (y, x) of a grid index."""
        return self.origin + np.asarray(index, dtype=np.float64) * self.step

    def index_of(self, position_yx) -> np.ndarray:
        """Nearest grid index (clipped to the grid) of an image position."""
        idx = np.round((np.asarray(position_yx) - self.origin) / self.step).astype(int)
        return np.clip(idx, 0, np.array(self.values.shape) - 1)

    def value_at(self, position_yx) -> float:
        return float(self.values[tuple(self.index_of(position_yx))])


class FullImageScorer:
    """Whole-frame scores of one appearance model (its own filters or any other filter set).

    Parameters
    ----------
    appearance : AppearanceModel
    max_pixels : float
        Largest scan, in resized pixels; a larger frame is scanned in a window of this size
        around the given centre (tiny targets in large frames would otherwise upsample the whole
        frame by ``1 / scale``).
    max_frame_ratio : float
        The scan is also at most this many times the frame's own pixel count.
    scale_step : float
        Scan scales are rounded to powers of this step, so that repeated scans reuse FFT plans and
        buffers instead of allocating a new shape each time (a 1 % scale error is harmless).
    match_samples : bool
        Score every position as the model scores a sample centred there (cosine window and
        per-sample normalization), instead of correlating the frame's features directly (see the
        module docstring).
    """

    def __init__(self, appearance: AppearanceModel, max_pixels: float = 2.5e6, scale_step: float = 1.02,
                 max_frame_ratio: float = 4.0, match_samples: bool = False):
        self.appearance = appearance
        self.match_samples = bool(match_samples)
        self.max_pixels = float(max_pixels)
        self.max_frame_ratio = float(max_frame_ratio)
        self.scale_step = float(scale_step)
        self._finest = int(np.argmin(appearance.extractor.cell_sizes))

    def features(self, image: np.ndarray, scale: float, centre_yx=None) -> FrameFeatures:
        """Projected features of the frame resized by ``1 / scale``, zero-padded by half a sample.

        When the resized frame exceeds the pixel budget only a window around ``centre_yx``
        (default: the frame centre) is scanned.
        """
        scale = self.scale_step ** round(np.log(scale) / np.log(self.scale_step))
        geometry = self.appearance.geometry
        height, width = image.shape[:2]
        budget = min(self.max_pixels, self.max_frame_ratio * height * width)
        window = self._window(np.array([height, width]) / scale, 2 * geometry.sample_size.astype(np.float64), budget)
        multiple = self.appearance.extractor.size_multiple  # CNN input granularity
        out_hw = (np.ceil(window / multiple) * multiple).astype(int)
        patch_hw = out_hw * scale
        centre = self._window_centre(np.array([height, width], dtype=np.float64), patch_hw, centre_yx)
        patch = crop_and_resize_many(image, centre, patch_hw[None, :], (int(out_hw[0]), int(out_hw[1])))
        raw = self.appearance.extractor(patch)
        model = self.appearance.model
        pads = [(max(n1, n2) + 1) // 2 for n1, n2 in geometry.feature_sizes]  # half a sample, rounded up
        blocks = [np.pad(np.moveaxis(project_channels(x[0], p), -1, 0).astype(np.float32),
                         ((0, 0), (pad, pad), (pad, pad)))  # zeros around
                  for x, p, pad in zip(raw, model.projections, pads)]
        normalizers = None
        if self.match_samples:
            normalizers = [self._sample_normalizers(x[0], size, pad)
                           for x, size, pad in zip(raw, geometry.feature_sizes, pads)]
        return FrameFeatures(blocks, centre - patch_hw / 2, float(scale), pads, normalizers)

    def _sample_normalizers(self, features: np.ndarray, sample_cells, pad: int) -> np.ndarray:
        """Normalization of the sample at every scored position, relative to the region's.

        ``features`` (H, W, D) are normalized over the whole region; a sample of ``sample_cells``
        (N1, N2) cells at each position of the zero-padded map gets the factor of
        :meth:`FeatureExtractor.normalize` for its own ``sum |x|^p`` (box sums of the energy map).
        """
        extractor = self.appearance.extractor
        energy = np.sum(np.abs(features.astype(np.float64)) ** extractor.config.normalize_power, axis=-1)
        n1, n2 = sample_cells
        window_energy = _box_sums(np.pad(energy, pad), n1, n2)  # float64: box sums subtract large partial sums
        return extractor.normalization_factor(window_energy, n1 * n2, features.shape[-1])

    @staticmethod
    def _window(frame_hw: np.ndarray, minimum: np.ndarray, budget: float) -> np.ndarray:
        """Size (resized pixels) of the scanned window: the resized frame, or at most ``budget``
        pixels (but never less than ``minimum``)."""
        if np.prod(frame_hw) <= budget:
            return frame_hw
        side = np.sqrt(budget)
        window = np.full(2, side)
        small = int(np.argmin(frame_hw))
        if frame_hw[small] < side:
            window[small] = frame_hw[small]
            window[1 - small] = budget / frame_hw[small]
        return np.maximum(window, minimum)

    @staticmethod
    def _window_centre(frame_hw, patch_hw, centre_yx) -> np.ndarray:
        """Window centre (image pixels): near ``centre_yx`` but with the window inside the frame."""
        frame_centre = (frame_hw - 1) / 2
        if centre_yx is None:
            return frame_centre
        low = -0.5 + patch_hw / 2
        high = frame_hw - 0.5 - patch_hw / 2
        return np.where(low <= high, np.clip(np.asarray(centre_yx, dtype=np.float64), low, high), frame_centre)

    def kernels(self, filters: list[np.ndarray]) -> list[np.ndarray]:
        """Spatial correlation kernels (C, N1, N2) of each block for a filter set."""
        model = self.appearance.model
        out = []
        for b, (f, (n1, n2)) in enumerate(zip(filters, self.appearance.geometry.feature_sizes)):
            g = full_from_half(f * model.interpolation[b])  # (C, K1, K2) centred
            k1, k2 = g.shape[-2:]
            folded = np.zeros((g.shape[0], n1, n2), dtype=np.complex128)
            rows = np.mod(np.arange(k1) - (k1 - 1) // 2, n1)
            cols = np.mod(np.arange(k2) - (k2 - 1) // 2, n2)
            np.add.at(folded, (slice(None), rows[:, None], cols[None, :]), g)
            gamma = np.real(fftw.ifft2(folded)) * (n1 * n2)  # gamma[j] = sum_k G[k] e^{+i 2 pi k j / N}
            # correlation kernel h[n] = gamma[-n]; cell n of the kernel meets cell n of a sample, which the
            # model multiplies by the cosine window
            kernel = np.roll(gamma[:, ::-1, ::-1], 1, axis=(1, 2))
            if self.match_samples:
                kernel = kernel * model.windows[b]
            out.append(kernel.astype(np.float32))
        return out

    def score(self, features: FrameFeatures, filter_sets: list[list[np.ndarray]]) -> list[FrameScores]:
        """Whole-frame score maps, one per filter set, on the finest block's grid."""
        geometry = self.appearance.geometry
        cells = self.appearance.extractor.cell_sizes
        finest = self._finest
        per_set = [None] * len(filter_sets)
        kernels = [self.kernels(filters) for filters in filter_sets]
        grid = None
        for b, x in enumerate(features.blocks):
            # zero-padding to FFT-friendly sizes keeps the valid part exact (no wrap-around reaches it)
            # and avoids FFTW's slow paths for large prime factors
            shape = (next_fast_len(x.shape[1], real=True), next_fast_len(x.shape[2], real=True))
            spectrum = fftw.rfft2(x, s=shape, axes=(-2, -1))
            n1, n2 = geometry.feature_sizes[b]
            valid = (x.shape[1] - n1 + 1, x.shape[2] - n2 + 1)
            for s, kernel_set in enumerate(kernels):
                kf = fftw.rfft2(kernel_set[b], s=shape, axes=(-2, -1))
                corr = fftw.irfft2(np.sum(np.conj(kf) * spectrum, axis=0), s=shape)[: valid[0], : valid[1]]
                if self.match_samples:
                    corr = corr * features.normalizers[b]
                # entry m is a target centred at (m + N/2 - pad) * cell resized pixels from the top-left
                if grid is None:
                    grid = self._grid(features, geometry.feature_sizes[finest], cells[finest], finest)
                resampled = self._resample(corr, (n1, n2), cells[b], features.pads[b], grid)
                per_set[s] = resampled if per_set[s] is None else per_set[s] + resampled
        origin, step, _ = grid
        return [FrameScores(v.astype(np.float32), origin, step) for v in per_set]

    def _grid(self, features: FrameFeatures, size, cell, block):
        x = features.blocks[block]
        valid = (x.shape[1] - size[0] + 1, x.shape[2] - size[1] + 1)
        pad = features.pads[block]
        u0 = (np.array([size[0] / 2, size[1] / 2]) - pad) * cell  # resized pixels of entry 0
        origin = features.top_left + u0 * features.scale
        return origin, cell * features.scale, (valid, u0, cell)

    @staticmethod
    def _resample(corr: np.ndarray, size, cell: int, pad: int, grid) -> np.ndarray:
        """Block scores at the finest block's grid positions (linear interpolation)."""
        (valid, u0, fine_cell) = grid[2]
        uy = u0[0] + np.arange(valid[0]) * fine_cell
        ux = u0[1] + np.arange(valid[1]) * fine_cell
        iy = uy / cell - size[0] / 2 + pad
        ix = ux / cell - size[1] / 2 + pad
        if np.allclose(iy, np.arange(valid[0])) and np.allclose(ix, np.arange(valid[1])):
            return corr
        coords = np.meshgrid(iy, ix, indexing="ij")
        return ndimage.map_coordinates(corr, coords, order=1, mode="nearest")


def local_maxima(values: np.ndarray, radius_cells: tuple[int, int], threshold: float, limit: int):
    """Local maxima of a score map above ``threshold``, strongest first.

    Non-maximum suppression uses a window of ``2 * radius + 1`` cells. Returns a list of
    ``(index (2,), value)``.
    """
    size = (2 * max(int(radius_cells[0]), 1) + 1, 2 * max(int(radius_cells[1]), 1) + 1)
    peaks = (values == ndimage.maximum_filter(values, size=size, mode="nearest")) & (values >= threshold)
    idx = np.argwhere(peaks)
    order = np.argsort(-values[peaks])[:limit]
    return [(idx[i], float(values[tuple(idx[i])])) for i in order]


def _box_sums(values: np.ndarray, n1: int, n2: int) -> np.ndarray:
    """Sums of every (n1, n2) window of a 2-D map: shape (H - n1 + 1, W - n2 + 1)."""
    table = np.zeros((values.shape[0] + 1, values.shape[1] + 1), dtype=np.float64)
    table[1:, 1:] = np.cumsum(np.cumsum(np.asarray(values, dtype=np.float64), axis=0), axis=1)
    return table[n1:, n2:] - table[:-n1, n2:] - table[n1:, :-n2] + table[:-n1, :-n2]
