"""Head pose on real photos: frontal vs turned, signs under mirroring and in-plane rotation,
agreement with AFLW2000-3D labels, and the alerts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from proctor.analyzers.gaze import GazeResult
from proctor.analyzers.head_pose import HeadPoseResult
from proctor.eval.pose import camera_turned, mirrored, rotated
from proctor.geometry.pose import HeadPose, pose_from_matrix, ray_rotation, rotation_matrix
from proctor.pipeline import Pipeline
from tests.analyzers.mesh_pipeline import (
    analyze,
    codes,
    headpose_image,
    headpose_label,
    mesh_pipeline,
    report_units,
    run,
)

FRONTAL = ("person02146+0+0.jpg", "person03146+0+0.jpg")
#: Pointing'04 person03 facing pan -60 (toward the image's right: the student's left) / +60.
#: Every image here is of the pose evaluation's report split (persons 02, 03, 06; AFLW2000
#: images by id): none of the alert limits or the reference face was chosen on them.
TURNED_LEFT, TURNED_RIGHT = "person03142+0-60.jpg", "person03150+0+60.jpg"
LOOKING_DOWN, LOOKING_UP = "person03107-60+0.jpg", "person03185+60+0.jpg"
#: Full profiles (pan 90) of person02, which the face mesh does not take for faces.
FAR_LEFT, FAR_RIGHT = "person02140+0-90.jpg", "person02152+0+90.jpg"
#: The report split's AFLW2000-3D faces with moderate, continuous labels (|yaw| <= 50).
AFLW = (
    "aflw2000_image00408.jpg",
    "aflw2000_image02246.jpg",
    "aflw2000_image03614.jpg",
    "aflw2000_image04331.jpg",
)


@pytest.fixture(scope="module")
def pipeline(eval_dir: Path) -> Pipeline:
    return mesh_pipeline()


def pose(pipeline: Pipeline, image: np.ndarray) -> tuple[float, float, float]:
    head = analyze(pipeline, image).head_pose
    assert head is not None
    return head.yaw_deg, head.pitch_deg, head.roll_deg


@pytest.mark.parametrize("name", FRONTAL)
def test_frontal_face_raises_no_pose_alert(pipeline: Pipeline, eval_dir: Path, name: str) -> None:
    response = analyze(pipeline, headpose_image(eval_dir, name))
    assert response.head_pose is not None
    assert abs(response.head_pose.yaw_deg) < 12
    assert abs(response.head_pose.pitch_deg) < 12
    assert not response.headpose_alert
    assert not codes(response) & {"HEAD_TURNED", "LOOKING_DOWN", "LOOKING_UP"}
    assert response.faces[0].head_pose == response.head_pose


@pytest.mark.parametrize(("name", "side"), [(TURNED_LEFT, 1), (TURNED_RIGHT, -1)])
def test_turned_face_raises_head_turned_with_the_right_sign(
    pipeline: Pipeline, eval_dir: Path, name: str, side: int
) -> None:
    response = analyze(pipeline, headpose_image(eval_dir, name))
    assert response.head_pose is not None
    assert side * response.head_pose.yaw_deg > 30
    assert "HEAD_TURNED" in codes(response)
    assert response.headpose_alert
    message = next(a.message for a in response.alerts if a.code == "HEAD_TURNED")
    assert ("student's left" if side > 0 else "student's right") in message


def test_looking_down_and_up(pipeline: Pipeline, eval_dir: Path) -> None:
    down = analyze(pipeline, headpose_image(eval_dir, LOOKING_DOWN))
    up = analyze(pipeline, headpose_image(eval_dir, LOOKING_UP))
    assert down.head_pose is not None and up.head_pose is not None
    assert down.head_pose.pitch_deg < -20 < 15 < up.head_pose.pitch_deg
    assert "LOOKING_DOWN" in codes(down)
    assert "LOOKING_DOWN" not in codes(up)


@pytest.mark.parametrize("name", [*FRONTAL, TURNED_LEFT, *AFLW])
def test_mirroring_flips_yaw_and_roll_and_keeps_pitch(
    pipeline: Pipeline, eval_dir: Path, name: str
) -> None:
    image = headpose_image(eval_dir, name)
    yaw, pitch, roll = pose(pipeline, image)
    m_yaw, m_pitch, m_roll = pose(pipeline, mirrored(image))
    assert m_yaw == pytest.approx(-yaw, abs=4)
    assert m_roll == pytest.approx(-roll, abs=7)
    assert m_pitch == pytest.approx(pitch, abs=4)
    if abs(yaw) > 5:
        assert np.sign(m_yaw) == -np.sign(yaw)


@pytest.mark.parametrize("turn", [15.0, -15.0])
@pytest.mark.parametrize("name", [FRONTAL[0], AFLW[1]])
def test_rotating_the_image_changes_roll_by_the_rotation(
    pipeline: Pipeline, eval_dir: Path, name: str, turn: float
) -> None:
    image = headpose_image(eval_dir, name)
    before = HeadPose(*pose(pipeline, image))
    after = pose(pipeline, rotated(image, turn))
    # Turning the image turns the head about the camera axis: exactly roll for a frontal
    # face; a turned, tilted face also shifts yaw and pitch a little.
    expected = pose_from_matrix(rotation_matrix(HeadPose(0, 0, turn)) @ rotation_matrix(before))
    assert after[2] - before.roll_deg == pytest.approx(turn, abs=5)
    assert after == pytest.approx((expected.yaw_deg, expected.pitch_deg, expected.roll_deg), abs=3)


@pytest.mark.parametrize("name", AFLW)
def test_agrees_with_aflw2000_labels(pipeline: Pipeline, eval_dir: Path, name: str) -> None:
    label = headpose_label(eval_dir, name)
    yaw, pitch, roll = pose(pipeline, headpose_image(eval_dir, name))
    # The data set's yaw is positive toward the subject's right: ours is the opposite.
    assert yaw == pytest.approx(-label["yaw"], abs=12)
    assert pitch == pytest.approx(label["pitch"], abs=12)
    assert roll == pytest.approx(label["roll"], abs=6)


def covered(eval_dir: Path, name: str) -> np.ndarray:
    """The image with a black bar over the lower 70 % of the dataset's face box (nose, mouth
    and chin; the eyes stay visible): the detector still finds the face, the mesh does not."""
    image = headpose_image(eval_dir, name).copy()
    x, y, w, h = headpose_label(eval_dir, name)["face_box_xywh"]
    image[int(y + 0.3 * h) : y + h + 10, max(x - 10, 0) : x + w + 10] = 0
    return image


@pytest.mark.parametrize("name", FRONTAL)
def test_a_covered_face_raises_face_occluded_not_head_turned(
    pipeline: Pipeline, eval_dir: Path, name: str
) -> None:
    response = analyze(pipeline, covered(eval_dir, name))
    assert len(response.faces) == 1 and response.faces[0].mesh_score is None
    assert codes(response) & {"HEAD_TURNED", "LOOKING_DOWN", "LOOKING_UP", "FACE_OCCLUDED"} == {
        "FACE_OCCLUDED"
    }
    assert not response.headpose_alert
    assert response.head_pose is not None and response.head_pose.source == "landmarks"
    alert = next(a for a in response.alerts if a.code == "FACE_OCCLUDED")
    assert alert.severity == "low" and "covered" in alert.message


@pytest.mark.parametrize(("name", "side"), [(FAR_LEFT, 1), (FAR_RIGHT, -1)])
def test_a_profile_the_mesh_cannot_read_is_turned_by_its_five_landmarks(
    pipeline: Pipeline, eval_dir: Path, name: str, side: int
) -> None:
    response = analyze(pipeline, headpose_image(eval_dir, name))
    assert response.faces[0].mesh_score is None
    assert response.head_pose is not None and response.head_pose.source == "landmarks"
    assert side * response.head_pose.yaw_deg > 45
    assert "HEAD_TURNED" in codes(response) and "FACE_OCCLUDED" not in codes(response)
    assert response.headpose_alert and response.gaze is None


def test_every_image_here_is_from_the_report_split(eval_dir: Path) -> None:
    labels = json.loads((eval_dir / "headpose" / "labels.json").read_text())
    units = {
        labels[n]["subject"] or n
        for n in (*FRONTAL, TURNED_LEFT, TURNED_RIGHT, FAR_LEFT, FAR_RIGHT, *AFLW)
    }
    units |= {labels[n]["subject"] for n in (LOOKING_DOWN, LOOKING_UP)}
    assert units <= report_units(eval_dir)


@pytest.mark.parametrize(("right", "down"), [(20.0, 0.0), (-25.0, 0.0), (0.0, 20.0)])
def test_a_face_off_centre_looking_into_the_camera_reads_as_facing_it(
    pipeline: Pipeline, eval_dir: Path, right: float, down: float
) -> None:
    # The same frontal face seen by the camera turned about its own centre (exact for a
    # camera rotation): off to one side, or high in the frame as under a laptop camera.
    image = headpose_image(eval_dir, FRONTAL[1])
    centred = run(pipeline, camera_turned(image, 0.0, 0.0, 60.0))
    moved = run(pipeline, camera_turned(image, right, down, 60.0))
    before = centred.result("head_pose", HeadPoseResult).primary
    after = moved.result("head_pose", HeadPoseResult).primary
    assert before is not None and after is not None
    # About the optical axis the face now reads turned toward the middle of the frame...
    optical = pose_from_matrix(ray_rotation(after.position_mm) @ rotation_matrix(after.angles))
    assert abs(optical.yaw_deg - before.angles.yaw_deg) > 0.6 * abs(right)
    assert abs(optical.pitch_deg - before.angles.pitch_deg) > 0.6 * down
    # ...relative to the line to the face it reads as it did in the middle, alert-free.
    assert after.angles.yaw_deg == pytest.approx(before.angles.yaw_deg, abs=4)
    assert after.angles.pitch_deg == pytest.approx(before.angles.pitch_deg, abs=4)
    assert not moved.result("head_pose", HeadPoseResult).alerts
    assert not {a.code for a in moved.result("gaze", GazeResult).alerts} & {"GAZE_AWAY"}
