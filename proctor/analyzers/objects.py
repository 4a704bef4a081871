"""Objects analyzer: banned objects (BANNED_OBJECT) and the people count (MULTIPLE_PEOPLE).

One COCO detector (``objects.detector``: yolo, centernet, nanodet or their fusion) runs on
the frame and returns every candidate of a watched class (banned or ``person``) scoring at
least ``SCORE_FLOOR``. ``judge`` then decides, and the evaluation calls the same function
with other thresholds: a detection counts when its confidence reaches its class's threshold
(measured defaults per detector, overridable in ``objects.thresholds``).

A held-up phone gets three more steps (``python -m proctor.eval objects``, "held-up phone",
measured them side by side):

* **Second look** (``objects.second_look``, off by default: with the verifier it did not
  raise tune recall beyond the intervals, for a second detector pass): the detector runs
  again on the region around and below the student's face (``proctor.geometry.reach``),
  where the phone is larger; its phone proposals join the frame's.
* **Verifier** (``objects.phone_verifier``): every proposal of a class that may be a phone
  (``PHONE_PROPOSERS``: the detector calls a phone held from the back a remote as often as a
  phone) scoring at least the phone floor is cropped and scored by the phone verifier
  (``proctor.models.objects.verifier``); it is a cell phone when that score reaches the
  verifier threshold, whatever the detector called it. Without the verifier's model the
  detector's own cell phone threshold decides, and ``/health`` says so.
* **Held** (``objects.hands``): a palm detector says whether a hand touches each phone
  reported, as evidence for the reviewer; it decides nothing.

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
from proctor.geometry.reach import held, reach_region
from proctor.models.boxes import nms
from proctor.models.detections import Detections
from proctor.models.objects.backends import (
    FALLBACK_THRESHOLD,
    build_detector,
    class_thresholds,
    faceless_person_threshold,
    model_names,
    phone_rules,
)
from proctor.models.objects.hands import HandDetector
from proctor.models.objects.verifier import PhoneVerifier
from proctor.models.registry import ModelRegistry, ModelUnavailableError
from proctor.schemas import Alert, box_out
from proctor.settings import Settings

PERSON = "person"
PHONE = "cell phone"
#: Detector classes whose boxes the verifier may find to be a phone.
PHONE_PROPOSERS = (PHONE, "remote")
#: Where a candidate was found: the whole frame or the second look (``looks`` values).
LOOKS = ("frame", "second_look")
FRAME, SECOND_LOOK = 0, 1
#: At most this many phone proposals per frame go to the verifier (most confident first).
MAX_VERIFIED = 8
HAND_MODEL = "hand_detection_handdetect"
VERIFIER_MODEL = "object_verifier_phone"


class UnknownClassError(ValueError):
    """A configured class name is not one the detector knows (refused at startup)."""


@dataclass(frozen=True)
class PhoneRules:
    """How a phone is decided: by the verifier (``verifier_threshold`` set) over proposals
    scoring at least ``floor``, or (None) by the detector's cell phone threshold alone."""

    floor: float
    verifier_threshold: float | None


@dataclass(frozen=True)
class Rules:
    """What ``judge`` needs besides the detections: the operating point of one detector."""

    banned: tuple[str, ...]
    thresholds: dict[str, float]  # class name -> minimum confidence (banned classes, person)
    faceless_threshold: float
    face_in_person: float
    phone: PhoneRules
    merge_iou: float  # boxes of one class from the two looks merge above this IoU
    listed: tuple[str, ...]  # classes ``objects`` lists besides persons (banned; eval: more)


@dataclass(frozen=True)
class Candidates:
    """Every watched-class detection of a frame, where it was found, and its phone score."""

    found: Detections  # analysis pixels, scoring >= SCORE_FLOOR
    looks: np.ndarray  # (N,) FRAME or SECOND_LOOK
    phone_scores: np.ndarray  # (N,) verifier score; NaN where the verifier did not look
    proposed_as: np.ndarray  # (N,) the detector's own class id (``found`` may relabel)

    def __getitem__(self, index: np.ndarray) -> Candidates:
        return Candidates(
            self.found[index],
            self.looks[index],
            self.phone_scores[index],
            self.proposed_as[index],
        )

    @classmethod
    def joined(cls, parts: list[tuple[Detections, int]]) -> Candidates:
        found = parts[0][0]
        boxes = np.concatenate([d.boxes for d, _ in parts]).reshape(-1, 4)
        scores = np.concatenate([d.scores for d, _ in parts])
        class_ids = np.concatenate([d.class_ids for d, _ in parts])
        looks = np.concatenate([np.full(len(d), look, np.int64) for d, look in parts])
        joined = Detections(boxes, scores, class_ids, found.class_names)
        return cls(joined, looks, np.full(len(joined), np.nan, np.float32), class_ids)

    def proposals(self, floor: float) -> np.ndarray:
        """Indices of the phone proposals scoring at least ``floor``, most confident first."""
        wanted = np.isin(self.found.labels, PHONE_PROPOSERS) & (self.found.scores >= floor)
        order = np.argsort(-self.found.scores, kind="stable")
        return order[wanted[order]][:MAX_VERIFIED]


@dataclass
class ObjectsResult:
    candidates: Candidates  # every watched-class detection >= SCORE_FLOOR (for evaluation)
    chosen: Candidates  # banned objects and counted persons, analysis pixels
    banned: list[str]  # banned labels found, most confident first, each once
    people_count: int
    alerts: list[Alert] = field(default_factory=list)
    held: np.ndarray | None = None  # per chosen object, a hand touches it (None: not checked)

    @property
    def objects(self) -> Detections:
        return self.chosen.found

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        objects = []
        for index, (label, score, box) in enumerate(
            zip(
                self.objects.labels,
                self.objects.scores,
                frame.to_original(self.objects.boxes),
                strict=True,
            )
        ):
            entry: dict[str, Any] = {
                "label": label,
                "confidence": round(float(score), 4),
                "box": box_out(box),
            }
            if label == PHONE:
                entry.update(self.phone_evidence(index))
            objects.append(entry)
        return {
            "banned_objects": self.banned,
            "objects": objects,
            "people_count": self.people_count,
        }

    def phone_evidence(self, index: int) -> dict[str, Any]:
        """Why object ``index`` (a phone) was reported: its scores, its look, its hand."""
        verified = self.chosen.phone_scores[index]
        verifier_score = None if np.isnan(verified) else round(float(verified), 4)
        return {
            "verifier_score": verifier_score,
            "evidence": {
                "detector_label": self.candidates.found.class_names[self.chosen.proposed_as[index]],
                "detector_score": round(float(self.objects.scores[index]), 4),
                "verifier_score": verifier_score,
                "held": None if self.held is None else bool(self.held[index]),
                "look": LOOKS[int(self.chosen.looks[index])],
            },
        }


def phone_decisions(candidates: Candidates, rules: Rules) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate: does it count, and its class id after the verifier (a remote the
    verifier finds to be a phone is reported as a cell phone)."""
    found = candidates.found
    limits = np.array(
        [rules.thresholds.get(name, FALLBACK_THRESHOLD) for name in found.class_names],
        np.float32,
    )
    counts = found.scores >= limits[found.class_ids]
    class_ids = found.class_ids.copy()
    verifier = rules.phone.verifier_threshold
    if verifier is None or PHONE not in found.class_names:
        return counts, class_ids
    proposes = np.isin(found.labels, PHONE_PROPOSERS)
    verified = (
        proposes
        & (found.scores >= rules.phone.floor)
        & (np.nan_to_num(candidates.phone_scores, nan=-1.0) >= verifier)
    )
    counts = np.where(proposes, verified, counts)
    class_ids[verified] = found.class_names.index(PHONE)
    return counts, class_ids


def judge(candidates: Candidates, face_boxes: np.ndarray, rules: Rules) -> ObjectsResult:
    """Banned objects, people count and alerts from a frame's candidates and faces."""
    counts, class_ids = phone_decisions(candidates, rules)
    relabelled = Candidates(
        Detections(
            candidates.found.boxes,
            candidates.found.scores,
            class_ids,
            candidates.found.class_names,
        ),
        candidates.looks,
        candidates.phone_scores,
        candidates.proposed_as,
    )[counts]
    # One object can come twice: from both looks, or as the detector's phone box and its
    # remote box that the verifier relabelled. Merge per class, most confident first.
    keep = nms(
        relabelled.found.boxes, relabelled.found.scores, rules.merge_iou, relabelled.found.class_ids
    )
    chosen = relabelled[keep]
    found = chosen.found
    is_person = np.array([label == PERSON for label in found.labels], bool)
    persons = found[is_person]
    people = count_people(
        persons.boxes,
        persons.scores,
        face_boxes,
        min_inside=rules.face_in_person,
        faceless_min_score=rules.faceless_threshold,
    )
    # Listed objects (not a remote watched only for the verifier), and the person boxes
    # that count.
    shown = np.isin(found.labels, rules.listed) & ~is_person
    shown[np.flatnonzero(is_person)[people.counted_persons]] = True
    chosen = chosen[shown]
    # The alert keeps the detector's confidence (the attempt rules' votes were measured on
    # it); a phone's verifier score is in its evidence.
    best: dict[str, float] = {}
    for label, score in zip(chosen.found.labels, chosen.found.scores, strict=True):
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
    return ObjectsResult(candidates, chosen, list(best), people.total, alerts)


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
        self.missing: list[str] = []
        self.verifier = self._optional(
            self.settings.phone_verifier, VERIFIER_MODEL, registry, PhoneVerifier
        )
        self.hands = self._optional(self.settings.hands, HAND_MODEL, registry, HandDetector)
        floor, threshold = phone_rules(self.settings)
        self.rules = Rules(
            banned=banned,
            thresholds=class_thresholds(self.backend, self.settings),
            faceless_threshold=faceless_person_threshold(self.backend, self.settings),
            face_in_person=self.settings.face_in_person,
            phone=PhoneRules(floor, threshold if self.verifier is not None else None),
            merge_iou=self.settings.nms_iou,
            listed=banned,
        )
        self.watched = [*banned, PERSON, *PHONE_PROPOSERS]

    def _optional(self, wanted: bool, name: str, registry: ModelRegistry, kind: Any) -> Any:
        """The model wrapper when it is wanted and its model loads; else None, said once."""
        if not wanted:
            return None
        try:
            return kind(registry.model(name))
        except ModelUnavailableError as exc:
            self.missing.append(f"{name}: {exc}")
            return None

    def missing_parts(self) -> list[str]:
        return list(self.missing)

    @classmethod
    def models(cls, settings: Settings) -> list[str]:
        optional = [
            (settings.objects.phone_verifier, VERIFIER_MODEL),
            (settings.objects.hands, HAND_MODEL),
        ]
        names = model_names(settings.object_detector, settings.objects)
        return names + [name for wanted, name in optional if wanted]

    def first_look(self, image: np.ndarray) -> Detections:
        return self.detector.detect(image).of_classes(self.watched)

    def second_look(self, image: np.ndarray, faces: Detections) -> Detections | None:
        """Phone proposals in the region around and below the largest face (None: no face
        or no room for a second look)."""
        if not len(faces):
            return None
        height, width = image.shape[:2]
        x1, y1, x2, y2 = reach_region(faces.largest_first().boxes[0], width, height)
        if x2 <= x1:
            return None
        region = self.detector.detect(image[y1:y2, x1:x2]).of_classes(PHONE_PROPOSERS)
        return region.shifted(x1, y1)

    def verify(self, image: np.ndarray, candidates: Candidates, floor: float) -> None:
        """Fill in the verifier's score of the proposals scoring at least ``floor``."""
        if self.verifier is None:
            return
        ask = candidates.proposals(floor)
        candidates.phone_scores[ask] = self.verifier.score(image, candidates.found.boxes[ask])

    def look(self, ctx: FrameContext) -> Candidates:
        """The frame's candidates, the second look's phone proposals, the verifier's scores."""
        image = ctx.frame.image
        parts = [(self.first_look(image), FRAME)]
        if self.settings.second_look:
            second = self.second_look(image, ctx.result("faces", FacesResult).faces)
            if second is not None:
                parts.append((second, SECOND_LOOK))
        candidates = Candidates.joined(parts)
        self.verify(image, candidates, self.rules.phone.floor)
        return candidates

    def analyze(self, ctx: FrameContext) -> ObjectsResult:
        faces = ctx.result("faces", FacesResult).faces
        result = judge(self.look(ctx), faces.boxes, self.rules)
        phones = np.array([label == PHONE for label in result.objects.labels], bool)
        if self.hands is not None and phones.any():
            hands = self.hands.detect(ctx.frame.image).boxes
            result.held = held(result.objects.boxes, hands) & phones
        return result
