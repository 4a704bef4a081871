"""Identity analyzer: embed each face and match it against enrolled students.

With a claimed ``student_id`` the primary (largest) face is verified 1:1 against that
student; without one it is identified 1:N against everyone, with the same threshold.
A face's score against a student is its best cosine similarity over that student's
enrolled embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from proctor.analyzers.base import Analyzer, AnalyzerDeps, FrameContext
from proctor.analyzers.faces import FacesResult
from proctor.errors import ProctorError
from proctor.faces.backends import EMBEDDER_MODELS, build_embedder, default_threshold
from proctor.frame import Frame
from proctor.schemas import Alert
from proctor.store.students import Gallery


class NotEnrolledForModelError(ProctorError):
    status_code = 409
    code = "student_not_enrolled_for_model"


@dataclass(frozen=True)
class Match:
    student_id: str | None
    name: str | None
    score: float | None


@dataclass
class IdentityResult:
    matches: list[Match]  # 1:N result per embedded face, largest first
    verified: bool | None
    primary: Match  # the verdict on the primary face (claimed student, or the 1:N match)
    alerts: list[Alert] = field(default_factory=list)

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        return {
            "face_verified": self.verified,
            "person_name": self.primary.name if self.verified else None,
            "student_id": self.primary.student_id,
            "match_score": self.primary.score,
        }

    def face_fields(self) -> list[dict[str, Any]]:
        return [
            {"student_id": m.student_id, "person_name": m.name, "match_score": m.score}
            for m in self.matches
        ]


def best_matches(embeddings: np.ndarray, gallery: Gallery) -> list[tuple[str | None, float]]:
    """For each embedding, the student with the highest similarity and that similarity."""
    if len(gallery.student_ids) == 0 or len(embeddings) == 0:
        return [(None, float("nan"))] * len(embeddings)
    sims = embeddings @ gallery.vectors.T  # (faces, gallery rows)
    best = sims.argmax(axis=1)
    return [(gallery.student_ids[j], float(sims[i, j])) for i, j in enumerate(best)]


class IdentityAnalyzer(Analyzer):
    name = "identity"
    requires = ("faces",)

    def __init__(self, deps: AnalyzerDeps) -> None:
        self.backend = deps.settings.face_embedder
        self.embedder = build_embedder(self.backend, deps.registry)
        self.threshold = deps.settings.identity.threshold
        if self.threshold is None:
            self.threshold = default_threshold(self.backend)
        self.max_faces = deps.settings.identity.max_faces
        self.students = deps.students

    def model_names(self) -> list[str]:
        return [EMBEDDER_MODELS[self.backend]]

    def embed_faces(self, image_bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """(N, dim) embeddings of faces given by their 5-point landmarks."""
        if len(landmarks) == 0:
            return np.zeros((0, self.embedder.dim), np.float32)
        return np.stack([self.embedder.embed(image_bgr, points) for points in landmarks])

    def analyze(self, ctx: FrameContext) -> IdentityResult:
        faces = ctx.result("faces", FacesResult).faces[: self.max_faces]
        embeddings = self.embed_faces(ctx.frame.image, faces.landmarks)
        everyone = self.students.gallery(self.backend)
        matches = [
            self._match(sid, score, everyone.names)
            for sid, score in best_matches(embeddings, everyone)
        ]
        if ctx.student_id is None:
            return self._identify(matches)
        return self._verify(ctx.student_id, embeddings, matches)

    def _match(self, student_id: str | None, score: float, names: dict[str, str]) -> Match:
        if student_id is None:
            return Match(None, None, None)
        if score < self.threshold:
            return Match(None, None, round(score, 4))
        return Match(student_id, names[student_id], round(score, 4))

    def _identify(self, matches: list[Match]) -> IdentityResult:
        if not matches:
            return IdentityResult(matches, None, Match(None, None, None))
        if matches[0].student_id is not None:
            return IdentityResult(matches, True, matches[0])
        alert = Alert(
            code="UNKNOWN_PERSON",
            severity="medium",
            message="The face in the frame matches no enrolled student.",
        )
        return IdentityResult(matches, None, Match(None, None, matches[0].score), [alert])

    def _verify(self, claimed: str, embeddings: np.ndarray, matches: list[Match]) -> IdentityResult:
        if not matches:
            return IdentityResult(matches, False, Match(claimed, None, None))
        gallery = self.students.gallery(self.backend, claimed)
        if len(gallery.student_ids) == 0:
            self.students.get(claimed)  # raises 404 when the student does not exist at all
            raise NotEnrolledForModelError(
                f"student {claimed!r} has no face embeddings for the current model "
                f"{self.backend!r}; re-enroll them (POST /students/{claimed}/faces)"
            )
        score = round(float((embeddings[:1] @ gallery.vectors.T).max()), 4)
        primary = Match(claimed, gallery.names[claimed], score)
        if score >= self.threshold:
            # The verified claim wins over a 1:N best match (e.g. a duplicate enrollment).
            return IdentityResult([primary, *matches[1:]], True, primary)
        alert = Alert(
            code="FACE_MISMATCH",
            severity="high",
            message=f"The face does not match student {claimed!r} "
            f"(similarity {score:.2f} < {self.threshold:.2f}).",
        )
        return IdentityResult(matches, False, primary, [alert])
