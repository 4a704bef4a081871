"""Face-mesh analyzer: 468 landmarks and both eyes' iris points on every detected face.

It measures nothing itself; head pose, gaze, mouth and distance read its landmarks. Each
face (largest first, up to ``max_faces``) is cropped upright around its detector box and
meshed; the mesh then places the two eye crops for the iris model. All faces go through
each model in one batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from proctor.analyzers.base import Analyzer, FrameContext
from proctor.analyzers.faces import FacesResult
from proctor.frame import Frame
from proctor.models.landmarks.facemesh import FaceMeshModel
from proctor.models.landmarks.iris import IrisModel
from proctor.models.landmarks.result import FaceLandmarks
from proctor.models.registry import ModelRegistry
from proctor.schemas import Alert
from proctor.settings import Settings

FACEMESH_MODEL = "face_landmarks_facemesh"
IRIS_MODEL = "eye_landmarks_iris"


@dataclass
class FaceMeshResult:
    faces: list[FaceLandmarks | None]  # per detected face, largest first; None: no mesh
    alerts: list[Alert] = field(default_factory=list)

    @property
    def primary(self) -> FaceLandmarks | None:
        """Landmarks of the primary (largest) face, when it has them."""
        return self.faces[0] if self.faces else None

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        return {}

    def face_values(self, frame: Frame) -> list[dict[str, Any]]:
        return [{"mesh_score": None if f is None else round(f.score, 4)} for f in self.faces]


class FaceMeshAnalyzer(Analyzer):
    name = "face_mesh"
    requires = ("faces",)
    face_fields = ("mesh_score",)

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings.face_mesh
        self.mesh = FaceMeshModel(
            registry.model(FACEMESH_MODEL), crop_scale=self.settings.crop_scale
        )
        self.iris = IrisModel(registry.model(IRIS_MODEL))

    @classmethod
    def models(cls, settings: Settings) -> list[str]:
        return [FACEMESH_MODEL, IRIS_MODEL]

    def analyze(self, ctx: FrameContext) -> FaceMeshResult:
        faces = ctx.result("faces", FacesResult).faces[: self.settings.max_faces]
        image = ctx.frame.image
        crops = self.mesh.crops(faces.boxes)
        meshes = self.mesh.run(image, crops)
        redo = self.mesh.straightened(crops, meshes, self.settings.max_crop_turn_deg)
        for index, again in zip(redo, self.mesh.run(image, [crops[i] for i in redo]), strict=True):
            meshes[index] = again
        kept = [i for i, (_, score) in enumerate(meshes) if score >= self.settings.min_score]
        eyes = self.iris.run(image, [meshes[i][0] for i in kept])
        landmarks: list[FaceLandmarks | None] = [None] * len(meshes)
        for i, pair in zip(kept, eyes, strict=True):
            landmarks[i] = FaceLandmarks(mesh=meshes[i][0], score=meshes[i][1], eyes=pair)
        return FaceMeshResult(landmarks)
