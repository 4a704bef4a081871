"""Objects analyzer: banned objects (BANNED_OBJECT) and the people count (MULTIPLE_PEOPLE).

One COCO detector (``objects.detector``: yolo, centernet, nanodet or their fusion) runs on
the frame. A detection counts when its class is banned (``objects.banned``) or ``person`` and
its confidence reaches that class's threshold (measured defaults per detector, overridable
in ``objects.thresholds``).

``people_count`` fuses person boxes with the faces analyzer's faces: the person boxes that
count plus the faces that are no person box's own face. A face is a person's own when at
least ``objects.face_in_person`` of it lies inside that person box (each person box owns at
most one face); a person box without a face counts only at the stricter
``objects.faceless_person_threshold`` (the student's raised arm is often a faceless,
low-confidence "person"). So a person whose face is hidden still counts, and one person
seen both as a body and as a face counts once (details in ``proctor.objects.people``). This
analyzer runs after ``faces``, so its ``people_count`` replaces the face-only count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from proctor.analyzers.base import Analyzer, AnalyzerDeps, FrameContext
from proctor.analyzers.faces import FacesResult
from proctor.frame import Frame
from proctor.objects.backends import (
    FALLBACK_THRESHOLD,
    build_detector,
    class_thresholds,
    faceless_person_threshold,
    model_names,
)
from proctor.objects.detections import ObjectDetections
from proctor.objects.people import count_people
from proctor.schemas import Alert

PERSON = "person"


class UnknownClassError(ValueError):
    """A configured class name is not one the detector knows (refused at startup)."""


@dataclass
class ObjectsResult:
    objects: ObjectDetections  # banned objects and counted persons, analysis pixels
    banned: list[str]  # banned labels found, most confident first, each once
    people_count: int
    alerts: list[Alert] = field(default_factory=list)

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        objects = [
            {
                "label": label,
                "confidence": round(float(score), 4),
                "box": dict(
                    zip(
                        ("x_min", "y_min", "x_max", "y_max"),
                        (round(float(v), 1) for v in box),
                        strict=True,
                    )
                ),
            }
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


class ObjectsAnalyzer(Analyzer):
    name = "objects"
    requires = ("faces",)

    def __init__(self, deps: AnalyzerDeps) -> None:
        self.settings = deps.settings.objects
        self.backend = deps.settings.object_detector
        self.detector = build_detector(self.backend, self.settings, deps.registry)
        names = self.detector.class_names
        self.banned = list(dict.fromkeys(self.settings.banned))
        unknown = sorted((set(self.banned) | set(self.settings.thresholds)) - set(names))
        if unknown:
            raise UnknownClassError(
                f"objects: {unknown} are not classes of the {self.backend!r} detector; "
                f"known: {list(names)}"
            )
        thresholds = class_thresholds(self.backend, self.settings)
        self.thresholds = np.array(
            [thresholds.get(name, FALLBACK_THRESHOLD) for name in names], np.float32
        )
        self.faceless_threshold = faceless_person_threshold(self.backend, self.settings)
        self.watched = [*self.banned, PERSON]

    def model_names(self) -> list[str]:
        return model_names(self.backend, self.settings)

    def find_objects(self, image_bgr: np.ndarray) -> ObjectDetections:
        """Banned objects and persons at or above their class thresholds, most confident first."""
        found = self.detector.detect(image_bgr).of_classes(self.watched)
        return found.above(self.thresholds).most_confident_first()

    def analyze(self, ctx: FrameContext) -> ObjectsResult:
        faces = ctx.result("faces", FacesResult).faces
        found = self.find_objects(ctx.frame.image)
        is_person = np.array([label == PERSON for label in found.labels], bool)
        persons = found[is_person]
        people = count_people(
            persons.boxes,
            persons.scores,
            faces.boxes,
            min_inside=self.settings.face_in_person,
            faceless_min_score=self.faceless_threshold,
        )
        shown = ~is_person  # banned objects, plus the person boxes that count
        shown[np.flatnonzero(is_person)[people.counted_persons]] = True
        found = found[shown]
        best: dict[str, float] = {}
        for label, score in zip(found.labels, found.scores, strict=True):
            if label in self.banned and label not in best:
                best[label] = float(score)
        alerts = []
        if best:
            listed = ", ".join(f"{label} ({score:.2f})" for label, score in best.items())
            alerts.append(
                Alert(
                    code="BANNED_OBJECT",
                    severity="high",
                    message=f"Banned object{'s' if len(best) > 1 else ''} in view: {listed}.",
                )
            )
        if people.total > 1:
            alerts.append(
                Alert(
                    code="MULTIPLE_PEOPLE",
                    severity="high",
                    message=f"{people.total} people are in the frame "
                    f"({people.total - people.faces_only} seen as a person, "
                    f"{people.faces_only} by a face alone).",
                )
            )
        return ObjectsResult(found, list(best), people.total, alerts)
