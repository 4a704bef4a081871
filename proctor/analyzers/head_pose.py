"""Head-pose analyzer: yaw, pitch and roll of every meshed face; HEAD_TURNED / LOOKING_DOWN /
LOOKING_UP on the primary face.

The pose is the rotation that best projects the 3-D reference face onto the 468 mesh
points (perspective-n-point; sign conventions in ``proctor.geometry.pose``). The camera's
focal length comes from the configured field of view; the angles barely depend on it.
A primary face that was detected but not meshed (the mesh model did not take it for a
face: in practice a head turned far away) raises HEAD_TURNED without angles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from proctor.analyzers.base import Analyzer, FrameContext
from proctor.analyzers.face_mesh import FaceMeshResult
from proctor.frame import Frame
from proctor.geometry.pose import HeadPose, camera_matrix, solve_pose
from proctor.models.landmarks.reference import load_reference
from proctor.models.registry import ModelRegistry
from proctor.schemas import Alert
from proctor.settings import Settings


@dataclass(frozen=True)
class FacePose:
    angles: HeadPose
    distance_mm: float  # the reference face's centre, along the camera axis

    def out(self) -> dict[str, float]:
        return {
            "yaw_deg": round(self.angles.yaw_deg, 1),
            "pitch_deg": round(self.angles.pitch_deg, 1),
            "roll_deg": round(self.angles.roll_deg, 1),
        }


@dataclass
class HeadPoseResult:
    poses: list[FacePose | None]  # per detected face, largest first
    alerts: list[Alert] = field(default_factory=list)

    @property
    def primary(self) -> FacePose | None:
        return self.poses[0] if self.poses else None

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        primary = self.primary
        return {
            "head_pose": None if primary is None else primary.out(),
            "headpose_alert": bool(self.alerts),
        }

    def face_values(self, frame: Frame) -> list[dict[str, Any]]:
        return [{"head_pose": None if p is None else p.out()} for p in self.poses]


class HeadPoseAnalyzer(Analyzer):
    name = "head_pose"
    requires = ("face_mesh",)
    fields = ("head_pose", "headpose_alert")
    face_fields = ("head_pose",)

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings.head_pose
        self.fov_deg = settings.camera.horizontal_fov_deg
        self.reference = load_reference().points_mm

    def analyze(self, ctx: FrameContext) -> HeadPoseResult:
        height, width = ctx.frame.image.shape[:2]
        camera = camera_matrix(width, height, self.fov_deg)
        poses: list[FacePose | None] = []
        for face in ctx.result("face_mesh", FaceMeshResult).faces:
            if face is None:
                poses.append(None)
                continue
            angles, translation = solve_pose(face.points, self.reference, camera)
            poses.append(FacePose(angles, float(translation[2])))
        if not poses:
            return HeadPoseResult(poses)
        if poses[0] is None:
            return HeadPoseResult(poses, [unmeasurable_alert()])
        return HeadPoseResult(poses, self.alerts(poses[0].angles))

    def alerts(self, pose: HeadPose) -> list[Alert]:
        limits = self.settings
        found = []
        if abs(pose.yaw_deg) > limits.max_yaw_deg:
            side = "left" if pose.yaw_deg > 0 else "right"
            found.append(
                Alert(
                    code="HEAD_TURNED",
                    severity="medium",
                    message=f"The head is turned {abs(pose.yaw_deg):.0f} deg to the student's "
                    f"{side} (limit {limits.max_yaw_deg:.0f}).",
                )
            )
        if pose.pitch_deg < -limits.max_pitch_down_deg:
            found.append(
                Alert(
                    code="LOOKING_DOWN",
                    severity="medium",
                    message=f"The head is tilted {-pose.pitch_deg:.0f} deg down "
                    f"(limit {limits.max_pitch_down_deg:.0f}).",
                )
            )
        elif pose.pitch_deg > limits.max_pitch_up_deg:
            found.append(
                Alert(
                    code="LOOKING_UP",
                    severity="low",
                    message=f"The head is tilted {pose.pitch_deg:.0f} deg up "
                    f"(limit {limits.max_pitch_up_deg:.0f}).",
                )
            )
        return found


def unmeasurable_alert() -> Alert:
    """The primary face was detected but the mesh model did not take it for a face: on the
    dev set that happens to heads turned 60-90 deg away or facing straight up or down."""
    return Alert(
        code="HEAD_TURNED",
        severity="medium",
        message="A face is visible but too far from frontal to measure (turned away, facing "
        "straight up or down, or covered).",
    )
