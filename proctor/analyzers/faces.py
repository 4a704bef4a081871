"""Faces analyzer: find every face (box, score, 5 landmarks); alerts NO_FACE / MULTIPLE_FACES."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from proctor.analyzers.base import Analyzer, FrameContext
from proctor.frame import Frame
from proctor.models.boxes import shorter_sides
from proctor.models.detections import Detections
from proctor.models.faces.backends import DETECTOR_MODELS, build_detector
from proctor.models.registry import ModelRegistry
from proctor.schemas import Alert, box_out
from proctor.settings import Settings


@dataclass
class FacesResult:
    faces: Detections  # analysis-image pixels, largest first, with 5 landmarks each
    alerts: list[Alert] = field(default_factory=list)

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        return {"face_detected": len(self.faces) > 0, "face_count": len(self.faces)}

    def face_values(self, frame: Frame) -> list[dict[str, Any]]:
        assert self.faces.landmarks is not None
        return [
            {
                "box": box_out(box),
                "score": round(float(score), 4),
                "landmarks": [
                    {"x": round(float(x), 1), "y": round(float(y), 1)} for x, y in points
                ],
            }
            for box, score, points in zip(
                frame.to_original(self.faces.boxes),
                self.faces.scores,
                frame.to_original(self.faces.landmarks),
                strict=True,
            )
        ]


class FacesAnalyzer(Analyzer):
    name = "faces"
    fields = ("face_detected", "face_count")
    face_fields = ("box", "score", "landmarks")

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings.faces
        self.backend = settings.face_detector
        self.detector = build_detector(self.backend, self.settings, registry)

    @classmethod
    def models(cls, settings: Settings) -> list[str]:
        return [DETECTOR_MODELS[settings.face_detector]]

    def find_faces(self, frame: Frame) -> Detections:
        """All faces large enough to matter, largest first. When none is found, one retry on
        the frame with a grey border: a face filling the whole frame (a close-up) is larger
        than the detector's largest anchors until the border shrinks it."""
        image = frame.image
        faces = self._detect(image, frame.scale)
        if len(faces) == 0 and self.settings.retry_with_border:
            height, width = image.shape[:2]
            pad_y = round(height * self.settings.retry_border)
            pad_x = round(width * self.settings.retry_border)
            padded = cv2.copyMakeBorder(
                image, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=(127, 127, 127)
            )
            faces = self._detect(padded, frame.scale).shifted(-pad_x, -pad_y).clipped(width, height)
        return faces.largest_first()

    def _detect(self, image: np.ndarray, scale: float) -> Detections:
        faces = self.detector.detect(image)
        return faces[shorter_sides(faces.boxes) * scale >= self.settings.min_face_px]

    def analyze(self, ctx: FrameContext) -> FacesResult:
        faces = self.find_faces(ctx.frame)
        alerts = []
        if len(faces) == 0:
            alerts.append(
                Alert(code="NO_FACE", severity="high", message="No face is visible in the frame.")
            )
        elif len(faces) > 1:
            alerts.append(
                Alert(
                    code="MULTIPLE_FACES",
                    severity="high",
                    message=f"{len(faces)} faces are visible in the frame.",
                    # As sure as the less sure of the two most confident faces.
                    confidence=round(float(np.sort(faces.scores)[-2]), 4),
                )
            )
        return FacesResult(faces, alerts)
