"""Distance analyzer: how far each meshed face is from the camera; TOO_CLOSE / TOO_FAR on the
primary face.

The ruler is the iris (``proctor.geometry.distance``): the mean of both eyes' iris
diameters against the configured field of view. When the irises are too small to measure
or the eyes are closed, the face itself is the ruler instead: the head pose's solution
places the millimetre-sized reference face, whose size was set from the iris on frontal
faces, so both agree on average but the face varies more between people than the iris.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from proctor.analyzers.base import Analyzer, FrameContext
from proctor.analyzers.face_mesh import FaceMeshResult
from proctor.analyzers.head_pose import FacePose, HeadPoseResult
from proctor.frame import Frame
from proctor.geometry.distance import distance_cm
from proctor.geometry.eyes import eye_openness
from proctor.geometry.pose import focal_length_px
from proctor.models.landmarks.result import FaceLandmarks
from proctor.models.registry import ModelRegistry
from proctor.schemas import Alert
from proctor.settings import Settings

DistanceSource = Literal["iris", "face"]


@dataclass(frozen=True)
class Distance:
    cm: float
    source: DistanceSource


@dataclass
class DistanceResult:
    distances: list[Distance | None]  # per detected face, largest first
    alerts: list[Alert] = field(default_factory=list)

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        primary = self.distances[0] if self.distances else None
        return {
            "distance_cm": None if primary is None else round(primary.cm, 1),
            "distance_source": None if primary is None else primary.source,
        }

    def face_values(self, frame: Frame) -> list[dict[str, Any]]:
        return [
            {
                "distance_cm": None if d is None else round(d.cm, 1),
                "distance_source": None if d is None else d.source,
            }
            for d in self.distances
        ]


class DistanceAnalyzer(Analyzer):
    name = "distance"
    requires = ("face_mesh", "head_pose")
    fields = ("distance_cm", "distance_source")
    face_fields = ("distance_cm", "distance_source")

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings.distance
        self.fov_deg = settings.camera.horizontal_fov_deg
        self.closed_openness = settings.gaze.closed_openness

    def analyze(self, ctx: FrameContext) -> DistanceResult:
        fov = ctx.frame.horizontal_fov_deg or self.fov_deg  # the upload's EXIF first
        focal_px = focal_length_px(ctx.frame.image.shape[1], fov)
        faces = ctx.result("face_mesh", FaceMeshResult).faces
        poses = ctx.result("head_pose", HeadPoseResult).poses
        distances = [
            None if face is None or pose is None else self.measure(face, pose, focal_px)
            for face, pose in zip(faces, poses, strict=True)
        ]
        primary = distances[0] if distances else None
        return DistanceResult(distances, [] if primary is None else self.alerts(primary))

    def measure(self, face: FaceLandmarks, pose: FacePose, focal_px: float) -> Distance:
        iris_px = sum(eye.iris_diameter_px for eye in face.eyes) / 2
        openness = sum(eye_openness(eye) for eye in face.eyes) / 2
        if iris_px >= self.settings.min_iris_px and openness >= self.closed_openness:
            return Distance(distance_cm(iris_px, self.settings.iris_diameter_mm, focal_px), "iris")
        return Distance(pose.distance_mm / 10.0, "face")

    def alerts(self, distance: Distance) -> list[Alert]:
        limits = self.settings
        if distance.cm < limits.min_cm:
            return [
                Alert(
                    code="TOO_CLOSE",
                    severity="low",
                    message=f"The face is about {distance.cm:.0f} cm from the camera "
                    f"(closer than {limits.min_cm:.0f} cm).",
                )
            ]
        if distance.cm > limits.max_cm:
            return [
                Alert(
                    code="TOO_FAR",
                    severity="low",
                    message=f"The face is about {distance.cm:.0f} cm from the camera "
                    f"(farther than {limits.max_cm:.0f} cm).",
                )
            ]
        return []
