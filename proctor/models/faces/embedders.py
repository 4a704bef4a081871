"""Face embedders: an aligned face in, an L2-normalised vector out.

Cosine similarity between two vectors of the same backend says how alike two faces are.
Each backend's operating threshold lives with the identity analyzer's defaults
(``proctor.analyzers.identity``), chosen by ``python -m proctor.eval faces``.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from proctor.models.faces.align import align_face
from proctor.models.registry import ModelFile


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class MobileFaceNetEmbedder:
    """512-d MobileFaceNet (ONNX Runtime): RGB, (x - 127.5) / 127.5, NCHW 112x112."""

    name = "mobilefacenet"
    dim = 512

    def __init__(self, model: ModelFile) -> None:
        self.session = model.onnx_session()
        self.input_name = self.session.get_inputs()[0].name

    def embed(self, image_bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """(N, 512) embeddings of the faces given by their (N, 5, 2) landmarks."""
        if len(landmarks) == 0:
            return np.zeros((0, self.dim), np.float32)
        crops = [align_face(image_bgr, points) for points in landmarks]
        blob = cv2.dnn.blobFromImages(
            crops, 1 / 127.5, (112, 112), (127.5, 127.5, 127.5), swapRB=True
        )
        # One face per run: the model is dynamically quantised, so the int8 scales come from
        # the whole input tensor and a batch would change each face's embedding.
        rows = [self.session.run(None, {self.input_name: face[None]})[0][0] for face in blob]
        return l2_normalise(np.stack(rows))


class SFaceEmbedder:
    """128-d SFace through ``cv2.FaceRecognizerSF`` (its int8 file does not load in ORT)."""

    name = "sface"
    dim = 128

    def __init__(self, model: ModelFile) -> None:
        self._recognizer = cv2.FaceRecognizerSF.create(str(model.path), "")
        self._lock = threading.Lock()  # OpenCV DNN nets are not safe across threads

    def embed(self, image_bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """(N, 128) embeddings of the faces given by their (N, 5, 2) landmarks."""
        if len(landmarks) == 0:
            return np.zeros((0, self.dim), np.float32)
        rows = []
        for points in landmarks:
            crop = align_face(image_bgr, points)
            with self._lock:
                rows.append(self._recognizer.feature(crop).reshape(-1))
        return l2_normalise(np.stack(rows))
