"""Face mesh and iris landmarks on real photos: where they land, per face, and the limits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from proctor.analyzers.face_mesh import FaceMeshResult
from proctor.analyzers.faces import FacesResult
from proctor.eval.data import side_by_side
from proctor.models.landmarks import topology
from proctor.pipeline import Pipeline
from tests.analyzers.mesh_pipeline import analyze, headpose_image, mesh_pipeline, read, run
from tests.helpers import photo

PHOTOS = [("Boris_Becker", 1), ("Amelie_Mauresmo", 2), ("Ray_Romano", 3)]


@pytest.fixture(scope="module")
def pipeline(eval_dir: Path) -> Pipeline:
    return mesh_pipeline()


def landmarks(pipeline: Pipeline, image: np.ndarray) -> tuple[FacesResult, FaceMeshResult]:
    ctx = run(pipeline, image)
    return ctx.result("faces", FacesResult), ctx.result("face_mesh", FaceMeshResult)


def inside(points: np.ndarray, box: np.ndarray, margin: float = 0.0) -> bool:
    lo, hi = box[:2] - margin, box[2:] + margin
    return bool(np.all((points[:, :2] >= lo) & (points[:, :2] <= hi)))


@pytest.mark.parametrize(("person", "number"), PHOTOS)
def test_irises_lie_inside_their_eyes(
    pipeline: Pipeline, identities_dir: Path, person: str, number: int
) -> None:
    _, result = landmarks(pipeline, photo(identities_dir, person, number))
    face = result.primary
    assert face is not None and face.score > 0.9
    for eye in face.eyes:
        lids = eye.eyelids
        box = np.concatenate([lids.min(axis=0), lids.max(axis=0)])
        assert inside(eye.iris_center[None], box)
        # The iris is narrower than the eye and at least a third of it.
        width = np.linalg.norm(eye.outer_corner - eye.inner_corner)
        assert width / 3 < eye.iris_diameter_px < width
    # Each eye's corners agree with the mesh's own eye corners.
    for eye, (outer, inner) in zip(face.eyes, topology.EYE_CORNERS, strict=True):
        width = np.linalg.norm(face.mesh[outer, :2] - face.mesh[inner, :2])
        assert np.linalg.norm(eye.outer_corner - face.mesh[outer, :2]) < width / 4
        assert np.linalg.norm(eye.inner_corner - face.mesh[inner, :2]) < width / 4


def test_every_face_gets_its_own_mesh(pipeline: Pipeline, identities_dir: Path) -> None:
    image = side_by_side([photo(identities_dir, p, n) for p, n in PHOTOS])
    faces, result = landmarks(pipeline, image)
    assert len(faces.faces) == len(result.faces) == 3
    for box, face in zip(faces.faces.boxes, result.faces, strict=True):
        assert face is not None
        width = box[2] - box[0]
        assert inside(face.mesh, box, margin=0.25 * width)
        assert inside(face.eyes[0].iris, box)


def test_max_faces_limits_the_meshed_faces(identities_dir: Path) -> None:
    limited = mesh_pipeline(face_mesh={"max_faces": 2})
    image = side_by_side([photo(identities_dir, p, n) for p, n in PHOTOS])
    faces, result = landmarks(limited, image)
    assert len(faces.faces) == 3
    assert len(result.faces) == 2


def test_no_face_no_landmarks(pipeline: Pipeline, eval_dir: Path) -> None:
    image = read(sorted((eval_dir / "coco" / "val2017").glob("*.jpg"))[0])
    image[:] = 127  # a blank frame of a real size
    faces, result = landmarks(pipeline, image)
    assert len(faces.faces) == 0
    assert result.faces == [] and result.primary is None


def test_mesh_score_reaches_the_response(pipeline: Pipeline, eval_dir: Path) -> None:
    response = analyze(pipeline, headpose_image(eval_dir, "person05246+0+0.jpg"))
    assert response.faces[0].mesh_score is not None
    assert response.faces[0].mesh_score > 0.9
