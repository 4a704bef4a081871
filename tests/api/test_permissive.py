"""The permissive-licence set (YuNet + SFace, no YOLO) works end to end on real photos."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from proctor.api.main import create_app
from tests.conftest import make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, photo


def test_permissive_only_verifies_and_rejects(tmp_path: Path, identities_dir: Path) -> None:
    require_models("face_detection_yunet", "face_recognition_sface")
    settings = make_settings(tmp_path, permissive_only=True, analyzers=["faces", "identity"])
    with TestClient(create_app(settings)) as client:
        health = client.get("/health").json()
        assert (health["face_detector"], health["face_embedder"]) == ("yunet", "sface")
        loaded = [m for m in health["models"] if m["loaded"]]
        assert loaded and all(m["permissive"] for m in loaded)
        created = client.post(
            "/students",
            data={"student_id": "jl", "name": "Jennifer Lopez"},
            files={
                "images": ("a.jpg", jpeg(photo(identities_dir, "Jennifer_Lopez", 1)), "image/jpeg")
            },
        )
        assert created.status_code == 201, created.text

        def verify(person: str, number: int) -> dict:
            frame = jpeg(in_webcam_frame(photo(identities_dir, person, number)))
            response = client.post(
                "/analyze_frame",
                data={"student_id": "jl"},
                files={"file": ("f.jpg", frame, "image/jpeg")},
            )
            assert response.status_code == 200, response.text
            return response.json()

        same = verify("Jennifer_Lopez", 4)
        assert same["face_verified"] is True and same["person_name"] == "Jennifer Lopez"
        other = verify("Mariah_Carey", 2)
        assert other["face_verified"] is False
        assert "FACE_MISMATCH" in {a["code"] for a in other["alerts"]}
