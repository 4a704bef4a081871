"""Gaze analyzer: where each meshed face's eyes point, or that they are closed;
GAZE_AWAY / EYES_CLOSED on the primary face.

The iris position inside each eye (see ``proctor.geometry.eyes``), less its rest position
when looking into the camera (measured with the reference face), is turned into an eye
rotation and added to the head pose: the gaze direction. Signs follow the head pose: yaw
> 0 toward the student's left, pitch > 0 up. Like the head pose, it is relative to the line
from the camera to the face, so eyes looking into the camera read 0, 0 wherever the face
is in the frame. With the eyes closed there is no gaze; a face posed from the detector's
five landmarks (no mesh, so no eyes) has none either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from proctor.analyzers.base import Analyzer, FrameContext
from proctor.analyzers.face_mesh import FaceMeshResult
from proctor.analyzers.head_pose import FacePose, HeadPoseResult
from proctor.frame import Frame
from proctor.geometry.eyes import eye_openness, eye_rotation_deg, iris_offset
from proctor.geometry.neutral import Neutral
from proctor.models.landmarks.reference import load_reference
from proctor.models.landmarks.result import FaceLandmarks
from proctor.models.registry import ModelRegistry
from proctor.schemas import Alert
from proctor.settings import Settings


@dataclass(frozen=True)
class Gaze:
    iris_x: float  # mean iris offset from rest, half eye widths, > 0 toward the image's right
    iris_y: float  # > 0 up
    yaw_deg: float  # head yaw + eye yaw
    pitch_deg: float  # head pitch + eye pitch

    def out(self) -> dict[str, float]:
        return {
            "iris_x": round(self.iris_x, 3),
            "iris_y": round(self.iris_y, 3),
            "yaw_deg": round(self.yaw_deg, 1),
            "pitch_deg": round(self.pitch_deg, 1),
        }


@dataclass(frozen=True)
class EyesState:
    openness: float  # mean of both eyes' lid gap over width
    closed: bool
    gaze: Gaze | None  # None when the eyes are closed


@dataclass
class GazeResult:
    faces: list[EyesState | None]  # per detected face, largest first
    alerts: list[Alert] = field(default_factory=list)

    @property
    def primary(self) -> EyesState | None:
        return self.faces[0] if self.faces else None

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        primary = self.primary
        return {
            "gaze": None if primary is None or primary.gaze is None else primary.gaze.out(),
            "gaze_alert": any(a.code == "GAZE_AWAY" for a in self.alerts),
            "eyes_closed": None if primary is None else primary.closed,
            "eye_openness_ratio": None if primary is None else round(primary.openness, 3),
        }

    def face_values(self, frame: Frame) -> list[dict[str, Any]]:
        return [
            {
                "gaze": None if s is None or s.gaze is None else s.gaze.out(),
                "eyes_closed": None if s is None else s.closed,
                "eye_openness_ratio": None if s is None else round(s.openness, 3),
            }
            for s in self.faces
        ]


class GazeAnalyzer(Analyzer):
    name = "gaze"
    requires = ("face_mesh", "head_pose")
    fields = ("gaze", "gaze_alert", "eyes_closed", "eye_openness_ratio")
    face_fields = ("gaze", "eyes_closed", "eye_openness_ratio")

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings.gaze
        self.rest_outward, self.rest_up = load_reference().iris_rest

    def analyze(self, ctx: FrameContext) -> GazeResult:
        faces = ctx.result("face_mesh", FaceMeshResult).faces
        poses = ctx.result("head_pose", HeadPoseResult).poses
        states = [
            None if face is None or pose is None else self.measure(face, pose)
            for face, pose in zip(faces, poses, strict=True)
        ]
        primary = states[0] if states else None
        return GazeResult(
            states, [] if primary is None else self.alerts(primary, ctx.claim.neutral)
        )

    def measure(self, face: FaceLandmarks, pose: FacePose) -> EyesState:
        openness = sum(eye_openness(eye) for eye in face.eyes) / 2
        closed = (
            openness < self.settings.closed_openness
            and pose.angles.pitch_deg >= self.settings.closed_min_pitch_deg
        )
        if closed:
            return EyesState(openness, True, None)
        offsets = []
        for eye in face.eyes:
            x, y = iris_offset(eye)
            rest_x = -self.rest_outward if eye.side == "left" else self.rest_outward
            offsets.append((x - rest_x, y - self.rest_up))
        iris_x = sum(o[0] for o in offsets) / 2
        iris_y = sum(o[1] for o in offsets) / 2
        gaze = Gaze(
            iris_x=iris_x,
            iris_y=iris_y,
            yaw_deg=pose.angles.yaw_deg + eye_rotation_deg(iris_x),
            pitch_deg=pose.angles.pitch_deg + eye_rotation_deg(iris_y),
        )
        return EyesState(openness, False, gaze)

    def alerts(self, state: EyesState, neutral: Neutral | None = None) -> list[Alert]:
        """EYES_CLOSED, or GAZE_AWAY judged from the student's neutral gaze when the attempt
        has fixed one (``proctor.geometry.neutral``), else from looking into the camera."""
        limits = self.settings
        if state.closed:
            return [
                Alert(
                    code="EYES_CLOSED",
                    severity="low",
                    message=f"The eyes look closed (lid gap {state.openness:.2f} of the eye's "
                    f"width, limit {limits.closed_openness:.2f}).",
                )
            ]
        gaze = state.gaze
        assert gaze is not None  # open eyes always get a gaze
        yaw, pitch = gaze.yaw_deg, gaze.pitch_deg
        basis = ""
        if neutral is not None and neutral.gaze_yaw_deg is not None:
            assert neutral.gaze_pitch_deg is not None  # measured together
            yaw, pitch = yaw - neutral.gaze_yaw_deg, pitch - neutral.gaze_pitch_deg
            basis = ", from the student's neutral gaze"
        away = []
        if abs(yaw) > limits.max_yaw_deg:
            side = "left" if yaw > 0 else "right"
            away.append(f"{abs(yaw):.0f} deg to the student's {side}")
        if pitch < -limits.max_pitch_down_deg:
            away.append(f"{-pitch:.0f} deg down")
        elif pitch > limits.max_pitch_up_deg:
            away.append(f"{pitch:.0f} deg up")
        if not away:
            return []
        return [
            Alert(
                code="GAZE_AWAY",
                severity="medium",
                message=f"The student is looking away from the screen ({', '.join(away)}{basis}).",
            )
        ]
