"""Did a burst of frames perform the challenge? Per-frame readings in, the verdict out.

Each frame is read once through the pipeline (``reading``): the number of faces, and for the
one face its yaw, eye openness, mouth opening, mesh and embedding, plus the passive spoof
check when that analyzer is loaded. ``judge`` then looks for each requested action in order,
each one an excursion and a return:

- a turn is the yaw moving ``turn_deg`` from where the step started, to the student's left
  (yaw > 0) or right, and back at least halfway. At its peak the mesh must not move as a
  plane: the best homography from the step's first mesh to the peak's must miss by
  ``min_parallax`` inter-ocular distances (RMS). A head turning shows parallax (the nose moves
  across the cheeks); a photo turned in front of the camera is a plane and does not.
- a blink is the eye openness, divided by the face's height-to-width ratio so that a photo
  tilted back (which flattens eyes and face alike) does not fake it, dropping below
  ``blink_dip`` of its median and recovering halfway, on frames facing as the step started
  (within half a turn: turned eyes foreshorten).
- an open mouth is the inner-lip gap reaching ``mouth_open_ratio`` of the mouth's width and
  closing below half of it.

Turns and mouth openings that were not asked for fail the burst (a recording made for another
challenge shows them); blinks that were not asked for do not (people blink).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from pydantic import BaseModel, Field

from proctor.analyzers.face_mesh import FaceMeshResult
from proctor.analyzers.gaze import GazeResult
from proctor.analyzers.identity import IdentityResult
from proctor.liveness.tokens import Action
from proctor.models.landmarks import topology
from proctor.pipeline import Analysis
from proctor.settings import LivenessSettings

PassiveVerdict = Literal["live", "spoof", "unavailable"]
#: Eye corners (outer) of the mesh, the face's width for the height-to-width ratio.
OUTER_EYE_CORNERS = (topology.EYE_CORNERS[0][0], topology.EYE_CORNERS[1][0])


@dataclass(frozen=True)
class Reading:
    """What one frame says; measurements are None when the face was not meshed."""

    faces: int
    yaw_deg: float | None = None
    eyes: float | None = None  # eye openness over the face's height-to-width ratio
    mouth: float | None = None
    mesh: np.ndarray | None = None  # (468, 2) analysis-image pixels
    embedding: np.ndarray | None = None  # unit vector of the one face
    match_score: float | None = None  # against the claimed student
    spoof: bool | None = None  # the passive check: True spoof, False live, None undecided


def reading(analysis: Analysis) -> Reading:
    """One frame's reading from its analysis (head_pose, gaze, mouth and identity ran)."""
    response, ctx = analysis.response, analysis.context
    if len(response.faces) != 1:
        return Reading(len(response.faces))
    mesh = ctx.result("face_mesh", FaceMeshResult).primary
    eyes = ctx.result("gaze", GazeResult).primary
    spoof = response.spoof.live if response.spoof is not None else None
    common = {
        "faces": 1,
        "embedding": ctx.result("identity", IdentityResult).embeddings[0],
        "match_score": response.match_score,
        "spoof": None if spoof is None else not spoof,
    }
    if mesh is None or eyes is None or response.head_pose is None:
        return Reading(**common)
    points = mesh.points
    width = np.linalg.norm(points[OUTER_EYE_CORNERS[0]] - points[OUTER_EYE_CORNERS[1]])
    height = np.linalg.norm(points[topology.FOREHEAD] - points[topology.CHIN])
    return Reading(
        **common,
        yaw_deg=response.head_pose.yaw_deg,
        eyes=eyes.openness * float(width / max(height, 1e-6)),
        mouth=response.mouth_open_ratio,
        mesh=np.asarray(points, np.float64),
    )


class StepOut(BaseModel):
    action: Action
    passed: bool
    frame: int | None = Field(
        description="The frame (0-based, in capture order) where the action peaked; null when "
        "it was not seen."
    )


class LivenessResult(BaseModel):
    passed: bool = Field(description="Every step seen in order, one same face, not a spoof.")
    reasons: list[str] = Field(description="Why it failed; empty when it passed.")
    steps: list[StepOut]
    same_face: bool | None = Field(
        description="Every frame's face matches the previous frame's (identity threshold); "
        "null when fewer than two frames show one face."
    )
    student_verified: bool | None = Field(
        description="With student_id: the median match to the student reaches the identity "
        "threshold; null without student_id."
    )
    passive_check: PassiveVerdict = Field(
        description="The per-frame spoof check over the burst: spoof when most judged frames "
        "say spoof; unavailable when its analyzer is not loaded (which does not fail the burst)."
    )


@dataclass(frozen=True)
class Thresholds:
    turn_deg: float
    min_parallax: float
    blink_dip: float
    mouth_open_ratio: float
    identity: float  # the embedder's verification threshold

    @classmethod
    def of(cls, settings: LivenessSettings, identity: float) -> Thresholds:
        return cls(
            settings.turn_deg,
            settings.min_parallax,
            settings.blink_dip,
            settings.mouth_open_ratio,
            identity,
        )


def parallax(before: np.ndarray, after: np.ndarray) -> float:
    """RMS distance, in inter-ocular distances, between ``after`` and the best homography of
    ``before``: near 0 when the face moved as a flat picture."""
    homography, _ = cv2.findHomography(before.astype(np.float32), after.astype(np.float32), 0)
    if homography is None:
        return 0.0
    mapped = cv2.perspectiveTransform(before[None].astype(np.float32), homography)[0]
    eyes = np.linalg.norm(after[OUTER_EYE_CORNERS[0]] - after[OUTER_EYE_CORNERS[1]])
    return float(np.sqrt(((mapped - after) ** 2).sum(axis=1).mean()) / max(eyes, 1e-6))


@dataclass(frozen=True)
class Excursion:
    peak: int  # the frame where the action peaked
    back: int  # the first frame after it that returned


def excursion(
    values: Sequence[float | None],
    start: int,
    away: Callable[[float], float],
    reach: float,
) -> Excursion | None:
    """The first time from ``start`` that ``away(value)`` reaches ``reach`` and then falls
    back to half of it; the peak is the largest ``away`` in between."""
    peak, highest = None, reach
    for i in range(start, len(values)):
        value = values[i]
        if value is None:
            continue
        distance = away(value)
        if distance >= highest:
            peak, highest = i, distance
        elif peak is not None and distance <= reach / 2:
            return Excursion(peak, i)
    return None


def _first(values: Sequence[float | None], start: int) -> float | None:
    """The first measured value from frame ``start``."""
    return next((v for v in values[start:] if v is not None), None)


class Judge:
    """Looks for the steps of one challenge in one burst's readings."""

    def __init__(self, readings: Sequence[Reading], thresholds: Thresholds) -> None:
        self.readings = readings
        self.t = thresholds
        self.yaw = [r.yaw_deg for r in readings]
        self.eyes = [r.eyes for r in readings]
        self.mouth = [r.mouth for r in readings]
        self.reasons: list[str] = []

    def facing(self, start: int) -> list[float | None]:
        """Eye openness of the frames within half a turn of the yaw at ``start`` (None
        elsewhere): turned eyes foreshorten, which is not a blink."""
        origin = _first(self.yaw, start)
        return [
            e
            if y is not None and origin is not None and abs(y - origin) < self.t.turn_deg / 2
            else None
            for e, y in zip(self.eyes, self.yaw, strict=True)
        ]

    def turned(self, action: Action, origin: float) -> list[float | None]:
        """Each frame's yaw from ``origin`` toward the side of ``action`` (degrees)."""
        sign = 1.0 if action == "turn_left" else -1.0
        return [None if y is None else sign * (y - origin) for y in self.yaw]

    def find(self, action: Action, start: int) -> Excursion | None:
        """The action's excursion from frame ``start`` (a flat turn is noted and not taken)."""
        t = self.t
        if action == "open_mouth":
            return excursion(self.mouth, start, lambda m: m, t.mouth_open_ratio)
        if action == "blink":
            eyes = self.facing(start)
            measured = [e for e in eyes if e is not None]
            if not measured:
                return None
            median = float(np.median(measured))
            # Falling to blink_dip of the median is an excursion of (1 - blink_dip) * median.
            return excursion(eyes, start, lambda e: median - e, (1 - t.blink_dip) * median)
        seen = [i for i, y in enumerate(self.yaw) if y is not None]
        while (origin_frame := next((i for i in seen if i >= start), None)) is not None:
            origin = self.yaw[origin_frame]
            assert origin is not None
            found = excursion(self.turned(action, origin), start, lambda d: d, t.turn_deg)
            if found is None:
                return None
            before, at_peak = self.readings[origin_frame].mesh, self.readings[found.peak].mesh
            assert before is not None and at_peak is not None  # yaw implies a mesh
            depth = parallax(before, at_peak)
            if depth >= t.min_parallax:
                return found
            self.reasons.append(
                f"{action} at frame {found.peak} moved the face as a flat picture (parallax "
                f"{depth:.3f} < {t.min_parallax:.3f}): a photo or a screen turned in front of "
                "the camera?"
            )
            start = found.back
        return None

    def unrequested(self, steps: Sequence[Action]) -> None:
        """Turns and mouth openings not asked for: a recording made for another challenge."""
        origin = _first(self.yaw, 0)
        for action in ("turn_left", "turn_right", "open_mouth"):
            if action in steps:
                continue
            if action == "open_mouth":
                values, reach = self.mouth, self.t.mouth_open_ratio
            elif origin is None:
                continue
            else:
                values, reach = self.turned(action, origin), self.t.turn_deg
            seen = next((i for i, v in enumerate(values) if v is not None and v >= reach), None)
            if seen is not None:
                self.reasons.append(
                    f"{action} was not asked for but was seen at frame {seen} (a recording "
                    "made for another challenge?)"
                )

    def steps(self, steps: Sequence[Action]) -> list[StepOut]:
        """Each step searched from where the previous one returned (from the same frame when
        the previous one was not seen, so that the others still say whether they were)."""
        out, cursor = [], 0
        for action in steps:
            found = self.find(action, cursor)
            if found is None:
                self.reasons.append(f"{action} was not seen after frame {cursor}")
                out.append(StepOut(action=action, passed=False, frame=None))
                continue
            out.append(StepOut(action=action, passed=True, frame=found.peak))
            cursor = found.back
        return out


def same_face(readings: Sequence[Reading], threshold: float) -> tuple[bool | None, str | None]:
    """Whether each face matches the previous one; the first break, as a reason."""
    faces = [(i, r.embedding) for i, r in enumerate(readings) if r.embedding is not None]
    if len(faces) < 2:
        return None, None
    for (_, a), (i, b) in itertools.pairwise(faces):
        similarity = float(np.dot(a, b))
        if similarity < threshold:
            return False, (
                f"the face changed at frame {i} (similarity {similarity:.2f} to the previous "
                f"face < {threshold:.2f}): a burst spliced from two people?"
            )
    return True, None


def passive(readings: Sequence[Reading]) -> PassiveVerdict:
    """Spoof when most frames the passive check judged say spoof."""
    judged = [r.spoof for r in readings if r.spoof is not None]
    if not judged:
        return "unavailable"
    return "spoof" if 2 * sum(judged) > len(judged) else "live"


def judge(
    readings: Sequence[Reading],
    steps: Sequence[Action],
    thresholds: Thresholds,
    *,
    claimed: bool = False,
) -> LivenessResult:
    """The verdict on a burst for a challenge's ``steps``."""
    reasons = [
        f"frame {i} shows {r.faces} faces (exactly one is needed)"
        for i, r in enumerate(readings)
        if r.faces != 1
    ]
    judge_ = Judge(readings, thresholds)
    found = judge_.steps(steps)
    judge_.unrequested(steps)
    reasons += judge_.reasons
    same, why = same_face(readings, thresholds.identity)
    if why is not None:
        reasons.append(why)
    elif same is None:
        reasons.append("fewer than two frames show one face")
    verified = None
    if claimed:
        scores = [r.match_score for r in readings if r.match_score is not None]
        median = float(np.median(scores)) if scores else -math.inf
        verified = median >= thresholds.identity
        if not verified:
            reasons.append(
                f"the face does not match the claimed student (median similarity "
                f"{median:.2f} < {thresholds.identity:.2f})"
            )
    verdict = passive(readings)
    if verdict == "spoof":
        reasons.append("the passive check says most frames show a photo or a screen")
    return LivenessResult(
        passed=not reasons,
        reasons=reasons,
        steps=found,
        same_face=same,
        student_verified=verified,
        passive_check=verdict,
    )
