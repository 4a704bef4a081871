"""Head-pose analyzer: yaw, pitch and roll of every face; HEAD_TURNED / LOOKING_DOWN /
LOOKING_UP / FACE_OCCLUDED on the primary face.

The pose is the rotation that best projects the 3-D reference face (MediaPipe's canonical
face model, ``proctor.models.landmarks.reference``) onto the 468 mesh points
(perspective-n-point; sign conventions in ``proctor.geometry.pose``), expressed
relative to the line from the camera to the face rather than to the camera's optical axis:
a student sitting off-centre, or below a laptop camera, who looks into the camera reads
yaw 0 and pitch 0. The camera's focal length comes from the frame's EXIF when it has it,
else from the configured field of view.

A face the detector found but the mesh model did not take for a face (a hand or an object
over it, or a head turned far away) gets its pose from the detector's five landmarks
instead: turned beyond the yaw limit, HEAD_TURNED; otherwise FACE_OCCLUDED (the face is
there and not turned away, but it cannot be read). Five points give a usable yaw and no
usable pitch (``python -m proctor.eval pose``), so only yaw decides. The mesh's own yaw
saturates near +-50-60 deg: beyond ``head_pose.landmarks_yaw_above_deg`` the five-point yaw
takes over when it reads further (``combined_yaw``), which the evaluation measured closer to
the labels there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np

from proctor.analyzers.base import Analyzer, FrameContext
from proctor.analyzers.face_mesh import FaceMeshResult
from proctor.analyzers.faces import FacesResult
from proctor.frame import Frame
from proctor.geometry.neutral import Neutral
from proctor.geometry.pose import HeadPose, camera_matrix, relative_to_ray, solve_pose
from proctor.models.landmarks.reference import five_point_reference, load_reference
from proctor.models.registry import ModelRegistry
from proctor.schemas import Alert
from proctor.settings import Settings

PoseSource = Literal["mesh", "landmarks"]


@dataclass(frozen=True)
class FacePose:
    angles: HeadPose  # relative to the line from the camera to the face
    position_mm: np.ndarray  # the reference face's centre in the camera frame
    source: PoseSource  # the face mesh, or the detector's five landmarks
    fov_deg: float  # the horizontal field of view the pose was solved with

    @property
    def distance_mm(self) -> float:
        """The face's centre along the camera axis."""
        return float(self.position_mm[2])

    def out(self) -> dict[str, Any]:
        return {
            "yaw_deg": round(self.angles.yaw_deg, 1),
            "pitch_deg": round(self.angles.pitch_deg, 1),
            "roll_deg": round(self.angles.roll_deg, 1),
            "source": self.source,
            "camera_fov_deg": round(self.fov_deg, 1),
        }


@dataclass
class HeadPoseResult:
    poses: list[FacePose | None]  # per detected face, largest first
    alerts: list[Alert] = field(default_factory=list)
    neutral: Neutral | None = None  # the attempt's neutral pose the alerts were judged from

    @property
    def primary(self) -> FacePose | None:
        return self.poses[0] if self.poses else None

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        primary = self.primary
        return {
            "head_pose": None if primary is None else primary.out(),
            "headpose_alert": any(a.code in HEAD_POSE_CODES for a in self.alerts),
            "pose_neutral": None if self.neutral is None else asdict(self.neutral),
        }

    def face_values(self, frame: Frame) -> list[dict[str, Any]]:
        return [{"head_pose": None if p is None else p.out()} for p in self.poses]


#: The alerts ``headpose_alert`` stands for (FACE_OCCLUDED says nothing about the pose).
HEAD_POSE_CODES = frozenset({"HEAD_TURNED", "LOOKING_DOWN", "LOOKING_UP"})


class HeadPoseAnalyzer(Analyzer):
    name = "head_pose"
    requires = ("faces", "face_mesh")
    fields = ("head_pose", "headpose_alert", "pose_neutral")
    face_fields = ("head_pose",)

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings.head_pose
        self.default_fov_deg = settings.camera.horizontal_fov_deg
        self.reference = load_reference().points_mm
        self.five_points = five_point_reference(self.reference)

    def analyze(self, ctx: FrameContext) -> HeadPoseResult:
        height, width = ctx.frame.image.shape[:2]
        fov = ctx.frame.horizontal_fov_deg or self.default_fov_deg
        camera = camera_matrix(width, height, fov)
        detected = ctx.result("faces", FacesResult).faces.landmarks
        meshes = ctx.result("face_mesh", FaceMeshResult).faces
        poses: list[FacePose | None] = []
        for index, face in enumerate(meshes):
            landmarks = None if detected is None else detected[index]
            if face is not None:
                rotation, position = solve_pose(face.points, self.reference, camera)
                angles = relative_to_ray(rotation, position)
                above = self.settings.landmarks_yaw_above_deg
                if landmarks is not None and abs(angles.yaw_deg) > above:
                    yaw = self.landmark_pose(landmarks, camera).yaw_deg
                    angles = replace(angles, yaw_deg=combined_yaw(angles.yaw_deg, yaw, above))
                poses.append(FacePose(angles, position, "mesh", fov))
            elif landmarks is not None:
                rotation, position = solve_pose(landmarks, self.five_points, camera)
                angles = relative_to_ray(rotation, position)
                poses.append(FacePose(angles, position, "landmarks", fov))
            else:
                poses.append(None)
        primary = poses[0] if poses else None
        neutral = ctx.claim.neutral
        if primary is None:
            return HeadPoseResult(poses, neutral=neutral)
        return HeadPoseResult(poses, self.alerts(primary, neutral), neutral)

    def landmark_pose(self, landmarks: np.ndarray, camera: np.ndarray) -> HeadPose:
        """The pose from a face detector's five landmarks (5, 2), relative to the ray."""
        return relative_to_ray(*solve_pose(landmarks, self.five_points, camera))

    def alerts(self, pose: FacePose, neutral: Neutral | None = None) -> list[Alert]:
        """The pose's alerts, judged from the student's ``neutral`` pose when the attempt has
        fixed one (``proctor.geometry.neutral``), else from facing the camera."""
        limits = self.settings
        yaw, pitch = pose.angles.yaw_deg, pose.angles.pitch_deg
        basis = ""
        if neutral is not None:
            yaw, pitch = yaw - neutral.head_yaw_deg, pitch - neutral.head_pitch_deg
            basis = " from the student's neutral pose"
        found = []
        if abs(yaw) > limits.max_yaw_deg:
            side = "left" if yaw > 0 else "right"
            found.append(
                Alert(
                    code="HEAD_TURNED",
                    severity="medium",
                    message=f"The head is turned {abs(yaw):.0f} deg to the student's "
                    f"{side}{basis} (limit {limits.max_yaw_deg:.0f}).",
                )
            )
        if pose.source == "landmarks":
            return found or [occluded_alert()]
        if pitch < -limits.max_pitch_down_deg:
            found.append(
                Alert(
                    code="LOOKING_DOWN",
                    severity="medium",
                    message=f"The head is tilted {-pitch:.0f} deg down{basis} "
                    f"(limit {limits.max_pitch_down_deg:.0f}).",
                )
            )
        elif pitch > limits.max_pitch_up_deg:
            found.append(
                Alert(
                    code="LOOKING_UP",
                    severity="low",
                    message=f"The head is tilted {pitch:.0f} deg up{basis} "
                    f"(limit {limits.max_pitch_up_deg:.0f}).",
                )
            )
        return found


def combined_yaw(mesh_yaw: float, landmark_yaw: float, above_deg: float) -> float:
    """The mesh's yaw, or the five landmarks' where the mesh reads beyond ``above_deg`` and
    the landmarks read further the same way: the mesh saturates near +-50 deg, five points
    do not (``python -m proctor.eval pose`` measures both beyond 45 deg)."""
    if abs(mesh_yaw) > above_deg and mesh_yaw * landmark_yaw > 0:
        return landmark_yaw if abs(landmark_yaw) > abs(mesh_yaw) else mesh_yaw
    return mesh_yaw


def occluded_alert() -> Alert:
    """The primary face was detected, is not turned away, and the mesh model could not read
    it: something covers it (a hand, a mask, an object) or the head faces straight up or
    down. Low severity: it says the frame cannot be checked, not that anything is wrong."""
    return Alert(
        code="FACE_OCCLUDED",
        severity="low",
        message="A face is visible but covered or unreadable (a hand or an object in front "
        "of it, or the head facing straight up or down); its pose and gaze cannot be checked.",
    )
