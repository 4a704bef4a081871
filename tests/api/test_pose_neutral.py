"""The student's neutral pose in an attempt: a laptop student reading their screen below the
camera stops raising LOOKING_DOWN / GAZE_AWAY once the attempt's first frames fixed where
they look, while turning away still alerts; outside an attempt nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from proctor.api.main import create_app
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import local_client

POSE_ANALYZERS = ["faces", "face_mesh", "head_pose", "gaze"]
#: Pointing'04 person 1 with the head tilted 30 deg down (measured about -18 deg, gaze -26).
READING = "person01220-30+0.jpg"
#: The same person turned 60 deg to their left.
TURNED = "person01150+0+60.jpg"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    require_models(*FACE_MODELS, "face_landmarks_facemesh", "eye_landmarks_iris")
    settings = make_settings(tmp_path, analyzers=POSE_ANALYZERS, attempts={"neutral_frames": 3})
    with local_client(create_app(settings)) as test_client:
        yield test_client


def send(client: TestClient, image: Path, seq: int, attempt: str | None = "att-1") -> dict:
    form = {} if attempt is None else {"attempt_id": attempt, "seq": str(seq)}
    response = client.post(
        "/analyze_frame", files={"file": (image.name, image.read_bytes(), "image/jpeg")}, data=form
    )
    assert response.status_code == 200, response.text
    return response.json()


def codes(result: dict) -> set[str]:
    return {alert["code"] for alert in result["alerts"]}


def test_the_neutral_absorbs_the_seating_not_a_turn(client: TestClient, eval_dir: Path) -> None:
    images = eval_dir / "headpose" / "images"
    first = [send(client, images / READING, seq) for seq in range(3)]
    for result in first:  # no neutral yet: judged from facing the camera
        assert result["pose_neutral"] is None
        assert "LOOKING_DOWN" in codes(result)
    reading = send(client, images / READING, 3)
    neutral = reading["pose_neutral"]
    assert neutral["frames"] == 3
    assert neutral["head_pitch_deg"] == pytest.approx(first[0]["head_pose"]["pitch_deg"], abs=0.1)
    assert neutral["gaze_pitch_deg"] < -15  # where this student reads the screen
    assert codes(reading) == set()
    # The measurements are unchanged: only the judgement moved.
    assert reading["head_pose"] == first[0]["head_pose"]
    turned = send(client, images / TURNED, 4)
    assert "HEAD_TURNED" in codes(turned)
    assert "from the student's neutral pose" in next(
        a["message"] for a in turned["alerts"] if a["code"] == "HEAD_TURNED"
    )
    # Without an attempt there is no neutral: the same frame alerts.
    alone = send(client, images / READING, 0, attempt=None)
    assert alone["pose_neutral"] is None and "LOOKING_DOWN" in codes(alone)


def test_another_attempt_has_its_own_neutral(client: TestClient, eval_dir: Path) -> None:
    images = eval_dir / "headpose" / "images"
    for seq in range(3):
        send(client, images / READING, seq, attempt="att-a")
    other = send(client, images / READING, 0, attempt="att-b")
    assert other["pose_neutral"] is None and "LOOKING_DOWN" in codes(other)
