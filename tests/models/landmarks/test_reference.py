"""Building the reference face: Procrustes mean, mirror pairing, symmetrising; the shipped one,
built from the tune split only and reproducible from its build script."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from proctor.eval.data import headpose_images, headpose_split
from proctor.geometry.pose import HeadPose, rotation_matrix
from proctor.models.landmarks import topology
from proctor.models.landmarks.reference import (
    MIRROR,
    ReferenceFace,
    build_reference,
    load_reference,
    mean_shape,
    mirror_pairs,
    procrustes,
    symmetrised,
)
from tests.conftest import FACE_MODELS, require_models
from tools.build_reference import MIN_FRONTAL
from tools.build_reference import main as build_main


def symmetric_shape(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """40 mirrored pairs plus 8 midline points, and each point's partner."""
    half = rng.uniform([5, -60, -20], [60, 60, 20], size=(40, 3))
    midline = rng.uniform([0, -60, -30], [0, 60, 10], size=(8, 3))
    shape = np.vstack([half, half @ MIRROR, midline])
    partner = np.concatenate([np.arange(40, 80), np.arange(40), np.arange(80, 88)])
    return shape - shape.mean(axis=0), partner


def turned(shape: np.ndarray, yaw: float, pitch: float, roll: float) -> np.ndarray:
    return shape @ rotation_matrix(HeadPose(yaw, pitch, roll)).T


def angle_between(a: np.ndarray, b: np.ndarray) -> float:
    rotation, _, _ = procrustes(a, b)
    return float(np.degrees(np.linalg.norm(cv2.Rodrigues(rotation)[0])))


def test_procrustes_recovers_rotation_scale_shift() -> None:
    shape, _ = symmetric_shape(np.random.default_rng(0))
    rotation = rotation_matrix(HeadPose(20, -10, 5))
    moved = 2.5 * shape @ rotation.T + [3, -4, 5]
    found, scale, shift = procrustes(shape, moved)
    assert found == pytest.approx(rotation, abs=1e-9)
    assert scale == pytest.approx(2.5)
    assert shift == pytest.approx([3, -4, 5])


def test_mirror_pairs_finds_each_partner() -> None:
    shape, partner = symmetric_shape(np.random.default_rng(1))
    assert np.array_equal(mirror_pairs(shape), partner)


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll", "tolerance"),
    [(8.0, 0.0, -6.0, 0.05), (0.0, 12.0, 0.0, 0.05), (3.0, 12.0, -2.0, 0.5)],
)
def test_symmetrised_removes_yaw_and_roll_but_keeps_pitch(
    yaw: float, pitch: float, roll: float, tolerance: float
) -> None:
    shape, partner = symmetric_shape(np.random.default_rng(2))
    result = symmetrised(turned(shape, yaw, pitch, roll))
    assert np.abs((result @ MIRROR)[partner] - result).max() < 1e-9
    assert angle_between(result, turned(shape, 0.0, pitch, 0.0)) < tolerance


def test_mean_shape_keeps_the_average_orientation() -> None:
    rng = np.random.default_rng(3)
    shape, _ = symmetric_shape(rng)
    poses = [(4, 6, -2), (-4, 4, 2), (2, 5, 1), (-2, 5, -1)]  # mean pitch 5, yaw/roll 0
    meshes = [turned(shape, *p) * 3 + rng.normal(0, 0.3, shape.shape) for p in poses]
    assert angle_between(mean_shape(meshes), turned(shape, 0, 5, 0)) < 0.5


def test_build_sets_the_size_from_the_iris() -> None:
    shape, _ = symmetric_shape(np.random.default_rng(4))
    meshes = [shape * 2.0 + [300, 200, 0], shape * 4.0 + [100, 100, 0]]  # px, two distances
    size = np.sqrt(np.mean(np.sum(shape[:, :2] ** 2, axis=1)))  # the shape's own units
    reference = build_reference(
        meshes,
        [2.0 * 10.0, 4.0 * 10.0],  # an iris 10 shape-units across, at both distances
        [(0.1, 0.2), (0.12, 0.1)],
        depth_scale=1.0,
        iris_diameter_mm=11.7,
        sources=("a", "b"),
    )
    # 10 units of the shape are 11.7 mm: every length scales by 1.17.
    span = np.ptp(reference.points_mm[:, 1])
    assert span == pytest.approx(np.ptp(shape[:, 1]) * 1.17, rel=1e-6)
    assert size > 0
    assert reference.iris_rest == pytest.approx((0.11, 0.15))


def test_shipped_reference_is_a_plausible_symmetric_face() -> None:
    reference = load_reference()
    points = reference.points_mm
    assert points.shape == (468, 3)
    mirrored = (points @ MIRROR)[mirror_pairs(points)]
    assert np.abs(mirrored - points).max() < 1e-3
    (left_outer, _), (right_outer, _) = topology.EYE_CORNERS
    eye_span = np.linalg.norm(points[left_outer] - points[right_outer])
    assert 80 < eye_span < 105  # adult outer-eye-corner distance, mm
    nose, chin, forehead = topology.NOSE_TIP, topology.CHIN, topology.FOREHEAD
    assert points[nose, 2] < points[left_outer, 2] - 15  # the nose points at the camera
    assert points[forehead, 1] < points[nose, 1] < points[chin, 1]
    outward, up = reference.iris_rest
    assert 0.0 < outward < 0.3
    assert 0.0 < up < 0.3
    assert len(reference.sources) >= MIN_FRONTAL
    assert 0.5 <= reference.depth_scale <= 1.0


def test_shipped_reference_comes_from_the_tune_split_only(eval_dir: Path) -> None:
    reference = load_reference()
    tune = headpose_split(headpose_images(eval_dir))["tune"]
    assert reference.split == "tune"
    assert set(reference.sources) == {x.name for x in tune if x.frontal}
    aflw = {x.name for x in tune if x.dataset == "aflw2000-3d"}
    assert reference.depth_sources and set(reference.depth_sources) <= aflw


def test_builder_reproduces_the_shipped_reference(eval_dir: Path, tmp_path: Path) -> None:
    require_models(FACE_MODELS[0], "face_landmarks_facemesh", "eye_landmarks_iris")
    out = tmp_path / "reference.npz"
    assert build_main(["--eval-dir", str(eval_dir), "--output", str(out)]) == 0
    rebuilt, shipped = ReferenceFace.load(out), load_reference()
    assert rebuilt.sources == shipped.sources
    assert rebuilt.depth_sources == shipped.depth_sources
    assert rebuilt.depth_scale == shipped.depth_scale
    assert np.abs(rebuilt.points_mm - shipped.points_mm).max() < 0.5
    assert rebuilt.iris_rest == pytest.approx(shipped.iris_rest, abs=1e-3)
