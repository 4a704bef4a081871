"""Build the configured face detector and embedder from the model registry (one place)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from proctor.models.detections import Detector
from proctor.models.faces.embedders import MobileFaceNetEmbedder, SFaceEmbedder
from proctor.models.faces.scrfd import ScrfdDetector
from proctor.models.faces.yunet import YunetDetector
from proctor.models.registry import ModelRegistry
from proctor.settings import FaceDetectorName, FaceEmbedderName, FacesSettings

DETECTOR_MODELS: dict[str, str] = {"scrfd": "face_detection_scrfd", "yunet": "face_detection_yunet"}
#: Each detector's minimum face score, chosen by ``python -m proctor.eval faces`` on its tune
#: split (the rule in docs/accuracy.md): the scores of the two detectors are not comparable.
DEFAULT_MIN_SCORES: dict[str, float] = {"scrfd": 0.55, "yunet": 0.75}
EMBEDDER_MODELS: dict[str, str] = {
    "mobilefacenet": "face_recognition_mobilefacenet",
    "sface": "face_recognition_sface",
}


class FaceEmbedder(Protocol):
    name: str
    dim: int

    def embed(self, image_bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray: ...


def build_detector(
    name: FaceDetectorName, settings: FacesSettings, registry: ModelRegistry
) -> Detector:
    backend = ScrfdDetector if name == "scrfd" else YunetDetector
    return backend(
        registry.model(DETECTOR_MODELS[name]),
        input_size=settings.input_size,
        min_score=DEFAULT_MIN_SCORES[name] if settings.min_score is None else settings.min_score,
        nms_iou=settings.nms_iou,
    )


def build_embedder(name: FaceEmbedderName, registry: ModelRegistry) -> FaceEmbedder:
    backend = MobileFaceNetEmbedder if name == "mobilefacenet" else SFaceEmbedder
    return backend(registry.model(EMBEDDER_MODELS[name]))
