"""How many people a frame shows: person boxes fused with detected faces.

Rule: people = person boxes that count + faces that are no person box's own face.

* A face is a person box's own face when at least ``min_inside`` of the face box lies inside
  it. Each person box owns at most one face: faces largest first, each claims the unclaimed
  person box holding the largest share of it (ties to the smaller box).
* A person box with a face counts at the person threshold; one without a face counts only
  at the stricter ``faceless_min_score``, because the student's own raised arm or a partial
  body comes out as a second, low-confidence, faceless person box.

So a person whose face is hidden (turned away, cut off) still counts through a confident
person box; someone seen only by their face (a close-up whose body the detector misses)
counts through the face; one person seen both ways counts once; and two faces inside one
merged person box count as two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from proctor.models.boxes import areas, coverage


@dataclass(frozen=True)
class PeopleCount:
    counted_persons: np.ndarray  # bool per person box: does it count
    faces_only: int  # faces no person box owns

    @property
    def total(self) -> int:
        return int(self.counted_persons.sum()) + self.faces_only


def own_faces(person_boxes: np.ndarray, face_boxes: np.ndarray, min_inside: float) -> np.ndarray:
    """For each face (in the order given), the index of the person box owning it, or -1."""
    owner = np.full(len(face_boxes), -1, np.int64)
    if len(person_boxes) == 0 or len(face_boxes) == 0:
        return owner
    inside = coverage(face_boxes, person_boxes)
    person_areas = areas(person_boxes)
    claimed = np.zeros(len(person_boxes), bool)
    for face in range(len(face_boxes)):
        candidates = np.flatnonzero((inside[face] >= min_inside) & ~claimed)
        if len(candidates) == 0:
            continue
        # Largest share first, then the smallest person box (the tightest fit).
        best = candidates[np.lexsort((person_areas[candidates], -inside[face, candidates]))[0]]
        owner[face] = best
        claimed[best] = True
    return owner


def count_people(
    person_boxes: np.ndarray,
    person_scores: np.ndarray,
    face_boxes: np.ndarray,
    *,
    min_inside: float,
    faceless_min_score: float,
) -> PeopleCount:
    """Person boxes (already above the person threshold) fused with faces; see the docstring."""
    owner = own_faces(person_boxes, face_boxes, min_inside)
    has_face = np.zeros(len(person_boxes), bool)
    has_face[owner[owner >= 0]] = True
    counted = has_face | (person_scores >= faceless_min_score)
    return PeopleCount(counted, int((owner < 0).sum()))
