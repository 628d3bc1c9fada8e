"""Drawing the frames of a :class:`~dcfre.data._synth_script.SceneScript`.

Per frame: the camera's view of the mirrored background canvas (one affine warp), the look-alike
distractors, the target and the occluders (each a small warp into its screen rectangle with exact
fractional edge coverage), then illumination, blur and sensor noise. Everything is vectorised
OpenCV/numpy work on whole images or small regions.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dcfre.data._synth_assets import Sprite
from dcfre.data._synth_script import MIN_SHADING, SceneScript

_NOISE_BANK_SIZE = 8
_MIN_BLUR_SIGMA = 0.3
_MAX_STREAK_PER_PASS = 8.0  # px; keeps motion-blur kernels within 11x11 (OpenCV's direct path)


@dataclass
class SceneAssets:
    """Images a script is drawn with."""

    background: np.ndarray  # (Hc, Wc, 3) uint8 canvas
    target: Sprite
    distractors: list[Sprite]
    occluders: list[Sprite]
    noise: np.ndarray  # (B, H, W, 3) float32 sensor-noise bank


def make_noise_bank(rng: np.random.Generator, width: int, height: int, sigma: float) -> np.ndarray:
    """A few frames of Gaussian sensor noise (drawn at random per frame), float32."""
    if sigma <= 0:
        return np.zeros((1, height, width, 3), dtype=np.float32)
    return rng.standard_normal((_NOISE_BANK_SIZE, height, width, 3), dtype=np.float32) * np.float32(sigma)


class SceneRenderer:
    """Render frame ``t`` of a script on demand (frames are independent of each other)."""

    def __init__(self, script: SceneScript, assets: SceneAssets, noise_seed: int) -> None:
        self.script = script
        self.assets = assets
        self._noise_index = np.random.default_rng(noise_seed).integers(0, len(assets.noise), size=script.n_frames)
        # pixel-centre coordinates relative to the frame centre, -1 .. 1 (illumination gradient)
        self._rel_x = ((np.arange(script.width) + 0.5 - script.width / 2) / (script.width / 2)).astype(np.float32)
        self._rel_y = ((np.arange(script.height) + 0.5 - script.height / 2) / (script.height / 2)).astype(np.float32)

    def render(self, t: int, draw_target: bool = True) -> np.ndarray:
        """Frame ``t`` as ``(H, W, 3)`` uint8 RGB (``draw_target=False`` leaves the target out)."""
        s = self.script
        frame = self._background(t)
        for sprite, boxes in zip(self.assets.distractors, s.distractor_boxes):
            paste_sprite(frame, sprite, boxes[t])
        if draw_target:
            paste_sprite(frame, self.assets.target, s.target_boxes[t])
        for sprite, boxes in zip(self.assets.occluders, s.occluder_boxes):
            paste_sprite(frame, sprite, boxes[t])
        self._light(frame, t)
        frame = self._blur(frame, t)
        frame += self.assets.noise[self._noise_index[t]]
        np.clip(frame, 0.0, 255.0, out=frame)
        return (frame + 0.5).astype(np.uint8)

    def _background(self, t: int) -> np.ndarray:
        s = self.script
        z = float(s.zoom[t])
        cx, cy = s.camera[t]
        # world pixel-edge -> screen pixel-edge is z * (p - c) + half; OpenCV uses pixel centres (edge - 0.5)
        matrix = np.array(
            [[z, 0.0, z * (0.5 - cx) + s.width / 2 - 0.5], [0.0, z, z * (0.5 - cy) + s.height / 2 - 0.5]],
            dtype=np.float64,
        )
        view = cv2.warpAffine(
            self.assets.background,
            matrix,
            (s.width, s.height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT_101,
        )
        return view.astype(np.float32)

    def _light(self, frame: np.ndarray, t: int) -> None:
        s = self.script
        shading = np.add.outer(np.float32(s.shadow[t, 1]) * self._rel_y, np.float32(s.shadow[t, 0]) * self._rel_x)
        gain = np.float32(s.gain[t]) * np.maximum(shading + np.float32(1.0), np.float32(MIN_SHADING))
        frame *= gain[:, :, None]

    def _blur(self, frame: np.ndarray, t: int) -> np.ndarray:
        s = self.script
        if s.blur_sigma[t] > _MIN_BLUR_SIGMA:
            frame = cv2.GaussianBlur(frame, (0, 0), float(s.blur_sigma[t]))
        streak = s.motion_blur[t]
        length = float(np.hypot(*streak))
        if length > 0:
            # long kernels switch OpenCV to a slow DFT path: blur in passes of short streaks instead
            passes = int(np.ceil(length / _MAX_STREAK_PER_PASS))
            kernel = motion_kernel(streak / passes)
            for _ in range(passes):
                frame = cv2.filter2D(frame, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
        return frame


def motion_kernel(streak: np.ndarray) -> np.ndarray:
    """Normalised line kernel along the streak vector (px), float32."""
    length = float(np.hypot(*streak))
    half = int(np.ceil(length / 2)) + 1
    kernel = np.zeros((2 * half + 1, 2 * half + 1), dtype=np.float32)
    dx, dy = streak / 2
    cv2.line(kernel, (round(half - dx), round(half - dy)), (round(half + dx), round(half + dy)), 1.0, 1, cv2.LINE_AA)
    return kernel / kernel.sum()


def paste_sprite(frame: np.ndarray, sprite: Sprite, box: np.ndarray) -> None:
    """Draw ``sprite`` stretched over the screen rectangle ``box`` (pixel-edge ``x0, y0, w, h``), in place.

    Pixels only partly covered by the rectangle are blended by their exact covered fraction, so
    the drawn target occupies precisely ``box``.
    """
    height, width = frame.shape[:2]
    x0, y0, bw, bh = (float(v) for v in box)
    if bw <= 0 or bh <= 0:
        return
    rx0, ry0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
    rx1, ry1 = min(int(np.ceil(x0 + bw)), width), min(int(np.ceil(y0 + bh)), height)
    if rx1 <= rx0 or ry1 <= ry0:
        return
    image = sprite.level_for(bw)
    sh, sw = image.shape[:2]
    sx, sy = sw / bw, sh / bh
    # ROI pixel (u, v) has its centre at screen (rx0 + u + 0.5, ry0 + v + 0.5); map it into the sprite's pixel-centre grid
    matrix = np.array([[sx, 0.0, sx * (rx0 + 0.5 - x0) - 0.5], [0.0, sy, sy * (ry0 + 0.5 - y0) - 0.5]])
    patch = cv2.warpAffine(
        image,
        matrix,
        (rx1 - rx0, ry1 - ry0),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    alpha = np.outer(_coverage(ry0, ry1, y0, y0 + bh), _coverage(rx0, rx1, x0, x0 + bw)).astype(np.float32)
    roi = frame[ry0:ry1, rx0:rx1]
    roi += alpha[:, :, None] * (patch.reshape(roi.shape) - roi)


def _coverage(first: int, stop: int, lo: float, hi: float) -> np.ndarray:
    """Fraction of each pixel ``[i, i + 1)``, ``i`` in ``[first, stop)``, inside ``[lo, hi)``."""
    pixels = np.arange(first, stop, dtype=np.float64)
    return np.clip(np.minimum(pixels + 1.0, hi) - np.maximum(pixels, lo), 0.0, 1.0)
