"""Camera distance on real faces: proportional to 1 / apparent size, set by the field of view,
the face-size fallback agreeing with the iris, and the alerts."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from proctor.pipeline import Pipeline
from tests.analyzers.mesh_pipeline import analyze, codes, mesh_pipeline
from tests.helpers import in_webcam_frame, photo

PEOPLE = [("Boris_Becker", 1), ("Amelie_Mauresmo", 1), ("Dennis_Hastert", 1)]


@pytest.fixture(scope="module")
def pipeline(eval_dir: Path) -> Pipeline:
    return mesh_pipeline()


def distance(pipeline: Pipeline, image: np.ndarray) -> tuple[float, str]:
    response = analyze(pipeline, image)
    assert response.distance_cm is not None and response.distance_source is not None
    assert response.faces[0].distance_cm == response.distance_cm
    return response.distance_cm, response.distance_source


@pytest.mark.parametrize(("person", "number"), PEOPLE)
def test_twice_as_large_is_half_as_far(
    pipeline: Pipeline, identities_dir: Path, person: str, number: int
) -> None:
    face = photo(identities_dir, person, number)
    far, far_source = distance(pipeline, in_webcam_frame(face, 120))
    near, near_source = distance(pipeline, in_webcam_frame(face, 240))
    assert far_source == near_source == "iris"
    assert near / far == pytest.approx(0.5, abs=0.05)
    # A face 240 px tall in a 640x480, 60-degree frame is at laptop distance.
    assert 30 < near < 70


def test_narrower_field_of_view_means_farther(identities_dir: Path) -> None:
    image = in_webcam_frame(photo(identities_dir, *PEOPLE[0]), 200)
    wide, _ = distance(mesh_pipeline(camera={"horizontal_fov_deg": 60.0}), image)
    narrow, _ = distance(mesh_pipeline(camera={"horizontal_fov_deg": 40.0}), image)
    expected = math.tan(math.radians(30)) / math.tan(math.radians(20))
    assert narrow / wide == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize(("person", "number"), PEOPLE)
def test_face_size_fallback_agrees_with_the_iris(
    pipeline: Pipeline, identities_dir: Path, person: str, number: int
) -> None:
    image = in_webcam_frame(photo(identities_dir, person, number), 200)
    by_iris, source = distance(pipeline, image)
    by_face, fallback = distance(mesh_pipeline(distance={"min_iris_px": 1000.0}), image)
    assert (source, fallback) == ("iris", "face")
    assert by_face == pytest.approx(by_iris, rel=0.25)


def test_too_close_and_too_far(pipeline: Pipeline, identities_dir: Path) -> None:
    face = photo(identities_dir, *PEOPLE[0])
    close = analyze(pipeline, in_webcam_frame(face, 470))
    far = analyze(pipeline, in_webcam_frame(face, 60))
    assert close.distance_cm is not None and close.distance_cm < 30
    assert "TOO_CLOSE" in codes(close) and "TOO_FAR" not in codes(close)
    assert far.distance_cm is not None and far.distance_cm > 120
    assert "TOO_FAR" in codes(far) and "TOO_CLOSE" not in codes(far)
    normal = analyze(pipeline, in_webcam_frame(face, 240))
    assert not codes(normal) & {"TOO_CLOSE", "TOO_FAR"}
