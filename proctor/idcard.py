"""ID-card verification: find the card in a photo, find the portrait on it, and compare that
portrait with a live frame or with an enrolled student.

Every face step goes through ``Pipeline.analyze`` with ``only=["identity"]``, so the card's
portrait is detected and embedded by exactly the detector and embedder the service uses, and
compared by the identity analyzer's own rule and threshold: a live frame becomes a one-entry
gallery (its largest face) and the portrait is verified against it as a claimed student would
be. Each stage's outcome is kept, so a refusal says where it failed: the card, its portrait,
the live face, or the match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from proctor.analyzers.base import Claim
from proctor.analyzers.identity import IdentityAnalyzer, IdentityResult
from proctor.frame import decode_image
from proctor.gallery import Gallery
from proctor.geometry.card import CardQuad, find_card, rectify
from proctor.pipeline import Analysis, Pipeline

StageName = Literal["card", "portrait", "live_face", "match"]
#: The claim under which a live frame's face is put in its one-entry gallery.
LIVE = "live-frame"


@dataclass(frozen=True)
class Stage:
    """One step of the verification: whether it passed, and what was seen."""

    stage: StageName
    passed: bool
    detail: str


@dataclass(frozen=True)
class CardReading:
    """What was found on an ID image: the card outline (None when the whole image stood in
    for it, or nothing was found) and the identity analysis of its largest face."""

    quad: CardQuad | None
    analysis: Analysis | None  # None when no portrait was found
    stages: list[Stage]

    @property
    def portrait(self) -> IdentityResult | None:
        if self.analysis is None:
            return None
        return self.analysis.context.result("identity", IdentityResult)


@dataclass(frozen=True)
class IdVerification:
    """The outcome of ``POST /verify_id``: the contract's four fields, the threshold the
    score was held to, and every stage in the order it ran."""

    card_found: bool
    portrait_found: bool
    match_score: float | None
    verified: bool
    threshold: float | None
    stages: list[Stage]

    @property
    def reason(self) -> str | None:
        """Where it failed: the first failed stage's detail. A card outline not found does
        not count when the whole image stood in for the card and showed a portrait."""
        failed = [
            s
            for s in self.stages
            if not s.passed and not (s.stage == "card" and self.portrait_found)
        ]
        return failed[0].detail if failed else None


class IdCardReader:
    """Reads ID images with the service's pipeline (built once per process, with it)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.options = pipeline.settings.id_card
        self.model = pipeline.settings.face_embedder

    def decode(self, image: bytes | np.ndarray) -> np.ndarray:
        """The full-size BGR image, decoded with the same limits as a frame."""
        if isinstance(image, np.ndarray):
            return image
        settings = self.pipeline.settings
        return decode_image(
            image, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels
        )

    def locate(self, image: np.ndarray) -> CardQuad | None:
        """The card outline in full-size pixels, searched on a downscaled copy."""
        longest = max(image.shape[:2])
        ratio = min(1.0, self.options.search_max_side / longest)
        small = image if ratio == 1.0 else cv2.resize(image, None, fx=ratio, fy=ratio)
        options = self.options
        quad = find_card(
            small, options.aspect_tolerance, options.min_area_fraction, options.min_edge_support
        )
        if quad is None or ratio == 1.0:
            return quad
        return CardQuad(quad.corners / ratio, quad.area_fraction, quad.aspect)

    def read(
        self, image: bytes | np.ndarray, claim: Claim | None = None, gallery: Gallery | None = None
    ) -> CardReading:
        """Find the card and the largest face on it, verified against ``claim`` in
        ``gallery`` (neither: the portrait's embedding only, as enrollment needs)."""
        claim = claim or Claim()
        gallery = gallery if gallery is not None else Gallery(self.model, 0)
        full = self.decode(image)
        quad = self.locate(full)
        if quad is not None:
            card = rectify(full, quad, self.options.card_width_px)
            analysis = self._portrait(card, claim, gallery)
            found = Stage(
                "card",
                True,
                f"card outline found: {100 * quad.area_fraction:.0f}% of the image, "
                f"sides {quad.aspect:.2f}:1",
            )
            if analysis is None:
                missing = Stage("portrait", False, "no face was found on the card")
                return CardReading(quad, None, [found, missing])
            return CardReading(quad, analysis, [found, self._found(analysis, "the card")])
        if not self.options.whole_image_fallback:
            return CardReading(None, None, [Stage("card", False, "no card outline was found")])
        analysis = self._portrait(full, claim, gallery)
        if analysis is None:
            detail = "no card outline was found, and no face on the whole image either"
            return CardReading(None, None, [Stage("card", False, detail)])
        fallback = Stage(
            "card",
            False,
            "no card outline was found; the whole image was used as the card because it "
            "shows a face",
        )
        return CardReading(None, analysis, [fallback, self._found(analysis, "the whole image")])

    def _portrait(self, image: np.ndarray, claim: Claim, gallery: Gallery) -> Analysis | None:
        analysis = self.pipeline.analyze(image, claim, gallery, only=["identity"])
        return analysis if analysis.response.face_count else None

    @staticmethod
    def _found(analysis: Analysis, where: str) -> Stage:
        count = analysis.response.face_count
        extra = "" if count == 1 else f" ({count} faces: the largest is the portrait)"
        return Stage("portrait", True, f"portrait found on {where}{extra}")

    def live_gallery(self, frame: bytes | np.ndarray) -> tuple[Gallery | None, Stage]:
        """A one-entry gallery holding the live frame's largest face, or None and why."""
        analysis = self.pipeline.analyze(frame, Claim(), Gallery(self.model, 0), only=["identity"])
        count = analysis.response.face_count
        if count == 0:
            return None, Stage("live_face", False, "no face was found in the live frame")
        embedding = analysis.context.result("identity", IdentityResult).embeddings[0]
        gallery = Gallery.from_rows(self.model, 0, [(LIVE, "live frame", embedding)])
        extra = "" if count == 1 else f" ({count} faces: the largest was compared)"
        return gallery, Stage("live_face", True, f"face found in the live frame{extra}")

    def verify(
        self,
        id_image: bytes | np.ndarray,
        *,
        live_frame: bytes | np.ndarray | None = None,
        student_id: str | None = None,
        gallery: Gallery | None = None,
    ) -> IdVerification:
        """The card's portrait against the live frame's face, or against ``student_id`` in
        ``gallery`` (checked by the caller to hold them); exactly one of the two is given."""
        stages: list[Stage] = []
        if live_frame is not None:
            gallery, live = self.live_gallery(live_frame)
            student_id = LIVE
            stages.append(live)
        claim = Claim(student_id) if gallery is not None else None
        reading = self.read(id_image, claim, gallery)
        stages = reading.stages + stages
        portrait = reading.portrait
        if portrait is None or gallery is None:
            return IdVerification(
                reading.quad is not None, portrait is not None, None, False, None, stages
            )
        threshold = self.threshold
        score = portrait.primary.score
        verified = bool(portrait.verified)
        relation = ">=" if verified else "<"
        stages.append(
            Stage("match", verified, f"similarity {score:.3f} {relation} threshold {threshold:.2f}")
        )
        return IdVerification(reading.quad is not None, True, score, verified, threshold, stages)

    @property
    def threshold(self) -> float:
        """The identity analyzer's threshold, the one every match is held to."""
        identity = self.pipeline.get("identity")
        assert isinstance(identity, IdentityAnalyzer)  # it has just verified the portrait
        return identity.threshold
