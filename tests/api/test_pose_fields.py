"""The head-pose, gaze, mouth and distance fields through the HTTP API, and /health."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import require_models
from tests.helpers import in_webcam_frame, jpeg, photo

MESH_ANALYZERS = ("face_mesh", "head_pose", "gaze", "mouth", "distance")


def test_analyze_frame_reports_pose_gaze_mouth_distance(
    client: TestClient, identities_dir: Path
) -> None:
    require_models("face_landmarks_facemesh", "eye_landmarks_iris")
    image = in_webcam_frame(photo(identities_dir, "Boris_Becker", 1))
    response = client.post(
        "/analyze_frame", files={"file": ("frame.jpg", jpeg(image), "image/jpeg")}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert set(MESH_ANALYZERS) <= set(result["analyzers"])
    assert set(result["head_pose"]) == {
        "yaw_deg",
        "pitch_deg",
        "roll_deg",
        "source",
        "camera_fov_deg",
    }
    assert result["head_pose"]["source"] == "mesh"
    assert result["head_pose"]["camera_fov_deg"] == 60.0  # no EXIF: the configured default
    assert set(result["gaze"]) == {"iris_x", "iris_y", "yaw_deg", "pitch_deg"}
    assert result["headpose_alert"] is False and result["gaze_alert"] is False
    assert result["eyes_closed"] is False and result["mouth_open"] is False
    assert 0.1 < result["eye_openness_ratio"] < 0.4
    assert 0 <= result["mouth_open_ratio"] < 0.3
    assert result["distance_source"] == "iris" and 20 < result["distance_cm"] < 100
    face = result["faces"][0]
    for key in ("head_pose", "gaze", "distance_cm", "mouth_open_ratio", "eye_openness_ratio"):
        assert face[key] == result[key]
    assert face["mesh_score"] > 0.5
    assert all(name in result["timings_ms"] for name in MESH_ANALYZERS)


def test_health_lists_the_mesh_analyzers_and_models(client: TestClient) -> None:
    require_models("face_landmarks_facemesh", "eye_landmarks_iris")
    health = client.get("/health").json()
    analyzers = {a["name"]: a for a in health["analyzers"]}
    for name in MESH_ANALYZERS:
        assert analyzers[name]["enabled"] and analyzers[name]["loaded"], analyzers[name]
    assert analyzers["face_mesh"]["models"] == ["face_landmarks_facemesh", "eye_landmarks_iris"]
    assert analyzers["gaze"]["requires"] == ["face_mesh", "head_pose"]
    models = {m["name"]: m for m in health["models"]}
    for name in ("face_landmarks_facemesh", "eye_landmarks_iris"):
        assert models[name]["loaded"] and models[name]["permissive"]
