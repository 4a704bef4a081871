"""Build the configured detector and embedder from the model registry (one place)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from proctor.faces.detections import FaceDetections
from proctor.faces.embedders import DEFAULT_THRESHOLDS, MobileFaceNetEmbedder, SFaceEmbedder
from proctor.faces.scrfd import ScrfdDetector
from proctor.faces.yunet import YunetDetector
from proctor.models.registry import ModelRegistry
from proctor.settings import FaceDetectorName, FaceEmbedderName, FacesSettings

DETECTOR_MODELS: dict[str, str] = {"scrfd": "face_detection_scrfd", "yunet": "face_detection_yunet"}
EMBEDDER_MODELS: dict[str, str] = {
    "mobilefacenet": "face_recognition_mobilefacenet",
    "sface": "face_recognition_sface",
}


class FaceDetector(Protocol):
    name: str

    def detect(self, image_bgr: np.ndarray) -> FaceDetections: ...


class FaceEmbedder(Protocol):
    name: str
    dim: int

    def embed(self, image_bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray: ...


def build_detector(
    name: FaceDetectorName, settings: FacesSettings, registry: ModelRegistry
) -> FaceDetector:
    options = {
        "input_size": settings.input_size,
        "min_score": settings.min_score,
        "nms_iou": settings.nms_iou,
    }
    if name == "scrfd":
        return ScrfdDetector(registry.onnx_session(DETECTOR_MODELS[name]), **options)
    return YunetDetector(registry.resolve(DETECTOR_MODELS[name]).path, **options)


def build_embedder(name: FaceEmbedderName, registry: ModelRegistry) -> FaceEmbedder:
    if name == "mobilefacenet":
        return MobileFaceNetEmbedder(registry.onnx_session(EMBEDDER_MODELS[name]))
    return SFaceEmbedder(registry.resolve(EMBEDDER_MODELS[name]).path)


def default_threshold(name: FaceEmbedderName) -> float:
    return DEFAULT_THRESHOLDS[name]
