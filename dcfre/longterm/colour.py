"""Colour check of re-detection candidates: is a candidate nearer the target's colours than a known distractor's?

The local and global filters read HOG, Color Names and deep features. Color Names quantize colour
into 11 coarse names and the backbone's features are largely colour-invariant, so a look-alike that
differs from the target mainly in colour (another car or jacket of a similar shade) scores like the
target in both. A colour histogram sees that difference directly; colour histograms are the usual
complementary cue of correlation-filter trackers (Staple, DAT, CSR-DCF).

The histogram used here separates a pixel's colour into what is reliable at its chroma
``C = max(R, G, B) - min(R, G, B)`` (RGB in [0, 1]): its hue, weighted by ``C`` (the hue of a
grey pixel is noise), and its value ``max(R, G, B)``, weighted by ``value_weight * (1 - C)`` (1 by
default: every pixel counts once). A colourful target is described mostly by its hue (invariant to
brightness and to the multiplicative illumination changes of most scenes), a grey one by its
intensities, with no switch between the two.

The decision is relative, so it needs no threshold on histogram similarity: a candidate *looks
like a distractor* when it is nearer (Hellinger distance ``sqrt(1 - BC)``, BC the Bhattacharyya
coefficient) one of the mined distractors' histograms than the target's, and *looks like the
target* when it is nearer the target's: its distance to the target less than ``colour_gate_ratio``
(1 by default) times its distance to the nearest distractor. Before anything was mined, or for a
box outside the image, the check has no opinion.

Measured offline on lost-state candidates of ``updt`` with a local score of at least
``tau_redetection`` (true: IoU >= 0.5 with the ground truth; false: the target visible elsewhere),
ROC-AUC of the Bhattacharyya coefficient with the first frame's histogram: on synth-human (169 true
/ 203 false) 0.78 with this histogram, 0.90 with ``value_weight`` 0.1, 0.995 with hue alone (no
value part), against 0.57 for the calibrated global score; on synth-lt (101 / 102) 0.93, 0.985,
1.00 and 0.82. End to end, ``value_weight`` 0.1 failed on a 30 px target whose hue histogram has
few pixels (experiments/README.md, "Third round").
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from dcfre._jit import njit


@njit(cache=True, nogil=True)
def _chroma_hue_value_histogram(image, y0, y1, x0, x1, n_hue, n_value, value_weight, out):  # pragma: no cover - jitted
    """Accumulate the hue (weight C) and value (weight ``value_weight * (1 - C)``) histogram of
    image[y0:y1, x0:x1] into ``out``."""
    for y in range(y0, y1):
        for x in range(x0, x1):
            r = image[y, x, 0] / 255.0
            g = image[y, x, 1] / 255.0
            b = image[y, x, 2] / 255.0
            high = max(r, max(g, b))
            low = min(r, min(g, b))
            chroma = high - low
            if chroma > 0.0:
                if high == r:
                    hue = ((g - b) / chroma) % 6.0
                elif high == g:
                    hue = (b - r) / chroma + 2.0
                else:
                    hue = (r - g) / chroma + 4.0
                bin_ = int(hue / 6.0 * n_hue)
                if bin_ >= n_hue:
                    bin_ = n_hue - 1
                out[bin_] += chroma
            value_bin = int(high * n_value)
            if value_bin >= n_value:
                value_bin = n_value - 1
            out[n_hue + value_bin] += value_weight * (1.0 - chroma)


def colour_histogram(image: np.ndarray, centre_yx, size_hw, inner: float, n_hue: int, n_value: int,
                     value_weight: float = 1.0) -> np.ndarray:
    """Normalized chroma-weighted hue and value histogram of a box's central part.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), dtype uint8 or float32
        RGB frame, values in [0, 255].
    centre_yx : pair of float
        Box centre (y, x), image pixels.
    size_hw : pair of float
        Box height and width, image pixels.
    inner : float
        Fraction of the box (per side, centred) whose pixels are counted: the box's border holds
        background.
    n_hue, n_value : int
        Hue bins (over 360 degrees) and value bins.
    value_weight : float
        Factor on the value part's weights ``1 - C``: below 1 the hue of colourful pixels dominates
        even when most pixels are dull.

    Returns
    -------
    ndarray, shape (n_hue + n_value,), float64
        Sums to 1; all zeros when the box has no pixel inside the image.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"colour_histogram needs an (H, W, 3) RGB image, got shape {image.shape}")
    half = np.asarray(size_hw, dtype=np.float64) * inner / 2
    centre = np.asarray(centre_yx, dtype=np.float64)
    y0, x0 = (max(int(round(v)), 0) for v in centre - half)
    y1 = min(int(round(centre[0] + half[0])), image.shape[0])
    x1 = min(int(round(centre[1] + half[1])), image.shape[1])
    out = np.zeros(n_hue + n_value, dtype=np.float64)
    if y1 > y0 and x1 > x0:
        _chroma_hue_value_histogram(image, y0, y1, x0, x1, n_hue, n_value, float(value_weight), out)
    total = out.sum()
    return out / total if total > 0 else out


def bhattacharyya(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya coefficient ``sum sqrt(a * b)`` of two normalized histograms (1 = identical)."""
    return float(np.sum(np.sqrt(a * b)))


@dataclass(frozen=True)
class ColourVerdict:
    """Colour similarity of a candidate box.

    Attributes
    ----------
    target : float
        Bhattacharyya coefficient with the target's colour model.
    distractor : float
        Highest coefficient with a mined distractor's histogram; NaN when none is known.
    """

    target: float
    distractor: float

    @property
    def distances(self) -> tuple[float, float]:
        """Hellinger distances ``sqrt(1 - BC)`` to the target's colours and to the nearest distractor's
        (NaN where the coefficient is)."""
        return math.sqrt(max(1.0 - self.target, 0.0)), math.sqrt(max(1.0 - self.distractor, 0.0))

    @property
    def distance_ratio(self) -> float:
        """Hellinger distance to the target's colours over the distance to the nearest distractor's.

        Below 1: nearer the target. NaN when no distractor is known.
        """
        to_target, to_distractor = self.distances
        if math.isnan(to_distractor):
            return float("nan")
        return to_target / to_distractor if to_distractor > 0 else (0.0 if to_target == 0 else math.inf)

    @property
    def looks_like_distractor(self) -> bool:
        """Nearer a known distractor's colours than the target's (False when none is known)."""
        return bool(self.distance_ratio > 1.0)

    def looks_like_target(self, max_ratio: float) -> bool:
        """Less than ``max_ratio`` times as far from the target's colours as from every known
        distractor's (False when none is known)."""
        return bool(self.distance_ratio < max_ratio)


class IdentityEvidence:
    """Colour evidence that a tracked object is the target, accumulated over frames.

    Each observed frame gives the margin ``d_distractor - d_target`` (Hellinger distances of the
    tracked box to the nearest mined distractor's colours and to the target's): positive when the
    box is nearer the target. One frame of a small target decides badly (on the 30 px target of
    ``scripts/long_run.py`` a true view is nearer the target's model than a look-alike's view in
    75-92 % of the frames); the mean over many frames decides far better.

    Parameters
    ----------
    rate : float or None
        None: the plain mean over every observed frame (the evidence of one lock). A rate in (0, 1]:
        an exponential running mean with that weight on the newest frame (a reference that follows
        the target's slowly changing appearance).
    """

    def __init__(self, rate: float | None = None):
        self.rate = rate
        self.frames = 0
        self.mean = float("nan")  #: mean margin per observed frame (NaN before any)

    def observe(self, verdict: "ColourVerdict") -> None:
        """Add one frame's verdict (ignored when it has no opinion: no distractor known, box outside)."""
        to_target, to_distractor = verdict.distances
        if not (math.isfinite(to_target) and math.isfinite(to_distractor)):
            return
        margin = to_distractor - to_target
        self.frames += 1
        weight = 1.0 / self.frames if self.rate is None else max(self.rate, 1.0 / self.frames)
        self.mean = margin if self.frames == 1 else (1.0 - weight) * self.mean + weight * margin

    def confirms(self, min_frames: int, min_mean: float = 0.0) -> bool:
        """At least ``min_frames`` observed frames whose mean margin is positive and at least ``min_mean``
        (a NaN ``min_mean``, no reference yet, counts as 0)."""
        floor = min_mean if math.isfinite(min_mean) else 0.0
        return self.frames >= min_frames and self.mean > max(floor, 0.0)


class ColourModel:
    """The target's colour histogram (running average over learnt frames) and the mined distractors'.

    The target's model learns only from frames the tracker learns from (confident, not on probation),
    so a wrong re-detection cannot teach it the look-alike's colours before its probation ends.

    Parameters
    ----------
    n_hue, n_value : int
        Histogram bins (see :func:`colour_histogram`).
    inner : float
        Central fraction of a box whose pixels are counted.
    value_weight : float
        See :func:`colour_histogram`.
    learning_rate : float
        Weight of a new target view in the running average.
    max_distractors : int
        Distractor histograms kept (oldest dropped first).
    """

    def __init__(self, n_hue: int, n_value: int, inner: float, learning_rate: float, max_distractors: int,
                 value_weight: float = 1.0):
        self.n_hue, self.n_value, self.inner, self.value_weight = n_hue, n_value, inner, value_weight
        self.learning_rate = learning_rate
        self.target: np.ndarray | None = None
        self.distractors: deque[np.ndarray] = deque(maxlen=max(int(max_distractors), 1))

    def histogram(self, image: np.ndarray, centre_yx, size_hw) -> np.ndarray:
        return colour_histogram(image, centre_yx, size_hw, self.inner, self.n_hue, self.n_value, self.value_weight)

    def learn_target(self, image: np.ndarray, centre_yx, size_hw) -> None:
        """Blend the view of the target at ``centre_yx`` into its model (the first view sets it)."""
        self.learn_view(self.histogram(image, centre_yx, size_hw))

    def learn_view(self, view: np.ndarray) -> None:
        """Blend a histogram of the target (:meth:`histogram`) into its model; an empty one is ignored."""
        if not view.any():
            return
        rate = self.learning_rate
        self.target = view if self.target is None else (1 - rate) * self.target + rate * view

    def add_distractors(self, image: np.ndarray, centres_yx, size_hw) -> None:
        """Store the histogram of a box of the target's size at each mined distractor's centre."""
        for centre in centres_yx:
            view = self.histogram(image, centre, size_hw)
            if view.any():
                self.distractors.append(view)

    def verdict(self, image: np.ndarray, centre_yx, size_hw) -> ColourVerdict:
        """Similarity of the box at ``centre_yx`` to the target's colours and to the nearest distractor's."""
        return self.judge(self.histogram(image, centre_yx, size_hw))

    def judge(self, view: np.ndarray) -> ColourVerdict:
        """Verdict on a box's histogram (:meth:`histogram`)."""
        if not view.any():  # the box lies outside the image: no colour to judge
            return ColourVerdict(float("nan"), float("nan"))
        target = bhattacharyya(view, self.target) if self.target is not None else float("nan")
        distractor = max((bhattacharyya(view, d) for d in self.distractors), default=float("nan"))
        return ColourVerdict(target, distractor)
