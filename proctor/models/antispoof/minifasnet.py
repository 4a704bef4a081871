"""MiniFASNet anti-spoofing classifiers (Silent-Face-Anti-Spoofing, Apache-2.0), ONNX Runtime.

Each model sees an 80x80 crop of the face box enlarged by its own scale (V2: 2.7, V1SE:
4.0): it was trained to judge the face *with* its surroundings (a paper edge, a bezel, the
lighting around the head), so the crop must be cut the way the reference cuts it. Input:
BGR values 0..255 as float (not divided by 255), NCHW; output: three logits, class 1 real,
classes 0 and 2 two kinds of attack.

Near the image border the reference does not give up: it shrinks the scale until the
enlarged box fits in the image, then shifts the box back inside. Both are reported
(``scale_reduced``, ``box_clamped``) because the model then sees less, or off-centre,
context than it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from proctor.models.registry import ModelFile

INPUT_SIDE = 80
REAL_CLASS = 1


@dataclass(frozen=True)
class Crop:
    """The enlarged box actually cut from the image, and how it differs from the ideal one."""

    box: tuple[int, int, int, int]  # x_min, y_min, x_max, y_max, inclusive pixel indices
    scale: float  # the scale used (the model's, or less where the image is too small)
    shifted: bool  # the box was moved to stay inside the image


def enlarged_box(face_box: np.ndarray, width: int, height: int, scale: float) -> Crop:
    """The reference crop: the face box (xyxy) scaled by ``scale`` about its centre, the
    scale first reduced so the box fits the image, then the box shifted inside the image."""
    x_min, y_min, x_max, y_max = (float(v) for v in face_box)
    box_w, box_h = max(x_max - x_min, 1.0), max(y_max - y_min, 1.0)
    fitted = min(scale, (height - 1) / box_h, (width - 1) / box_w)
    new_w, new_h = box_w * fitted, box_h * fitted
    centre_x, centre_y = x_min + box_w / 2, y_min + box_h / 2
    left, right = _shift_inside(centre_x - new_w / 2, centre_x + new_w / 2, width - 1)
    top, bottom = _shift_inside(centre_y - new_h / 2, centre_y + new_h / 2, height - 1)
    shifted = (left, top) != (centre_x - new_w / 2, centre_y - new_h / 2)
    return Crop((int(left), int(top), int(right), int(bottom)), fitted, shifted)


def _shift_inside(low: float, high: float, last: int) -> tuple[float, float]:
    """Move the span ``[low, high]`` (no longer than ``last``) to lie within ``[0, last]``."""
    if low < 0:
        high, low = high - low, 0.0
    if high > last:
        low, high = low - (high - last), float(last)
    return low, high


class MiniFasNet:
    """One MiniFASNet model with the crop scale it was trained for."""

    def __init__(self, model: ModelFile, *, scale: float) -> None:
        self.session = model.onnx_session()
        self.input_name = self.session.get_inputs()[0].name
        self.scale = scale

    def crop(self, image_bgr: np.ndarray, face_box: np.ndarray) -> tuple[np.ndarray, Crop]:
        """The model's 80x80 input patch and the box it was cut from."""
        height, width = image_bgr.shape[:2]
        crop = enlarged_box(face_box, width, height, self.scale)
        x_min, y_min, x_max, y_max = crop.box
        patch = image_bgr[y_min : y_max + 1, x_min : x_max + 1]
        # Bilinear, as the training crops were made (not the area filter used elsewhere).
        return cv2.resize(patch, (INPUT_SIDE, INPUT_SIDE), interpolation=cv2.INTER_LINEAR), crop

    def real_probability(self, image_bgr: np.ndarray, face_box: np.ndarray) -> tuple[float, Crop]:
        """Softmax probability of the real class for the face at ``face_box`` (xyxy)."""
        patch, crop = self.crop(image_bgr, face_box)
        blob = patch.astype(np.float32).transpose(2, 0, 1)[None]
        (logits,) = self.session.run(None, {self.input_name: blob})
        logits = logits[0].astype(np.float64)
        probs = np.exp(logits - logits.max())
        return float(probs[REAL_CLASS] / probs.sum()), crop
