"""Face embedders: an aligned face in, an L2-normalised vector out.

Cosine similarity between two vectors of the same backend says how alike two faces are.
``DEFAULT_THRESHOLDS`` hold each backend's operating point, chosen by
``python -m proctor.eval faces`` with the rule written in the README: the lowest
threshold whose false-accept rate on all LFW impostor pairs is at most 0.1 %.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from proctor.faces.align import align_face

DEFAULT_THRESHOLDS: dict[str, float] = {"mobilefacenet": 0.29, "sface": 0.38}


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class MobileFaceNetEmbedder:
    """512-d MobileFaceNet (ONNX Runtime): RGB, (x - 127.5) / 127.5, NCHW 112x112."""

    name = "mobilefacenet"
    dim = 512

    def __init__(self, session: ort.InferenceSession) -> None:
        self.session = session
        self.input_name = session.get_inputs()[0].name

    def embed(self, image_bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        crop = align_face(image_bgr, landmarks)
        blob = cv2.dnn.blobFromImage(
            crop, 1 / 127.5, (112, 112), (127.5, 127.5, 127.5), swapRB=True
        )
        return l2_normalise(self.session.run(None, {self.input_name: blob})[0][0])


class SFaceEmbedder:
    """128-d SFace through ``cv2.FaceRecognizerSF`` (its int8 file does not load in ORT)."""

    name = "sface"
    dim = 128

    def __init__(self, model_path: Path) -> None:
        self._recognizer = cv2.FaceRecognizerSF.create(str(model_path), "")
        self._lock = threading.Lock()  # OpenCV DNN nets are not safe across threads

    def embed(self, image_bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        crop = align_face(image_bgr, landmarks)
        with self._lock:
            feature = self._recognizer.feature(crop)
        return l2_normalise(feature.reshape(-1))
