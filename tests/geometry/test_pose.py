"""Head-pose geometry on synthetic points: angle conventions, PnP recovery, mirror symmetry."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from proctor.geometry.pose import (
    HeadPose,
    camera_matrix,
    focal_length_px,
    pose_from_matrix,
    ray_rotation,
    relative_to_ray,
    rotation_matrix,
    solve_pose,
)

CAMERA = camera_matrix(640, 480, 60.0)
#: A small face-like point cloud (mm, camera axes, nose toward the camera = -z), symmetric.
FACE = np.array(
    [
        [-45, -30, 10],  # eye corner, image left
        [45, -30, 10],  # eye corner, image right
        [-15, -30, 0],
        [15, -30, 0],
        [0, 5, -25],  # nose tip
        [0, -10, -12],
        [-25, 35, 5],  # mouth corners
        [25, 35, 5],
        [0, 70, 5],  # chin
        [0, -70, 5],  # forehead
        [-65, 0, 40],
        [65, 0, 40],
    ],
    np.float64,
)
MIRROR_PARTNER = [1, 0, 3, 2, 4, 5, 7, 6, 8, 9, 11, 10]


def project(pose: HeadPose, distance_mm: float = 500.0) -> np.ndarray:
    return project_at(rotation_matrix(pose), np.array([0.0, 0.0, distance_mm]))


def project_at(rotation: np.ndarray, position: np.ndarray) -> np.ndarray:
    rvec, _ = cv2.Rodrigues(rotation)
    points, _ = cv2.projectPoints(FACE, rvec, position, CAMERA, None)
    return points.reshape(-1, 2)


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"), list(itertools.product((-70, -20, 0, 35), (-40, 0, 25), (-15, 0, 10)))
)
def test_matrix_round_trip(yaw: float, pitch: float, roll: float) -> None:
    back = pose_from_matrix(rotation_matrix(HeadPose(yaw, pitch, roll)))
    assert (back.yaw_deg, back.pitch_deg, back.roll_deg) == pytest.approx((yaw, pitch, roll))


def test_signs_follow_the_students_point_of_view() -> None:
    nose, right_eye, left_eye = 4, 1, 0
    frontal = project(HeadPose(0, 0, 0))
    # Turning to the student's left moves the nose toward the image's right.
    assert project(HeadPose(30, 0, 0))[nose, 0] > frontal[nose, 0] + 10
    # Tilting up moves the nose up in the image (y grows downward).
    assert project(HeadPose(0, 20, 0))[nose, 1] < frontal[nose, 1] - 5
    # Positive roll is clockwise on screen: the image-right eye drops below the other.
    tilted = project(HeadPose(0, 0, 15))
    assert tilted[right_eye, 1] > tilted[left_eye, 1] + 10


@pytest.mark.parametrize(("yaw", "pitch", "roll"), [(0, 0, 0), (40, -15, 8), (-25, 30, -12)])
def test_solve_pose_recovers_a_known_pose(yaw: float, pitch: float, roll: float) -> None:
    rotation, translation = solve_pose(project(HeadPose(yaw, pitch, roll), 620.0), FACE, CAMERA)
    pose = pose_from_matrix(rotation)
    assert (pose.yaw_deg, pose.pitch_deg, pose.roll_deg) == pytest.approx(
        (yaw, pitch, roll), abs=1e-3
    )
    assert translation[2] == pytest.approx(620.0, rel=1e-4)


def test_mirrored_image_gives_opposite_yaw_and_roll_same_pitch() -> None:
    points = project(HeadPose(25, -10, 7))
    mirrored = points.copy()
    mirrored[:, 0] = 640 - points[:, 0]
    pose = pose_from_matrix(solve_pose(mirrored[MIRROR_PARTNER], FACE, CAMERA)[0])
    assert (pose.yaw_deg, pose.pitch_deg, pose.roll_deg) == pytest.approx((-25, -10, -7), abs=0.05)


def test_focal_length_from_field_of_view() -> None:
    assert focal_length_px(640, 90.0) == pytest.approx(320.0)
    assert focal_length_px(640, 60.0) == pytest.approx(320.0 / np.tan(np.radians(30)))
    assert focal_length_px(640, 40.0) > focal_length_px(640, 60.0)


#: Face centres (mm, camera frame) off the optical axis: to the side (a student sitting
#: off-centre), above it (a laptop camera below the eyes), and both, near a 60-deg frame's edge.
OFF_CENTRE = [
    (180.0, 0.0, 500.0),
    (-150.0, 0.0, 450.0),
    (0.0, -160.0, 500.0),
    (170.0, -120.0, 520.0),
]


@pytest.mark.parametrize("position", OFF_CENTRE)
def test_a_face_looking_into_the_camera_reads_zero_anywhere_in_the_frame(
    position: tuple[float, float, float],
) -> None:
    # Facing the camera from there: the face's forward axis (-z) points back along the ray.
    points = project_at(ray_rotation(np.array(position)), np.array(position))
    rotation, translation = solve_pose(points, FACE, CAMERA)
    optical = pose_from_matrix(rotation)
    # About the optical axis it reads as turned (toward the middle of the image)...
    assert max(abs(optical.yaw_deg), abs(optical.pitch_deg)) > 10
    # ...relative to the line from the camera to the face it is exactly frontal.
    pose = relative_to_ray(rotation, translation)
    assert (pose.yaw_deg, pose.pitch_deg, pose.roll_deg) == pytest.approx((0, 0, 0), abs=1e-3)


@pytest.mark.parametrize("position", OFF_CENTRE)
@pytest.mark.parametrize(("yaw", "pitch", "roll"), [(30, 0, 0), (0, -20, 0), (-25, 15, 8)])
def test_a_turn_away_from_the_camera_reads_the_same_anywhere_in_the_frame(
    position: tuple[float, float, float], yaw: float, pitch: float, roll: float
) -> None:
    turned = ray_rotation(np.array(position)) @ rotation_matrix(HeadPose(yaw, pitch, roll))
    rotation, translation = solve_pose(project_at(turned, np.array(position)), FACE, CAMERA)
    pose = relative_to_ray(rotation, translation)
    assert (pose.yaw_deg, pose.pitch_deg, pose.roll_deg) == pytest.approx(
        (yaw, pitch, roll), abs=1e-3
    )


def test_the_ray_rotation_turns_the_optical_axis_onto_the_face_and_keeps_x_level() -> None:
    for position in OFF_CENTRE:
        ray = ray_rotation(np.array(position))
        assert ray @ [0, 0, 1] == pytest.approx(np.array(position) / np.linalg.norm(position))
        assert ray[1, 0] == pytest.approx(0.0, abs=1e-12)  # the virtual camera's x stays level
    assert ray_rotation(np.array([0.0, 0.0, 600.0])) == pytest.approx(np.eye(3))
