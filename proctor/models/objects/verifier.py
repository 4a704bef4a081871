"""The phone verifier: is a candidate box a phone, or a wallet, a case, a remote, a hand?

A COCO detector calls any dark rectangle in a hand a phone. The verifier takes a second,
closer look at each phone candidate: a square crop centred on the box, ``CONTEXT`` times its
longer side (so the hand around it is in view), resampled from the analysis image to
``CROP`` pixels, through CenterNet's MobileNetV3 backbone (the detector's own, COCO-trained)
pooled to 1,008 numbers (its stride-16 and stride-32 stages), then a linear head trained on
crops of phones and of look-alikes from the tune side of the evaluation's sources
(``python -m tools.train_phone_verifier``; the head is
``tools/models/phone_verifier_head.json``, built into one ONNX graph with the backbone at
setup by ``tools/models/verifier_build.py``).

Input ``input`` ``(N, CROP, CROP, 3)`` RGB 0..255; output ``phone`` ``(N, 1)``: the
probability that the crop shows a phone (front or back, held or lying).
"""

from __future__ import annotations

import cv2
import numpy as np

from proctor.models.registry import ModelFile

#: Crop side over the candidate box's longer side.
CONTEXT = 1.25
#: Crop size fed to the backbone (pixels); the graph takes any size, training used this one.
CROP = 128


def square_crops(image_bgr: np.ndarray, boxes: np.ndarray, size: int = CROP) -> np.ndarray:
    """``(N, size, size, 3)`` RGB float crops, each a square ``CONTEXT`` times its box's
    longer side around the box centre; what lies outside the image repeats its edge."""
    crops = np.empty((len(boxes), size, size, 3), np.float32)
    for index, (x1, y1, x2, y2) in enumerate(np.asarray(boxes, np.float64)):
        side = max(x2 - x1, y2 - y1, 1.0) * CONTEXT
        factor = size / side
        left, top = (x1 + x2 - side) / 2, (y1 + y2 - side) / 2
        warp = np.array([[factor, 0, -left * factor], [0, factor, -top * factor]], np.float32)
        # Bilinear either way: warpAffine has no area averaging (INTER_AREA gives the same).
        crop = cv2.warpAffine(
            image_bgr, warp, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        crops[index] = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
    return crops


class PhoneVerifier:
    """Scores candidate boxes of one image: probability of a phone, 0..1, per box."""

    def __init__(self, model: ModelFile) -> None:
        self.session = model.onnx_session()
        self.input_name = self.session.get_inputs()[0].name

    def score(self, image_bgr: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        if len(boxes) == 0:
            return np.zeros(0, np.float32)
        crops = square_crops(image_bgr, boxes)
        return self.session.run(None, {self.input_name: crops})[0][:, 0].astype(np.float32)
