"""Turn enrollment photos into embeddings, refusing any photo without exactly one face.

Each photo goes through the same ``Pipeline.analyze`` as a webcam frame (decode, limits,
downscale, faces, identity), with only the identity analyzer and what it needs. Shared by
``POST /students`` and the bulk-import CLI, so both apply the same rules. A photo of an ID
card (``from_id_card``) goes through ``IdCardReader`` instead: the portrait on the flattened
card is enrolled, as ``POST /verify_id`` would read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from proctor.analyzers.base import Claim
from proctor.analyzers.identity import IdentityResult
from proctor.errors import EnrollmentImageError, ProctorError, ServiceUnavailableError
from proctor.gallery import Gallery
from proctor.idcard import IdCardReader
from proctor.pipeline import Pipeline


@dataclass(frozen=True)
class EnrollmentImage:
    label: str  # file name or position, used in error messages
    data: bytes


class Enroller:
    def __init__(self, pipeline: Pipeline, cards: IdCardReader) -> None:
        self.pipeline = pipeline
        self.cards = cards
        self.model = pipeline.settings.face_embedder

    def embed(self, images: list[EnrollmentImage], from_id_card: bool = False) -> list[np.ndarray]:
        """One embedding per image, or ``EnrollmentImageError`` naming the first bad image.
        With ``from_id_card`` each image is a photo of an ID card: the portrait on the
        rectified card (its largest face) is enrolled."""
        if not images:
            raise EnrollmentImageError("at least one image is required")
        nobody = Gallery(self.model, 0)
        embeddings = []
        for position, image in enumerate(images, start=1):
            where = f"image {position} ({image.label!r})"
            try:
                if from_id_card:
                    embeddings.append(self._card_portrait(image, where))
                    continue
                analysis = self.pipeline.analyze(image.data, Claim(), nobody, only=["identity"])
            except (ServiceUnavailableError, EnrollmentImageError):
                raise
            except ProctorError as exc:
                raise EnrollmentImageError(f"{where}: {exc.message}") from None
            found = analysis.response.face_count
            if found != 1:
                reason = "no face was found" if found == 0 else f"{found} faces were found"
                raise EnrollmentImageError(
                    f"{where}: {reason}; an enrollment photo must show exactly one face"
                )
            embeddings.append(analysis.context.result("identity", IdentityResult).embeddings[0])
        return embeddings

    def _card_portrait(self, image: EnrollmentImage, where: str) -> np.ndarray:
        reading = self.cards.read(image.data)
        if reading.portrait is None:
            stage = reading.stages[-1]
            raise EnrollmentImageError(
                f"{where}: ID card {stage.stage} stage failed: {stage.detail}; an ID-card "
                "enrollment image must show the card with its portrait"
            )
        return reading.portrait.embeddings[0]
