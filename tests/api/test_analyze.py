"""/analyze_frame and /analyze_frame_base64 with the real models on real LFW photos."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from proctor.api.main import create_app
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, local_client, photo, side_by_side


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, identities_dir: Path) -> Iterator[TestClient]:
    """One app for the module, with Tom Cruise enrolled from a single photo."""
    require_models(*FACE_MODELS)
    app = create_app(make_settings(tmp_path_factory.mktemp("api")))
    with local_client(app) as client:
        enrolled = client.post(
            "/students",
            data={"student_id": "tom", "name": "Tom Cruise"},
            files={
                "images": ("tom1.jpg", jpeg(photo(identities_dir, "Tom_Cruise", 1)), "image/jpeg")
            },
        )
        assert enrolled.status_code == 201, enrolled.text
        yield client


def analyze(api: TestClient, image: np.ndarray, **form: str) -> dict:
    response = api.post(
        "/analyze_frame", data=form, files={"file": ("frame.jpg", jpeg(image), "image/jpeg")}
    )
    assert response.status_code == 200, response.text
    return response.json()


def codes(result: dict) -> set[str]:
    return {alert["code"] for alert in result["alerts"]}


def test_same_person_is_verified_with_the_name(api: TestClient, identities_dir: Path) -> None:
    result = analyze(
        api,
        in_webcam_frame(photo(identities_dir, "Tom_Cruise", 3)),
        student_id="tom",
        exam_id="exam-1",
    )
    assert result["face_verified"] is True
    assert result["person_name"] == "Tom Cruise"
    assert result["student_id"] == "tom" and result["exam_id"] == "exam-1"
    assert result["match_score"] >= api.get("/health").json()["identity_threshold"]
    assert result["faces"][0]["student_id"] == "tom"
    assert result["faces"][0]["match_score"] == result["match_score"]
    assert codes(result) == set()
    assert result["face_count"] == 1 and result["people_count"] >= 1
    assert {"decode", "faces", "identity", "total"} <= set(result["timings_ms"])


def test_different_person_raises_face_mismatch(api: TestClient, identities_dir: Path) -> None:
    result = analyze(api, in_webcam_frame(photo(identities_dir, "Hugh_Grant", 2)), student_id="tom")
    assert result["face_verified"] is False
    assert result["person_name"] is None
    assert "FACE_MISMATCH" in codes(result)


def test_identification_without_a_claim(api: TestClient, identities_dir: Path) -> None:
    known = analyze(api, in_webcam_frame(photo(identities_dir, "Tom_Cruise", 5)))
    assert (known["face_verified"], known["student_id"]) == (True, "tom")
    assert known["faces"][0]["person_name"] == "Tom Cruise"
    stranger = analyze(api, in_webcam_frame(photo(identities_dir, "Winona_Ryder", 1)))
    assert stranger["face_verified"] is None and stranger["student_id"] is None
    assert "UNKNOWN_PERSON" in codes(stranger)


def test_group_photo_counts_every_face(api: TestClient, identities_dir: Path) -> None:
    people = ["Tom_Cruise", "Jennifer_Aniston", "Pete_Sampras"]
    group = side_by_side([photo(identities_dir, name, 2) for name in people])
    result = analyze(api, group)
    assert result["face_count"] == 3
    assert "MULTIPLE_FACES" in codes(result)
    names = [face["person_name"] for face in result["faces"]]
    assert names.count("Tom Cruise") == 1 and names.count(None) == 2


def test_empty_scene_raises_no_face(api: TestClient) -> None:
    result = analyze(api, np.full((480, 640, 3), 90, np.uint8), student_id="tom")
    assert result["face_detected"] is False and result["face_count"] == 0
    assert result["face_verified"] is False
    assert "NO_FACE" in codes(result)


def test_base64_and_multipart_agree(api: TestClient, identities_dir: Path) -> None:
    frame = in_webcam_frame(photo(identities_dir, "Tom_Cruise", 4))
    multipart = analyze(api, frame, student_id="tom")
    text = "data:image/jpeg;base64," + base64.b64encode(jpeg(frame)).decode()
    response = api.post("/analyze_frame_base64", json={"image": text, "student_id": "tom"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["faces"] == multipart["faces"]
    assert result["face_verified"] is True and result["match_score"] == multipart["match_score"]


def test_large_frames_report_original_pixel_coordinates(
    api: TestClient, identities_dir: Path
) -> None:
    frame = in_webcam_frame(photo(identities_dir, "Tom_Cruise", 3))
    big = cv2.resize(frame, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)  # 1920x1440
    small_box = analyze(api, frame)["faces"][0]["box"]
    result = analyze(api, big)
    assert result["image"] == {"width": 1920, "height": 1440}
    big_box = result["faces"][0]["box"]
    for key in ("x_min", "y_min", "x_max", "y_max"):
        assert big_box[key] == pytest.approx(3 * small_box[key], abs=12)


def test_unknown_claimed_student_is_404(api: TestClient, identities_dir: Path) -> None:
    response = api.post(
        "/analyze_frame",
        data={"student_id": "ghost"},
        files={"file": ("f.jpg", jpeg(photo(identities_dir, "Tom_Cruise", 2)), "image/jpeg")},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "student_not_found"


def test_concurrent_requests_share_the_models_safely(api: TestClient, identities_dir: Path) -> None:
    frames = [in_webcam_frame(photo(identities_dir, "Tom_Cruise", n)) for n in (2, 3, 4, 5)]
    expected = [analyze(api, frame, student_id="tom")["match_score"] for frame in frames]
    with ThreadPoolExecutor(max_workers=8) as pool:
        scores = list(
            pool.map(
                lambda i: analyze(api, frames[i % 4], student_id="tom")["match_score"], range(16)
            )
        )
    assert scores == [expected[i % 4] for i in range(16)]
