"""Objects analyzer: banned objects (BANNED_OBJECT) and the people count (MULTIPLE_PEOPLE).

One COCO detector (``objects.detector``: yolo, centernet, nanodet or their fusion) runs on
the frame and returns every candidate of a watched class (banned or ``person``) scoring at
least ``SCORE_FLOOR``. ``judge`` then decides, and the evaluation calls the same function
with other thresholds: a detection counts when its confidence reaches its class's threshold
(measured defaults per detector, overridable in ``objects.thresholds``).

``people_count`` fuses person boxes with the faces analyzer's faces: the person boxes that
count plus the faces that are no person box's own face (``proctor.geometry.people``). A
person box without a face counts only at the stricter ``objects.faceless_person_threshold``
(the student's raised arm is often a faceless, low-confidence "person"). So a person whose
face is hidden still counts, and one person seen both as a body and as a face counts once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from proctor.analyzers.base import Analyzer, FrameContext
from proctor.analyzers.faces import FacesResult
from proctor.frame import Frame
from proctor.geometry.people import count_people
from proctor.models.detections import Detections
from proctor.models.objects.backends import (
    FALLBACK_THRESHOLD,
    build_detector,
    class_thresholds,
    faceless_person_threshold,
    model_names,
)
from proctor.models.registry import ModelRegistry
from proctor.schemas import Alert, box_out
from proctor.settings import Settings

PERSON = "person"


class UnknownClassError(ValueError):
    """A configured class name is not one the detector knows (refused at startup)."""


@dataclass(frozen=True)
class Rules:
    """What ``judge`` needs besides the detections: the operating point of one detector."""

    banned: tuple[str, ...]
    thresholds: dict[str, float]  # class name -> minimum confidence (banned classes, person)
    faceless_threshold: float
    face_in_person: float


@dataclass
class ObjectsResult:
    candidates: Detections  # every watched-class detection >= SCORE_FLOOR (for evaluation)
    objects: Detections  # banned objects and counted persons, analysis pixels
    banned: list[str]  # banned labels found, most confident first, each once
    people_count: int
    alerts: list[Alert] = field(default_factory=list)

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        objects = [
            {"label": label, "confidence": round(float(score), 4), "box": box_out(box)}
            for label, score, box in zip(
                self.objects.labels,
                self.objects.scores,
                frame.to_original(self.objects.boxes),
                strict=True,
            )
        ]
        return {
            "banned_objects": self.banned,
            "objects": objects,
            "people_count": self.people_count,
        }


def judge(candidates: Detections, face_boxes: np.ndarray, rules: Rules) -> ObjectsResult:
    """Banned objects, people count and alerts from a frame's candidates and faces."""
    limits = np.array(
        [rules.thresholds.get(name, FALLBACK_THRESHOLD) for name in candidates.class_names],
        np.float32,
    )
    found = candidates.above(limits).most_confident_first()
    is_person = np.array([label == PERSON for label in found.labels], bool)
    persons = found[is_person]
    people = count_people(
        persons.boxes,
        persons.scores,
        face_boxes,
        min_inside=rules.face_in_person,
        faceless_min_score=rules.faceless_threshold,
    )
    shown = ~is_person  # banned objects, plus the person boxes that count
    shown[np.flatnonzero(is_person)[people.counted_persons]] = True
    found = found[shown]
    best: dict[str, float] = {}
    for label, score in zip(found.labels, found.scores, strict=True):
        if label in rules.banned and label not in best:
            best[label] = float(score)
    alerts = []
    if best:
        listed = ", ".join(f"{label} ({score:.2f})" for label, score in best.items())
        alerts.append(
            Alert(
                code="BANNED_OBJECT",
                severity="high",
                message=f"Banned object{'s' if len(best) > 1 else ''} in view: {listed}.",
                confidence=round(max(best.values()), 4),
            )
        )
    if people.total > 1:
        # The second most confident counted person box; a count that needs a face is as sure
        # as that face, which MULTIPLE_FACES reports (the attempt layer merges the two).
        counted = np.sort(persons.scores[people.counted_persons])[::-1]
        alerts.append(
            Alert(
                code="MULTIPLE_PEOPLE",
                severity="high",
                message=f"{people.total} people are in the frame "
                f"({people.total - people.faces_only} seen as a person, "
                f"{people.faces_only} by a face alone).",
                confidence=round(float(counted[1]), 4) if len(counted) > 1 else None,
            )
        )
    return ObjectsResult(candidates, found, list(best), people.total, alerts)


class ObjectsAnalyzer(Analyzer):
    name = "objects"
    requires = ("faces",)
    fields = ("banned_objects", "objects", "people_count")

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings.objects
        self.backend = settings.object_detector
        self.detector = build_detector(self.backend, self.settings, registry)
        banned = tuple(dict.fromkeys(self.settings.banned))
        unknown = sorted(
            (set(banned) | set(self.settings.thresholds)) - set(self.detector.class_names)
        )
        if unknown:
            raise UnknownClassError(
                f"objects: {unknown} are not classes of the {self.backend!r} detector; "
                f"known: {list(self.detector.class_names)}"
            )
        self.rules = Rules(
            banned=banned,
            thresholds=class_thresholds(self.backend, self.settings),
            faceless_threshold=faceless_person_threshold(self.backend, self.settings),
            face_in_person=self.settings.face_in_person,
        )
        self.watched = [*banned, PERSON]

    @classmethod
    def models(cls, settings: Settings) -> list[str]:
        return model_names(settings.object_detector, settings.objects)

    def analyze(self, ctx: FrameContext) -> ObjectsResult:
        faces = ctx.result("faces", FacesResult).faces
        candidates = self.detector.detect(ctx.frame.image).of_classes(self.watched)
        return judge(candidates, faces.boxes, self.rules)
