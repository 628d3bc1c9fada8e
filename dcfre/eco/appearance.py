"""An ECO model together with its features: from image and position to scores, and back to learning."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from dcfre.config import ECOConfig
from dcfre.eco.geometry import SampleGeometry, round_half_away
from dcfre.eco.model import ECOModel
from dcfre.eco.peak import Peak, find_peak
from dcfre.features.extractor import FeatureExtractor
from dcfre.features.sampling import crop_and_resize_at, crop_and_resize_many, eco_sample_patches
from dcfre.fourier import HalfSpectrumSampler, shift_spectrum


class Detection:
    """What one model sees in a frame.

    The grid maximum and its Newton refinement are found on first use of :attr:`peak` or
    :attr:`maps`: in UPDT only the fused score locates the target, so the shallow model's own peak is
    usually never needed.

    Attributes
    ----------
    sample_centre : (2,) ndarray
        Centre (y, x) of the samples in image pixels.
    scales : (S,) ndarray
        Image pixels per sample pixel of each searched sample.
    spectra : list of (S, C, K1, Kh)
        Projected sample spectra (kept to build the training sample without re-extraction).
    score_spectra : (S, K1o, Kho)
        Score of each sample as a Fourier series.
    maps : (S, K1o, K2o)
        Score sampled on the output grid (index 0 = zero displacement).
    peak : Peak
        Sub-grid maximum.
    """

    def __init__(self, sample_centre: np.ndarray, scales: np.ndarray, spectra: list, score_spectra: np.ndarray,
                 locate: Callable[[], tuple[Peak, np.ndarray]]):
        self.sample_centre = sample_centre
        self.scales = scales
        self.spectra = spectra
        self.score_spectra = score_spectra
        self._locate = locate  # () -> (peak, maps), see find_peak
        self._peak: Peak | None = None
        self._maps: np.ndarray | None = None
        self._scale_index: int | None = None

    def _resolve(self) -> None:
        if self._maps is None:
            peak, self._maps = self._locate()
            if self._scale_index is not None:
                peak = Peak(peak.displacement, peak.score, self._scale_index)
            self._peak = peak

    @property
    def peak(self) -> Peak:
        self._resolve()
        return self._peak

    @property
    def maps(self) -> np.ndarray:
        self._resolve()
        return self._maps

    def set_scale_index(self, index: int) -> None:
        """Make ``peak.scale_index`` the given scale (the fused winner), keeping its displacement and score."""
        self._scale_index = int(index)
        if self._peak is not None:
            self._peak = Peak(self._peak.displacement, self._peak.score, self._scale_index)

    @property
    def scale_index(self) -> int:
        """The scale the model learns from: :meth:`set_scale_index`'s, else the peak's."""
        return self._scale_index if self._scale_index is not None else self.peak.scale_index

    @property
    def score(self) -> float:
        return self.peak.score


class AppearanceModel:
    """Feature extraction + ECO model + sampling of one appearance model.

    Parameters
    ----------
    config : ECOConfig
    geometry : SampleGeometry
    extractor : FeatureExtractor
    """

    def __init__(self, config: ECOConfig, geometry: SampleGeometry, extractor: FeatureExtractor):
        self.config = config
        self.geometry = geometry
        self.extractor = extractor
        self.model = ECOModel(config, geometry, extractor.specs)
        self.sampler = HalfSpectrumSampler(*geometry.output_size, threads=config.fft_threads)

    # ----------------------------------------------------------------------------- sampling
    def sample_patches(self, image: np.ndarray, centre_yx: np.ndarray, scales: np.ndarray) -> np.ndarray:
        """Square sample patches around ``centre_yx``, one per scale: (S, side, side[, 3]) float32.

        Centred at :meth:`sample_position` (the rounded position with ECO's sampling).
        """
        side = self.geometry.sample_size.astype(np.float64)
        patch_sizes = side[None, :] * np.asarray(scales, dtype=np.float64)[:, None]
        out_hw = (int(side[0]), int(side[1]))
        if self.config.eco_patch_sampling:
            return eco_sample_patches(image, self.sample_position(centre_yx), patch_sizes, out_hw)
        return crop_and_resize_many(image, centre_yx, patch_sizes, out_hw)

    def sample_features(self, image: np.ndarray, centre_yx: np.ndarray, scales: np.ndarray,
                        patches: np.ndarray | None = None) -> list[np.ndarray]:
        """Feature blocks of square samples centred at ``centre_yx``, one per scale (of ``patches``
        when given: :meth:`sample_patches` of a model that samples alike, see :meth:`samples_like`)."""
        if patches is None:
            patches = self.sample_patches(image, centre_yx, scales)
        return self.extractor(patches)

    def samples_like(self, other: "AppearanceModel") -> bool:
        """Whether :meth:`sample_patches` of ``other`` returns the same patches as this model's."""
        return (self.config.eco_patch_sampling == other.config.eco_patch_sampling
                and np.array_equal(self.geometry.sample_size, other.geometry.sample_size))

    def sample_position(self, centre_yx: np.ndarray) -> np.ndarray:
        """Where samples around ``centre_yx`` are centred: the position itself, or rounded as in ECO."""
        centre = np.asarray(centre_yx, dtype=np.float64)
        if self.config.eco_patch_sampling:
            return np.array([float(round_half_away(v)) for v in centre])
        return centre

    def sample_features_at(self, image: np.ndarray, centres_yx: np.ndarray, scale: float) -> list[np.ndarray]:
        """Feature blocks of square samples at one scale centred at each of ``centres_yx`` (N, 2)."""
        side = self.geometry.sample_size.astype(np.float64)
        patches = crop_and_resize_at(image, centres_yx, side * scale, (int(side[0]), int(side[1])))
        return self.extractor(patches)

    def cells_to_image_pixels(self, scale: float) -> np.ndarray:
        """Image pixels per output-grid cell for a sample taken at ``scale``."""
        return self.geometry.cells_to_pixels * scale

    # ----------------------------------------------------------------------------- tracking
    def initialize(self, image: np.ndarray, centre_yx: np.ndarray, scale: float, augment=None) -> None:
        """Learn the model from the target centred at ``centre_yx`` at ``scale``."""
        blocks = self.sample_features(image, centre_yx, np.array([scale]))
        if augment is not None:
            blocks = augment(self, image, centre_yx, scale, blocks)
        shift_cells = (np.asarray(centre_yx) - self.sample_position(centre_yx)) / self.cells_to_image_pixels(scale)
        self.model.initialize(blocks, shift_cells=(float(shift_cells[0]), float(shift_cells[1])))

    def detect(self, image: np.ndarray, centre_yx: np.ndarray, scales: np.ndarray,
               patches: np.ndarray | None = None) -> Detection:
        """Score samples at ``centre_yx`` for each scale and find the sub-grid maximum (``patches``: see
        :meth:`sample_features`)."""
        blocks = self.sample_features(image, centre_yx, scales, patches)
        spectra = self.model.spectra(blocks)
        score_spectra = self.model.score(spectra)
        locate = partial(find_peak, score_spectra, self.sampler, self.config.newton_iterations)
        return Detection(self.sample_position(centre_yx), np.asarray(scales), spectra, score_spectra, locate)

    def displacement_pixels(self, detection: Detection) -> np.ndarray:
        """Image-pixel displacement (dy, dx) of the detected maximum from the sample centre."""
        scale = detection.scales[detection.peak.scale_index]
        return detection.peak.displacement * self.cells_to_image_pixels(scale)

    def training_sample(self, detection: Detection, new_centre_yx: np.ndarray) -> list[np.ndarray]:
        """The detection's sample, translated in the Fourier domain to be centred on the target."""
        idx = detection.scale_index
        scale = detection.scales[idx]
        shift_cells = (np.asarray(new_centre_yx) - detection.sample_centre) / self.cells_to_image_pixels(scale)
        out_size = self.geometry.output_size
        return [shift_spectrum(z[idx], (-shift_cells[0], -shift_cells[1]), out_size) for z in detection.spectra]

    def learn(self, detection: Detection, new_centre_yx: np.ndarray, frame_number: int) -> bool:
        """Add the frame's sample to the memory and train on schedule; returns whether trained."""
        return self.model.update(self.training_sample(detection, new_centre_yx), frame_number)
