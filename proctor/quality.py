"""Frame quality: how bright and how sharp a frame is, and the enhanced copies the face
detector retries on before it reports NO_FACE.

A missed face is an accusation (NO_FACE) against a student whose only fault may be a dim
room, a bright window behind them or a cheap camera, and such misses fall hardest on darker
skin (``python -m proctor.eval fairness --part detection``). So the detector gets a second
look at an enhanced copy, and when even that finds nothing the frame itself is blamed, with
the numbers, when it is too dark, washed out or blurred.

Both measures are taken on the luma of the analysis image shrunk to ``MEASURE_SIDE`` px on
its longest side, so they do not depend on the upload's resolution: brightness is the mean
luma (0..255); sharpness the variance of the 3x3 Laplacian of that luma (a sharp webcam
frame of a room scores in the hundreds, a frame smeared by motion or out of focus in the
tens).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from proctor.models.boxes import resize

#: Longest side, in pixels, of the luma image both measures are taken on.
MEASURE_SIDE = 320
#: Below this sharpness a frame shows no detail at all (one flat colour: a covered lens, a
#: camera sending nothing). That is no blur to blame on the camera's focus: it stays NO_FACE.
BLANK_SHARPNESS = 1.0
#: Gamma lifts stop here: a stronger lift only amplifies sensor noise and JPEG blocks.
MIN_GAMMA = 0.3


@dataclass(frozen=True)
class FrameQuality:
    brightness: float  # mean luma, 0..255
    sharpness: float  # variance of the Laplacian of the luma at MEASURE_SIDE px


def luma(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def measure(image: np.ndarray) -> FrameQuality:
    """Brightness and sharpness of a BGR frame (see the module docstring)."""
    grey = luma(image)
    height, width = grey.shape[:2]
    ratio = min(1.0, MEASURE_SIDE / max(height, width))
    if ratio < 1.0:
        grey = resize(grey, max(1, round(width * ratio)), max(1, round(height * ratio)))
    sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    return FrameQuality(brightness=float(grey.mean()), sharpness=sharpness)


def lift_gamma(brightness: float, target: float) -> float:
    """The gamma (<= 1) that maps a mean luma of ``brightness`` to about ``target``; 1 when
    the frame is already that bright, never below ``MIN_GAMMA``."""
    if brightness >= target:
        return 1.0
    return max(MIN_GAMMA, float(np.log(target / 255) / np.log(max(brightness, 1.0) / 255)))


def enhance(image: np.ndarray, clahe_clip: float, gamma: float) -> np.ndarray:
    """``image`` with its lightness (LAB L) equalised by CLAHE (8x8 tiles, ``clahe_clip``)
    and then raised to ``gamma``; colour is kept. The gamma lift brings a dim face into the
    range the detector was trained on; CLAHE (``clahe_clip`` 0: none, the default) was meant
    for a face darkened by a bright window, but on the tune split it found fewer missed faces
    than the lift alone and invented one (docs/accuracy.md, fairness)."""
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    lightness = lab[..., 0]
    if clahe_clip > 0:
        lightness = cv2.createCLAHE(clipLimit=clahe_clip, tileGridSize=(8, 8)).apply(lightness)
    if gamma != 1.0:
        table = (255 * (np.arange(256) / 255) ** gamma).round().astype(np.uint8)
        lightness = cv2.LUT(lightness, table)
    lab[..., 0] = lightness
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
