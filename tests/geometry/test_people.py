"""The people-count rule: person boxes fused with faces, each person counted once."""

from __future__ import annotations

import numpy as np

from proctor.geometry.people import count_people, own_faces

STUDENT = [100, 50, 400, 480]  # a person box filling most of a webcam frame
STUDENT_FACE = [200, 80, 300, 200]
ARM = [0, 0, 120, 480]  # the student's raised arm, detected as a faceless "person"


def boxes(*rows: list[int]) -> np.ndarray:
    return np.array(rows, np.float32).reshape(-1, 4)


def total(persons: np.ndarray, scores: list[float], faces: np.ndarray) -> int:
    found = count_people(
        persons, np.array(scores, np.float32), faces, min_inside=0.5, faceless_min_score=0.5
    )
    return found.total


def test_one_person_seen_as_body_and_face_counts_once() -> None:
    assert total(boxes(STUDENT), [0.9], boxes(STUDENT_FACE)) == 1


def test_a_person_whose_face_is_hidden_still_counts() -> None:
    assert total(boxes(STUDENT, [420, 60, 620, 480]), [0.9, 0.8], boxes(STUDENT_FACE)) == 2


def test_a_face_without_a_detected_body_counts() -> None:
    assert total(boxes(), [], boxes(STUDENT_FACE)) == 1
    assert total(boxes(STUDENT), [0.9], boxes(STUDENT_FACE, [500, 60, 560, 140])) == 2


def test_a_low_confidence_faceless_person_box_does_not_count() -> None:
    assert total(boxes(STUDENT, ARM), [0.9, 0.3], boxes(STUDENT_FACE)) == 1
    assert total(boxes(STUDENT, ARM), [0.9, 0.6], boxes(STUDENT_FACE)) == 2


def test_two_faces_inside_one_merged_person_box_count_twice() -> None:
    merged = boxes([0, 0, 640, 480])
    assert total(merged, [0.9], boxes([100, 50, 200, 170], [400, 60, 500, 180])) == 2


def test_each_face_goes_to_the_person_box_holding_most_of_it() -> None:
    # Two overlapping people; the front person's box also covers part of the other's face.
    persons = boxes([0, 0, 300, 480], [200, 0, 640, 480])
    faces = boxes([400, 40, 500, 160], [240, 40, 320, 140])  # largest first
    assert own_faces(persons, faces, 0.5).tolist() == [1, 0]
    assert total(persons, [0.9, 0.9], faces) == 2


def test_a_face_mostly_outside_every_person_box_is_its_own_person() -> None:
    persons = boxes([0, 0, 200, 480])
    face = boxes([150, 40, 260, 160])  # less than half of it inside the box
    assert own_faces(persons, face, 0.5).tolist() == [-1]
    assert total(persons, [0.9], face) == 2
