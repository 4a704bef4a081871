"""How the objects analyzer decides a phone from the two looks and the verifier's scores.

These are the decision rules alone, on hand-made candidate boxes (no model): what the
verifier may relabel, what it may veto, how the two looks merge, and what is shown. The
rules on real frames with real models are in ``test_phone_frames.py``.
"""

from __future__ import annotations

import numpy as np

from proctor.analyzers.objects import (
    FRAME,
    SECOND_LOOK,
    Candidates,
    PhoneRules,
    Rules,
    judge,
)
from proctor.geometry.reach import held, reach_region
from proctor.models.detections import Detections
from proctor.models.objects.labels import COCO80

NO_FACES = np.zeros((0, 4), np.float32)


def rules(verifier: float | None, floor: float = 0.1) -> Rules:
    return Rules(
        banned=("cell phone", "book"),
        thresholds={"cell phone": 0.3, "book": 0.3, "remote": 0.3, "person": 0.3},
        faceless_threshold=0.5,
        face_in_person=0.5,
        phone=PhoneRules(floor, verifier),
        merge_iou=0.5,
        listed=("cell phone", "book"),
    )


def candidates(rows: list[tuple[str, float, list[float], int, float]]) -> Candidates:
    """Rows of (label, detector score, xyxy box, look, verifier score or NaN)."""
    found = Detections(
        np.array([r[2] for r in rows], np.float32).reshape(-1, 4),
        np.array([r[1] for r in rows], np.float32),
        np.array([COCO80.index(r[0]) for r in rows], np.int64),
        COCO80,
    )
    return Candidates(
        found,
        np.array([r[3] for r in rows], np.int64),
        np.array([r[4] for r in rows], np.float32),
        found.class_ids.copy(),
    )


BOX = [100.0, 100.0, 160.0, 200.0]


def test_without_the_verifier_the_detector_threshold_decides() -> None:
    seen = candidates([("cell phone", 0.35, BOX, FRAME, np.nan)])
    assert judge(seen, NO_FACES, rules(None)).banned == ["cell phone"]
    weak = candidates([("cell phone", 0.25, BOX, FRAME, 0.99)])
    assert judge(weak, NO_FACES, rules(None)).banned == []


def test_the_verifier_vetoes_a_confident_detector() -> None:
    seen = candidates([("cell phone", 0.9, BOX, FRAME, 0.2)])
    result = judge(seen, NO_FACES, rules(0.5))
    assert result.banned == [] and result.alerts == []


def test_a_remote_the_verifier_finds_to_be_a_phone_is_reported_as_one() -> None:
    seen = candidates([("remote", 0.15, BOX, SECOND_LOOK, 0.8)])
    result = judge(seen, NO_FACES, rules(0.5))
    assert result.banned == ["cell phone"]
    evidence = result.phone_evidence(0)
    assert evidence["verifier_score"] == 0.8
    assert evidence["evidence"]["detector_label"] == "remote"
    assert evidence["evidence"]["look"] == "second_look"
    assert evidence["evidence"]["held"] is None
    # The alert keeps the detector's confidence; the verifier's score is the evidence's.
    assert result.alerts[0].code == "BANNED_OBJECT" and result.alerts[0].confidence == 0.15


def test_a_proposal_under_the_floor_is_not_reported_whatever_its_score() -> None:
    seen = candidates([("cell phone", 0.08, BOX, FRAME, 0.99)])
    assert judge(seen, NO_FACES, rules(0.5, floor=0.1)).banned == []


def test_a_remote_stays_unreported_when_remotes_are_not_banned() -> None:
    seen = candidates([("remote", 0.9, BOX, FRAME, np.nan)])
    result = judge(seen, NO_FACES, rules(None))
    assert result.banned == [] and len(result.objects) == 0


def test_one_phone_seen_by_both_looks_is_reported_once() -> None:
    shifted = [101.0, 99.0, 161.0, 201.0]
    seen = candidates(
        [
            ("cell phone", 0.4, BOX, FRAME, 0.7),
            ("cell phone", 0.6, shifted, SECOND_LOOK, 0.9),
        ]
    )
    result = judge(seen, NO_FACES, rules(0.5))
    assert result.objects.labels == ["cell phone"]
    assert result.phone_evidence(0)["evidence"]["look"] == "second_look"


def test_other_banned_classes_are_untouched_by_the_verifier() -> None:
    seen = candidates([("book", 0.5, BOX, FRAME, np.nan)])
    assert judge(seen, NO_FACES, rules(0.5)).banned == ["book"]


def test_the_reach_region_spans_the_face_and_below_it() -> None:
    x1, y1, x2, y2 = reach_region(np.array([300, 100, 340, 150], np.float32), 640, 480)
    assert (x1, y1, x2, y2) == (232, 76, 408, 480)
    # Clipped at the frame's edges.
    assert reach_region(np.array([0, 0, 200, 250], np.float32), 640, 480) == (0, 0, 540, 480)
    # A face at the bottom edge leaves no room: empty.
    x1, _, x2, _ = reach_region(np.array([300, 470, 305, 475], np.float32), 640, 480)
    assert x2 <= x1


def test_held_needs_a_hand_touching_the_grown_box() -> None:
    boxes = np.array([[100, 100, 200, 300], [400, 100, 450, 150]], np.float32)
    hands = np.array([[205, 250, 260, 320]], np.float32)  # 5 px right of the first box
    assert held(boxes, hands).tolist() == [True, False]
    assert held(boxes, np.zeros((0, 4), np.float32)).tolist() == [False, False]
