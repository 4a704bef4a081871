"""``POST /verify_id`` and enrollment from an ID card, with the real models on SYNTHETIC cards
(an OpenCV card layout around a real LFW photo) photographed into a real desk webcam frame."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from proctor.api.main import create_app
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import card_photo, in_webcam_frame, jpeg, local_client, photo


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the module (the models load once); each test enrolls its own students."""
    require_models(*FACE_MODELS)
    settings = make_settings(tmp_path_factory.mktemp("verify_id"))
    with local_client(create_app(settings)) as test_client:
        yield test_client


def live(eval_dir: Path, person: str, number: int) -> bytes:
    return jpeg(in_webcam_frame(photo(eval_dir / "faces" / "identities", person, number)))


def verify(client: TestClient, id_image: bytes, frame: bytes | None = None, **data: str):
    files = [("id_image", ("card.jpg", id_image, "image/jpeg"))]
    if frame is not None:
        files.append(("file", ("live.jpg", frame, "image/jpeg")))
    return client.post("/verify_id", files=files, data=data)


def test_card_in_a_real_frame_matches_another_photo_of_the_same_person(
    client: TestClient, eval_dir: Path
) -> None:
    response = verify(
        client, card_photo(eval_dir, "Julianne_Moore", 3), live(eval_dir, "Julianne_Moore", 5)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["card_found"] and body["portrait_found"] and body["verified"], body
    assert body["match_score"] >= body["threshold"]
    assert [s["stage"] for s in body["stages"]] == ["card", "portrait", "live_face", "match"]
    assert all(s["passed"] for s in body["stages"]) and body["reason"] is None


def test_a_different_person_is_not_verified(client: TestClient, eval_dir: Path) -> None:
    body = verify(
        client, card_photo(eval_dir, "Julianne_Moore", 3), live(eval_dir, "Tom_Cruise", 2)
    ).json()
    assert body["card_found"] and body["portrait_found"]
    assert body["verified"] is False and body["match_score"] < body["threshold"]
    assert body["stages"][-1] == {"stage": "match", "passed": False, "detail": body["reason"]}


def test_an_image_without_a_card_or_a_face_says_so(client: TestClient, eval_dir: Path) -> None:
    noise = np.random.default_rng(7).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    blank = cv2.GaussianBlur(noise, (0, 0), 4)
    body = verify(client, jpeg(blank), live(eval_dir, "Mike_Weir", 1)).json()
    assert body["card_found"] is False and body["portrait_found"] is False
    assert body["verified"] is False and body["match_score"] is None
    assert "no card outline" in body["reason"]


def test_a_face_without_a_card_falls_back_to_the_whole_image(
    client: TestClient, eval_dir: Path
) -> None:
    """A tight scan of the portrait: no outline, the whole image stands in for the card."""
    scan = jpeg(photo(eval_dir / "faces" / "identities", "Mike_Weir", 1))
    body = verify(client, scan, live(eval_dir, "Mike_Weir", 2)).json()
    assert body["card_found"] is False and body["portrait_found"] is True
    assert "whole image" in body["stages"][0]["detail"]
    assert body["verified"] is True and body["reason"] is None


def test_neither_or_both_references_and_an_unknown_student(
    client: TestClient, eval_dir: Path
) -> None:
    card = card_photo(eval_dir, "Julianne_Moore", 3)
    neither = verify(client, card)
    assert neither.status_code == 422 and neither.json()["code"] == "invalid_id_reference"
    both = client.post(
        "/verify_id",
        files=[
            ("id_image", ("card.jpg", card, "image/jpeg")),
            ("file", ("live.jpg", live(eval_dir, "Julianne_Moore", 5), "image/jpeg")),
        ],
        data={"student_id": "nobody"},
    )
    assert both.status_code == 404 and both.json()["code"] == "student_not_found"
    unknown = verify(client, card, student_id="nobody")
    assert unknown.status_code == 404 and unknown.json()["code"] == "student_not_found"


def test_enroll_from_an_id_card_then_verify_live_frames(client: TestClient, eval_dir: Path) -> None:
    created = client.post(
        "/students",
        data={"student_id": "jm-card", "name": "Julianne Moore", "from_id_card": "true"},
        files=[("images", ("card.jpg", card_photo(eval_dir, "Julianne_Moore", 3), "image/jpeg"))],
    )
    assert created.status_code == 201, created.text
    frame = {"file": ("live.jpg", live(eval_dir, "Julianne_Moore", 5), "image/jpeg")}
    analysed = client.post("/analyze_frame", files=frame, data={"student_id": "jm-card"})
    assert analysed.status_code == 200 and analysed.json()["face_verified"] is True
    other = {"file": ("live.jpg", live(eval_dir, "Tom_Cruise", 2), "image/jpeg")}
    mismatch = client.post("/analyze_frame", files=other, data={"student_id": "jm-card"})
    assert mismatch.json()["face_verified"] is False
    again = verify(client, card_photo(eval_dir, "Julianne_Moore", 3), student_id="jm-card")
    assert again.json()["verified"] is True
    client.delete("/students/jm-card")


def test_enrollment_from_a_card_without_a_portrait_names_the_stage(client: TestClient) -> None:
    noise = np.random.default_rng(3).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    response = client.post(
        "/students",
        data={"student_id": "nocard", "name": "No Card", "from_id_card": "true"},
        files=[("images", ("x.jpg", jpeg(cv2.GaussianBlur(noise, (0, 0), 4)), "image/jpeg"))],
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "enrollment_image_rejected"
    assert "image 1" in body["detail"] and "card stage failed" in body["detail"]
