"""ArcFace-style 5-point alignment to a 112x112 crop, shared by both embedders."""

from __future__ import annotations

import cv2
import numpy as np

#: Where the five landmarks sit in the 112x112 crop that ArcFace-family models
#: (MobileFaceNet, SFace) were trained on.
ARCFACE_TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def align_face(image_bgr: np.ndarray, landmarks: np.ndarray, size: int = 112) -> np.ndarray:
    """Similarity-warp the face so its landmarks land on the ArcFace template."""
    template = ARCFACE_TEMPLATE_112 * (size / 112.0)
    matrix, _ = cv2.estimateAffinePartial2D(
        np.asarray(landmarks, np.float32), template, method=cv2.LMEDS
    )
    if matrix is None:  # degenerate landmarks (all on one point): fall back to least squares
        matrix, _ = cv2.estimateAffinePartial2D(np.asarray(landmarks, np.float32), template)
    return cv2.warpAffine(image_bgr, matrix, (size, size), borderValue=0)
