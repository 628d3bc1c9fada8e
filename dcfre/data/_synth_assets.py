"""Images the synthetic benchmark is built from: scikit-image's offline photos, cut into
backgrounds, target sprites, look-alike distractors and occluders.

Only photos that ship inside the scikit-image wheel are used (no download). All randomness comes
from the ``numpy.random.Generator`` passed in, so assets are reproducible from a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import skimage.data

#: Colour photos usable for targets, distractors and photo backgrounds.
COLOUR_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "retina", "immunohistochemistry", "hubble_deep_field")
#: Colour photos that make good targets (textured, varied colour); hubble is too dark and sparse.
TARGET_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "retina", "immunohistochemistry")
#: Gray textures, tinted before use, for aerial-looking ground and for occluders.
GRAY_TEXTURES = ("grass", "gravel", "brick", "camera", "moon")
#: Background kinds: a tinted texture name, or ``"photo"`` for a colour photo.
BACKGROUND_KINDS = ("grass", "gravel", "brick", "photo")
#: Tints (RGB multipliers) of the gray textures.
TEXTURE_TINTS = {
    "grass": (0.55, 0.80, 0.35),
    "gravel": (0.90, 0.80, 0.62),
    "brick": (0.85, 0.55, 0.45),
    "camera": (0.75, 0.78, 0.82),
    "moon": (0.80, 0.80, 0.76),
}

_CROP_CANDIDATES = 12  # random crops scored to pick a well-textured target
_SCORING_SIZE = 48.0  # px, sqrt(w h) at which crops are scored for texture
_MIN_CROP_FRACTION = 0.12  # crop side range, as a fraction of the photo's shorter side
_MAX_CROP_FRACTION = 0.45
_COLOUR_FIELD_CELLS = 6  # resolution of the low-frequency colour variation of backgrounds
_BRIGHTNESS_FIELD_AMPLITUDE = 0.12
_HUE_FIELD_AMPLITUDE = 0.04


@cache
def load_photo(name: str) -> np.ndarray:
    """One scikit-image photo as read-only ``(H, W, 3)`` uint8 RGB (gray photos repeated)."""
    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = np.ascontiguousarray(image[:, :, :3])
    image.setflags(write=False)
    return image


def tinted_texture(name: str) -> np.ndarray:
    """A gray texture coloured by its tint, ``(H, W, 3)`` uint8."""
    gray = load_photo(name)[:, :, 0].astype(np.float32)
    tint = np.asarray(TEXTURE_TINTS[name], dtype=np.float32)
    return np.clip(gray[:, :, None] * tint * 1.1, 0, 255).astype(np.uint8)


def make_background(rng: np.random.Generator, kind: str, photo: str, size: tuple[int, int]) -> np.ndarray:
    """A large background canvas ``(height, width, 3)`` uint8 for the camera to move over.

    Parameters
    ----------
    kind : str
        One of :data:`BACKGROUND_KINDS`.
    photo : str
        Colour photo used when ``kind == "photo"``.
    size : (width, height)
        Canvas size in world pixels.
    """
    width, height = size
    source = load_photo(photo) if kind == "photo" else tinted_texture(kind)
    if rng.random() < 0.5:
        source = source[:, ::-1]
    canvas = cv2.resize(source, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    canvas *= _colour_field(rng, width, height)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def _colour_field(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Smooth multiplicative variation: patches of slightly different brightness and hue."""
    shape = (_COLOUR_FIELD_CELLS, _COLOUR_FIELD_CELLS)
    brightness = rng.normal(1.0, _BRIGHTNESS_FIELD_AMPLITUDE, size=shape + (1,))
    hue = rng.normal(1.0, _HUE_FIELD_AMPLITUDE, size=shape + (3,))
    cells = np.clip(brightness * hue, 0.5, 1.5).astype(np.float32)
    return cv2.resize(cells, (width, height), interpolation=cv2.INTER_CUBIC)


@dataclass(frozen=True)
class Sprite:
    """A textured rectangle at several resolutions (level k is half the size of level k-1).

    Attributes
    ----------
    levels : tuple of ndarray, each (h_k, w_k, 3) float32
        RGB values 0..255.
    aspect : float
        Height / width of the rectangle.
    """

    levels: tuple[np.ndarray, ...]
    aspect: float

    def level_for(self, screen_width: float) -> np.ndarray:
        """The coarsest level still at least as wide as ``screen_width`` pixels (limits aliasing)."""
        chosen = self.levels[0]
        for level in self.levels[1:]:
            if level.shape[1] < screen_width:
                break
            chosen = level
        return chosen


def make_sprite(image: np.ndarray, long_side: int) -> Sprite:
    """Build a :class:`Sprite` from an RGB crop, resized so its longer side is ``long_side`` px."""
    height, width = image.shape[:2]
    scale = long_side / max(height, width)
    size = (max(2, round(width * scale)), max(2, round(height * scale)))
    base = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    levels = [base.astype(np.float32)]
    while min(levels[-1].shape[:2]) >= 16:
        levels.append(cv2.pyrDown(levels[-1]))
    return Sprite(levels=tuple(levels), aspect=height / width)


def cut_textured_crop(rng: np.random.Generator, photo: str, aspect: float) -> np.ndarray:
    """The most textured of a few random crops of ``photo`` with height/width ``aspect``.

    Texture is scored by the mean gradient magnitude plus the colour standard deviation, so the
    crop gives a correlation filter something to lock on to.
    """
    image = load_photo(photo)
    best, best_score = None, -1.0
    for _ in range(_CROP_CANDIDATES):
        crop = _random_crop(rng, image, aspect)
        score = _texture_score(crop)
        if score > best_score:
            best, best_score = crop, score
    return best


def _random_crop(rng: np.random.Generator, image: np.ndarray, aspect: float) -> np.ndarray:
    height, width = image.shape[:2]
    side = rng.uniform(_MIN_CROP_FRACTION, _MAX_CROP_FRACTION) * min(height, width)
    crop_w = int(min(width, side / np.sqrt(aspect)))
    crop_h = int(min(height, crop_w * aspect))
    crop_w = max(8, int(crop_h / aspect))
    x0 = int(rng.integers(0, max(1, width - crop_w + 1)))
    y0 = int(rng.integers(0, max(1, height - crop_h + 1)))
    return image[y0 : y0 + crop_h, x0 : x0 + crop_w]


def _texture_score(crop: np.ndarray) -> float:
    height, width = crop.shape[:2]
    scale = _SCORING_SIZE / np.sqrt(height * width)  # score the texture at the size it is tracked at
    small = cv2.resize(
        np.ascontiguousarray(crop),
        (max(4, round(width * scale)), max(4, round(height * scale))),
        interpolation=cv2.INTER_AREA,
    )
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1)
    return float(np.mean(np.hypot(gx, gy)) + small.reshape(-1, 3).std(axis=0).mean())


def recolour(image: np.ndarray, hue_shift_deg: float, saturation_gain: float, value_gain: float) -> np.ndarray:
    """Shift hue and scale saturation/brightness of an RGB float32 image (0..255)."""
    hsv = cv2.cvtColor(np.clip(image, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)
    hsv[:, :, 0] = (hsv[:, :, 0] + hue_shift_deg) % 360.0
    hsv[:, :, 1] = np.clip(hsv[:, :, 1] * saturation_gain, 0, 1)
    hsv[:, :, 2] = np.clip(hsv[:, :, 2] * value_gain, 0, 1)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0


def recolour_sprite(
    sprite: Sprite, hue_shift_deg: float, saturation_gain: float, value_gain: float, flip: bool
) -> Sprite:
    """A look-alike of ``sprite``: recoloured and optionally mirrored left-right."""
    levels = []
    for level in sprite.levels:
        level = level[:, ::-1] if flip else level
        levels.append(recolour(np.ascontiguousarray(level), hue_shift_deg, saturation_gain, value_gain))
    return Sprite(levels=tuple(levels), aspect=sprite.aspect)


def occluder_sprite(rng: np.random.Generator, long_side: int, aspect: float) -> Sprite:
    """A textured occluder (tinted texture or colour photo crop), e.g. a roof, tree or rock."""
    if rng.random() < 0.6:
        image = tinted_texture(str(rng.choice(GRAY_TEXTURES)))
    else:
        image = load_photo(str(rng.choice(COLOUR_PHOTOS)))
    return make_sprite(_random_crop(rng, image, aspect), long_side)
