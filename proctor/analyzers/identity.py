"""Identity analyzer: embed each face and match it against the gallery the caller passes in.

With a claimed ``student_id`` the primary (largest) face is verified 1:1 against that
student at the 1:1 threshold. Without one it is identified 1:N against everyone, and a
1:N match needs more: every enrolled row is one more chance for a stranger to look alike,
so the 1:N threshold grows with the gallery (``identify_threshold``: a target share of
non-enrolled people named as someone, ``identity.identify_target_fpir``) and, optionally,
the best student must beat the second-best by ``identity.identify_margin``. Other faces
in the frame are always identified 1:N. A face's score against a student is its best
cosine similarity over that student's enrolled embeddings (``Gallery.similarities``).
The caller checks a claim against the store before the frame is analyzed (an unknown
student is not this analyzer's business); a claim the gallery snapshot does not hold is
refused with ``NotEnrolledForModelError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from proctor.analyzers.base import Analyzer, FrameContext
from proctor.analyzers.faces import FacesResult
from proctor.errors import NotEnrolledForModelError
from proctor.frame import Frame
from proctor.gallery import Gallery
from proctor.models.faces.backends import EMBEDDER_MODELS, build_embedder
from proctor.models.registry import ModelRegistry
from proctor.schemas import Alert
from proctor.settings import Settings

#: Each embedder's operating threshold, chosen by ``python -m proctor.eval faces`` on the
#: tuning split with the rule written in docs/accuracy.md.
DEFAULT_THRESHOLDS: dict[str, float] = {"mobilefacenet": 0.29, "sface": 0.38}

#: 1:N (no claim): each embedder's impostor score tail, ``(a, b)`` with the cosine that a
#: share p of impostor comparisons reach ``t(p) = a + b * log10(1 / p)``, fitted by
#: ``python -m proctor.eval fairness --part identity --gallery-dir ...`` on the tune split
#: (the highest group's tail; rule in docs/accuracy.md).
IDENTIFY_TAILS: dict[str, tuple[float, float]] = {
    "mobilefacenet": (0.036, 0.077),
    "sface": (0.087, 0.084),
}


def identify_threshold(
    threshold: float, tail: tuple[float, float] | None, rows: int, target_fpir: float
) -> float:
    """The 1:N threshold for a gallery of ``rows`` enrolled embeddings: a face that is not
    enrolled meets every row, so each comparison may false-match with p = target / rows and
    FPIR stays near ``target_fpir``: ``max(threshold, a + b * log10(rows / target_fpir))``.
    Never below the 1:1 ``threshold``; without a fitted ``tail``, the 1:1 threshold."""
    if tail is None or rows < 1:
        return threshold
    a, b = tail
    return max(threshold, round(a + b * math.log10(rows / target_fpir), 4))


@dataclass(frozen=True)
class Match:
    student_id: str | None
    name: str | None
    score: float | None


@dataclass
class IdentityResult:
    embeddings: np.ndarray  # (faces, dim), largest face first (at most identity.max_faces)
    matches: list[Match]  # per embedded face
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

    def face_values(self, frame: Frame) -> list[dict[str, Any]]:
        return [
            {"student_id": m.student_id, "person_name": m.name, "match_score": m.score}
            for m in self.matches
        ]


class IdentityAnalyzer(Analyzer):
    name = "identity"
    requires = ("faces",)
    fields = ("face_verified", "person_name", "student_id", "match_score")
    face_fields = ("student_id", "person_name", "match_score")

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.backend = settings.face_embedder
        self.embedder = build_embedder(self.backend, registry)
        configured = settings.identity.threshold
        self.threshold = DEFAULT_THRESHOLDS[self.backend] if configured is None else configured
        self.max_faces = settings.identity.max_faces
        self.tail = IDENTIFY_TAILS.get(self.backend)
        self.target_fpir = settings.identity.identify_target_fpir
        self.margin = settings.identity.identify_margin

    def identify_threshold(self, gallery: Gallery) -> float:
        """The 1:N threshold for this gallery (its enrolled rows, not its students: a stranger
        is compared with every row)."""
        return identify_threshold(self.threshold, self.tail, gallery.rows, self.target_fpir)

    @classmethod
    def models(cls, settings: Settings) -> list[str]:
        return [EMBEDDER_MODELS[settings.face_embedder]]

    def analyze(self, ctx: FrameContext) -> IdentityResult:
        faces = ctx.result("faces", FacesResult).faces[: self.max_faces]
        assert faces.landmarks is not None
        embeddings = self.embedder.embed(ctx.frame.image, faces.landmarks)
        gallery = ctx.gallery
        if gallery.model != self.backend:
            raise ValueError(f"gallery of {gallery.model!r} given to a {self.backend!r} analyzer")
        similarities = gallery.similarities(embeddings)
        threshold = self.identify_threshold(gallery)
        matches = [self._best(row, gallery, threshold) for row in similarities]
        claimed = ctx.claim.student_id
        if claimed is None:
            return self._identify(embeddings, matches)
        if claimed not in gallery:
            raise NotEnrolledForModelError(
                f"student {claimed!r} has no face embeddings for the current model "
                f"{self.backend!r}; add photos to re-enroll them"
            )
        return self._verify(embeddings, matches, claimed, similarities, gallery)

    def _best(self, row: np.ndarray, gallery: Gallery, threshold: float) -> Match:
        """The 1:N verdict on one face: the best student if their score reaches the 1:N
        ``threshold`` and beats the second-best by the margin."""
        if len(row) == 0:
            return Match(None, None, None)
        best = int(row.argmax())
        score = round(float(row[best]), 4)
        second = float(np.partition(row, -2)[-2]) if len(row) > 1 else -math.inf
        if float(row[best]) < threshold or float(row[best]) - second < self.margin:
            return Match(None, None, score)
        return Match(gallery.student_ids[best], gallery.names[best], score)

    def _identify(self, embeddings: np.ndarray, matches: list[Match]) -> IdentityResult:
        if not matches:
            return IdentityResult(embeddings, matches, None, Match(None, None, None))
        if matches[0].student_id is not None:
            return IdentityResult(embeddings, matches, True, matches[0])
        alert = Alert(
            code="UNKNOWN_PERSON",
            severity="medium",
            message="The face in the frame matches no enrolled student.",
        )
        return IdentityResult(
            embeddings, matches, None, Match(None, None, matches[0].score), [alert]
        )

    def _verify(
        self,
        embeddings: np.ndarray,
        matches: list[Match],
        claimed: str,
        similarities: np.ndarray,
        gallery: Gallery,
    ) -> IdentityResult:
        if not matches:
            return IdentityResult(embeddings, matches, False, Match(claimed, None, None))
        column = gallery.student_ids.index(claimed)
        score = round(float(similarities[0, column]), 4)
        primary = Match(claimed, gallery.names[column], score)
        if score >= self.threshold:
            # The verified claim wins over a 1:N best match (e.g. a duplicate enrollment).
            return IdentityResult(embeddings, [primary, *matches[1:]], True, primary)
        alert = Alert(
            code="FACE_MISMATCH",
            severity="high",
            message=f"The face does not match student {claimed!r} "
            f"(similarity {score:.2f} < {self.threshold:.2f}).",
        )
        return IdentityResult(embeddings, matches, False, primary, [alert])
