"""Faces analyzer: find every face (box, score, 5 landmarks) and measure the frame's quality;
alerts NO_FACE / MULTIPLE_FACES, and POOR_LIGHTING / LOW_QUALITY_FRAME when no face is found
because the frame itself is too dark, washed out or blurred."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np

from proctor.analyzers.base import Analyzer, FrameContext
from proctor.frame import Frame
from proctor.models.boxes import shorter_sides
from proctor.models.detections import FACE_CLASSES, Detections
from proctor.models.faces.backends import DETECTOR_MODELS, build_detector
from proctor.models.registry import ModelRegistry
from proctor.quality import BLANK_SHARPNESS, FrameQuality, enhance, lift_gamma, measure
from proctor.schemas import Alert, box_out
from proctor.settings import FacesSettings, Settings

#: Which copy of the frame the faces were found on (``face_found_by``).
Stage = Literal["frame", "border", "enhanced", "upscaled"]


@dataclass
class FacesResult:
    faces: Detections  # analysis-image pixels, largest first, with 5 landmarks each
    quality: FrameQuality
    found_by: Stage | None = None  # None when no face was found
    alerts: list[Alert] = field(default_factory=list)

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        return {
            "face_detected": len(self.faces) > 0,
            "face_count": len(self.faces),
            "face_found_by": self.found_by,
            "frame_quality": {
                "brightness": round(self.quality.brightness, 1),
                "sharpness": round(self.quality.sharpness, 1),
            },
        }

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
    fields = ("face_detected", "face_count", "face_found_by", "frame_quality")
    face_fields = ("box", "score", "landmarks")

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings.faces
        self.backend = settings.face_detector
        self.detector = build_detector(self.backend, self.settings, registry)

    @classmethod
    def models(cls, settings: Settings) -> list[str]:
        return [DETECTOR_MODELS[settings.face_detector]]

    def find_faces(self, frame: Frame, quality: FrameQuality) -> tuple[Detections, Stage | None]:
        """All faces large enough to matter, largest first, and the copy of the frame they
        were found on. Each copy is tried only when the ones before found nothing, always at
        the detector's own min_score (a lower score on the retries would invent faces)."""
        faces = Detections.empty(FACE_CLASSES, points=5)
        for stage, attempt in self._attempts(frame, quality):
            faces = attempt()
            if len(faces):
                return faces.largest_first(), stage
        return faces, None

    def _attempts(
        self, frame: Frame, quality: FrameQuality
    ) -> Iterator[tuple[Stage, Callable[[], Detections]]]:
        """The copies to look at, in order, each built only when it is reached:

        * ``frame``: the frame as is;
        * ``border``: with a grey border: a face filling the whole frame (a close-up) is
          larger than the detector's largest anchors until the border shrinks it;
        * ``enhanced``: lightness equalised (CLAHE) and lifted by a gamma chosen from the
          measured brightness, then again with the border: a dim or backlit face;
        * ``upscaled``: the centre of the enhanced copy, 1/``retry_upscale`` of its width and
          height, enlarged to the frame's size: a face too small for the detector's anchors.
        """
        image, scale, s = frame.image, frame.scale, self.settings
        yield "frame", lambda: self._detect(image, scale)
        if s.retry_with_border:
            yield "border", lambda: self._detect_bordered(image, scale)
        if not s.retry_enhanced:
            return
        gamma = lift_gamma(quality.brightness, s.enhance_target_brightness)
        enhanced = enhance(image, s.enhance_clahe_clip, gamma)
        yield "enhanced", lambda: self._detect_any(enhanced, scale)
        if s.retry_upscale > 1.0:
            yield "upscaled", lambda: self._detect_centre(enhanced, scale, s.retry_upscale)

    def _detect_any(self, image: np.ndarray, scale: float) -> Detections:
        faces = self._detect(image, scale)
        if len(faces) == 0 and self.settings.retry_with_border:
            faces = self._detect_bordered(image, scale)
        return faces

    def _detect_bordered(self, image: np.ndarray, scale: float) -> Detections:
        height, width = image.shape[:2]
        pad_y = round(height * self.settings.retry_border)
        pad_x = round(width * self.settings.retry_border)
        padded = cv2.copyMakeBorder(
            image, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=(127, 127, 127)
        )
        return self._detect(padded, scale).shifted(-pad_x, -pad_y).clipped(width, height)

    def _detect_centre(self, image: np.ndarray, scale: float, factor: float) -> Detections:
        height, width = image.shape[:2]
        crop_w, crop_h = round(width / factor), round(height / factor)
        x0, y0 = (width - crop_w) // 2, (height - crop_h) // 2
        crop = image[y0 : y0 + crop_h, x0 : x0 + crop_w]
        enlarged = cv2.resize(crop, (width, height), interpolation=cv2.INTER_CUBIC)
        fx, fy = crop_w / width, crop_h / height
        faces = self._detect(enlarged, scale * fx)
        return faces.scaled(fx, fy).shifted(x0, y0).clipped(width, height)

    def _detect(self, image: np.ndarray, scale: float) -> Detections:
        faces = self.detector.detect(image)
        return faces[shorter_sides(faces.boxes) * scale >= self.settings.min_face_px]

    def analyze(self, ctx: FrameContext) -> FacesResult:
        quality = measure(ctx.frame.image)
        faces, found_by = self.find_faces(ctx.frame, quality)
        alerts = []
        if len(faces) == 0:
            alerts.append(frame_alert(quality, self.settings))
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
        return FacesResult(faces, quality, found_by, alerts)


def frame_alert(quality: FrameQuality, settings: FacesSettings) -> Alert:
    """The alert for a frame in which no face was found: the frame's own fault first (too
    dark, washed out, blurred: low severity, a request to the student with the measured value
    and the limit), NO_FACE only when the frame was good enough to find a face in, or shows
    no detail at all (``BLANK_SHARPNESS``: a covered lens is not a focus problem)."""
    if quality.brightness < settings.dark_brightness:
        return Alert(
            code="POOR_LIGHTING",
            severity="low",
            message=f"No face could be found: the frame is too dark (brightness "
            f"{quality.brightness:.0f} of 255, below {settings.dark_brightness:.0f}). "
            "Please add light in front of you.",
        )
    if quality.brightness > settings.bright_brightness:
        return Alert(
            code="POOR_LIGHTING",
            severity="low",
            message=f"No face could be found: the frame is washed out (brightness "
            f"{quality.brightness:.0f} of 255, above {settings.bright_brightness:.0f}). "
            "Please move away from the bright light behind or in front of you.",
        )
    if BLANK_SHARPNESS <= quality.sharpness < settings.min_sharpness:
        return Alert(
            code="LOW_QUALITY_FRAME",
            severity="low",
            message=f"No face could be found: the frame is blurred (sharpness "
            f"{quality.sharpness:.0f}, below {settings.min_sharpness:.0f}). Please hold still "
            "and check the camera's focus.",
        )
    return Alert(code="NO_FACE", severity="high", message="No face is visible in the frame.")
