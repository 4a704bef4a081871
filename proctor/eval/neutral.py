"""Judging evaluation frames from a student's neutral pose, as the service judges the frames
of an attempt (``proctor.geometry.neutral``).

An evaluation analyses each image once; what the head-pose and gaze analyzers measured on
its primary face is kept (``Looks``) so the frame can be judged again from any neutral
without running the models again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from proctor.analyzers.gaze import EyesState, GazeAnalyzer, GazeResult
from proctor.analyzers.head_pose import FacePose, HeadPoseAnalyzer, HeadPoseResult
from proctor.geometry.neutral import Bearing, Neutral
from proctor.pipeline import Analysis, Pipeline

#: Alert code -> (severity, vote confidence), as an attempt's frame records it.
Codes = dict[str, tuple[str, float]]


@dataclass(frozen=True)
class Looks:
    """What the pose and gaze analyzers measured on a frame's primary face."""

    pose: FacePose | None
    eyes: EyesState | None
    codes: frozenset[str]  # the codes those two analyzers raised, judged from the camera

    @classmethod
    def of(cls, analysis: Analysis) -> Looks:
        pose = analysis.context.result("head_pose", HeadPoseResult)
        gaze = analysis.context.result("gaze", GazeResult)
        raised = frozenset(a.code for a in pose.alerts + gaze.alerts)
        return cls(pose.primary, gaze.primary, raised)

    def bearing(self) -> Bearing | None:
        """The primary face's head and gaze angles, as the store keeps them per frame."""
        if self.pose is None:
            return None
        gaze = None if self.eyes is None else self.eyes.gaze
        return Bearing(
            self.pose.angles.yaw_deg,
            self.pose.angles.pitch_deg,
            None if gaze is None else gaze.yaw_deg,
            None if gaze is None else gaze.pitch_deg,
        )


def judged(pipeline: Pipeline, codes: Codes, looks: Looks, neutral: Neutral) -> Codes:
    """A frame's codes with its pose and gaze judged from ``neutral`` by the pipeline's own
    head-pose and gaze analyzers; every other code as it was."""
    head = cast(HeadPoseAnalyzer, pipeline.get("head_pose"))
    eyes = cast(GazeAnalyzer, pipeline.get("gaze"))
    alerts = [] if looks.pose is None else head.alerts(looks.pose, neutral)
    alerts += [] if looks.eyes is None else eyes.alerts(looks.eyes, neutral)
    kept = {code: reading for code, reading in codes.items() if code not in looks.codes}
    return kept | {a.code: (a.severity, 1.0) for a in alerts}
