"""Mouth analyzer: how open each meshed face's mouth is; MOUTH_OPEN on the primary face.

The ratio is corrected for the head's turn (``proctor.geometry.mouth.pose_corrected``):
a turned head's closed mouth otherwise reads several times more open than a frontal one.

One frame can only say open or closed: talking shows as the mouth opening and closing
across frames, which is for the caller (or a later, stateful analyzer) to count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from proctor.analyzers.base import Analyzer, FrameContext
from proctor.analyzers.face_mesh import FaceMeshResult
from proctor.analyzers.head_pose import HeadPoseResult
from proctor.frame import Frame
from proctor.geometry.mouth import mouth_open_ratio, pose_corrected
from proctor.models.registry import ModelRegistry
from proctor.schemas import Alert
from proctor.settings import Settings


@dataclass
class MouthResult:
    ratios: list[float | None]  # per detected face, largest first
    threshold: float
    alerts: list[Alert] = field(default_factory=list)

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        ratio = self.ratios[0] if self.ratios else None
        return {
            "mouth_open_ratio": None if ratio is None else round(ratio, 3),
            "mouth_open": ratio is not None and ratio >= self.threshold,
        }

    def face_values(self, frame: Frame) -> list[dict[str, Any]]:
        return [
            {
                "mouth_open_ratio": None if r is None else round(r, 3),
                "mouth_open": None if r is None else r >= self.threshold,
            }
            for r in self.ratios
        ]


class MouthAnalyzer(Analyzer):
    name = "mouth"
    requires = ("face_mesh", "head_pose")
    fields = ("mouth_open_ratio", "mouth_open")
    face_fields = ("mouth_open_ratio", "mouth_open")

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.threshold = settings.mouth.open_ratio

    def analyze(self, ctx: FrameContext) -> MouthResult:
        faces = ctx.result("face_mesh", FaceMeshResult).faces
        poses = ctx.result("head_pose", HeadPoseResult).poses
        ratios = [
            None if f is None or p is None else pose_corrected(mouth_open_ratio(f.mesh), p.angles)
            for f, p in zip(faces, poses, strict=True)
        ]
        alerts = []
        if ratios and ratios[0] is not None and ratios[0] >= self.threshold:
            alerts.append(
                Alert(
                    code="MOUTH_OPEN",
                    severity="low",
                    message=f"The mouth is open (lip gap {ratios[0]:.2f} of its width, "
                    f"limit {self.threshold:.2f}); several such frames in a row suggest talking.",
                )
            )
        return MouthResult(ratios, self.threshold, alerts)
