"""Turn enrollment photos into embeddings, refusing any photo without exactly one face.

Shared by ``POST /students`` and the bulk-import CLI, so both apply the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from proctor.analyzers.faces import FacesAnalyzer
from proctor.analyzers.identity import IdentityAnalyzer
from proctor.errors import EnrollmentImageError, ProctorError, ServiceUnavailableError
from proctor.frame import decode_image, make_frame
from proctor.pipeline import Pipeline
from proctor.settings import Settings


@dataclass(frozen=True)
class EnrollmentImage:
    label: str  # file name or position, used in error messages
    data: bytes


class Enroller:
    def __init__(self, pipeline: Pipeline, settings: Settings) -> None:
        self.settings = settings
        faces, identity = pipeline.get("faces"), pipeline.get("identity")
        self.faces = faces if isinstance(faces, FacesAnalyzer) else None
        self.identity = identity if isinstance(identity, IdentityAnalyzer) else None

    @property
    def model(self) -> str:
        return self._analyzers()[1].backend

    def _analyzers(self) -> tuple[FacesAnalyzer, IdentityAnalyzer]:
        if self.faces is None or self.identity is None:
            raise ServiceUnavailableError(
                "enrollment needs the faces and identity analyzers, which are not loaded; "
                "see GET /health"
            )
        return self.faces, self.identity

    def embed(self, images: list[EnrollmentImage]) -> list[np.ndarray]:
        """One embedding per image, or ``EnrollmentImageError`` naming the first bad image."""
        faces_analyzer, identity = self._analyzers()
        if not images:
            raise EnrollmentImageError("at least one image is required")
        embeddings = []
        for position, image in enumerate(images, start=1):
            where = f"image {position} ({image.label!r})"
            try:
                pixels = decode_image(
                    image.data,
                    max_bytes=self.settings.max_upload_bytes,
                    max_pixels=self.settings.max_image_pixels,
                )
            except ProctorError as exc:
                raise EnrollmentImageError(f"{where}: {exc.message}") from None
            frame = make_frame(pixels, self.settings.analysis_max_side)
            faces = faces_analyzer.find_faces(frame.image)
            if len(faces) != 1:
                reason = (
                    "no face was found" if len(faces) == 0 else f"{len(faces)} faces were found"
                )
                raise EnrollmentImageError(
                    f"{where}: {reason}; an enrollment photo must show exactly one face"
                )
            embeddings.append(identity.embed_faces(frame.image, faces.landmarks)[0])
        return embeddings
