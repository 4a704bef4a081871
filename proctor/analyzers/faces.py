"""Faces analyzer: find every face (box, score, 5 landmarks); alerts NO_FACE / MULTIPLE_FACES."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from proctor.analyzers.base import Analyzer, AnalyzerDeps, FrameContext
from proctor.faces.backends import DETECTOR_MODELS, build_detector
from proctor.faces.detections import FaceDetections
from proctor.frame import Frame
from proctor.schemas import Alert

#: Border added on each side (as a fraction of the frame) for the no-face retry.
RETRY_BORDER = 0.5


@dataclass
class FacesResult:
    faces: FaceDetections  # analysis-image pixels, largest first
    alerts: list[Alert] = field(default_factory=list)

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        count = len(self.faces)
        faces = []
        for box, score, points in zip(
            frame.to_original(self.faces.boxes),
            self.faces.scores,
            frame.to_original(self.faces.landmarks),
            strict=True,
        ):
            faces.append(
                {
                    "box": dict(
                        zip(
                            ("x_min", "y_min", "x_max", "y_max"),
                            (round(float(v), 1) for v in box),
                            strict=True,
                        )
                    ),
                    "score": round(float(score), 4),
                    "landmarks": [
                        {"x": round(float(x), 1), "y": round(float(y), 1)} for x, y in points
                    ],
                }
            )
        return {
            "face_detected": count > 0,
            "face_count": count,
            "people_count": count,
            "faces": faces,
        }


class FacesAnalyzer(Analyzer):
    name = "faces"

    def __init__(self, deps: AnalyzerDeps) -> None:
        self.settings = deps.settings.faces
        self.backend = deps.settings.face_detector
        self.detector = build_detector(self.backend, self.settings, deps.registry)

    def model_names(self) -> list[str]:
        return [DETECTOR_MODELS[self.backend]]

    def find_faces(self, image_bgr: np.ndarray) -> FaceDetections:
        """All faces large enough to matter, largest first (also used for enrollment)."""
        faces = self._detect(image_bgr)
        if len(faces) == 0 and self.settings.retry_with_border:
            height, width = image_bgr.shape[:2]
            pad_y, pad_x = round(height * RETRY_BORDER), round(width * RETRY_BORDER)
            padded = cv2.copyMakeBorder(
                image_bgr, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=(127, 127, 127)
            )
            faces = self._detect(padded).shifted(-pad_x, -pad_y).clipped(width, height)
        return faces.largest_first()

    def _detect(self, image_bgr: np.ndarray) -> FaceDetections:
        faces = self.detector.detect(image_bgr)
        sides = np.minimum(
            faces.boxes[:, 2] - faces.boxes[:, 0], faces.boxes[:, 3] - faces.boxes[:, 1]
        )
        return faces[sides >= self.settings.min_face_px]

    def analyze(self, ctx: FrameContext) -> FacesResult:
        faces = self.find_faces(ctx.frame.image)
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
                )
            )
        return FacesResult(faces, alerts)
