"""/students endpoints and the bulk-import CLI, with the real models on real photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from fastapi.testclient import TestClient

from proctor.__main__ import import_folder
from proctor.api.main import create_app
from proctor.models.faces.backends import EMBEDDER_MODELS
from proctor.services import build_services
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, local_client, photo, side_by_side


def enroll(client: TestClient, student_id: str, name: str, *images: bytes):
    files = [("images", (f"img{i}.jpg", data, "image/jpeg")) for i, data in enumerate(images)]
    return client.post("/students", data={"student_id": student_id, "name": name}, files=files)


def test_enroll_list_get_add_delete(client: TestClient, identities_dir: Path) -> None:
    ada = [jpeg(photo(identities_dir, "Julianne_Moore", n)) for n in (1, 2)]
    created = enroll(client, "jm-1", "Julianne Moore", *ada)
    assert created.status_code == 201, created.text
    assert created.json()["face_count"] == 2
    assert client.get("/students").json()["count"] == 1
    assert client.get("/students/jm-1").json()["name"] == "Julianne Moore"
    more = client.post(
        "/students/jm-1/faces",
        files={"images": ("x.jpg", jpeg(photo(identities_dir, "Julianne_Moore", 3)), "image/jpeg")},
    )
    assert more.status_code == 200 and more.json()["face_count"] == 3
    assert enroll(client, "jm-1", "Again", ada[0]).status_code == 409
    assert client.delete("/students/jm-1").status_code == 200
    assert client.get("/students/jm-1").status_code == 404
    assert client.delete("/students/jm-1").status_code == 404
    assert client.get("/students").json() == {"students": [], "count": 0}


def test_enrollment_photo_without_a_face_names_the_image(
    client: TestClient, identities_dir: Path
) -> None:
    good = jpeg(photo(identities_dir, "Mike_Weir", 1))
    empty = jpeg(np.full((300, 300, 3), 200, np.uint8))
    response = enroll(client, "mw", "Mike Weir", good, empty)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "enrollment_image_rejected"
    assert "image 2" in body["detail"] and "no face" in body["detail"]
    assert client.get("/students").json()["count"] == 0  # nothing half-enrolled


def test_enrollment_photo_with_two_faces_is_refused(
    client: TestClient, identities_dir: Path
) -> None:
    pair = side_by_side(
        [photo(identities_dir, "Mike_Weir", 1), photo(identities_dir, "Tim_Henman", 1)]
    )
    response = enroll(client, "mw", "Mike Weir", jpeg(pair))
    assert response.status_code == 422
    assert "2 faces" in response.json()["detail"]


def test_enrollment_input_errors(client: TestClient, identities_dir: Path) -> None:
    good = jpeg(photo(identities_dir, "Mike_Weir", 1))
    assert enroll(client, "bad id!", "X", good).status_code == 422
    assert enroll(client, "ok", "", good).status_code == 422
    assert client.post("/students", data={"student_id": "a", "name": "A"}).status_code == 422
    not_image = client.post(
        "/students",
        data={"student_id": "a", "name": "A"},
        files={"images": ("a.txt", b"text", "text/plain")},
    )
    assert not_image.status_code == 415
    broken = enroll(client, "a", "A", b"garbage")
    assert broken.status_code == 422 and "image 1" in broken.json()["detail"]
    assert (
        client.post(
            "/students/nobody/faces", files={"images": ("a.jpg", good, "image/jpeg")}
        ).status_code
        == 404
    )


def test_cli_import_both_layouts(tmp_path: Path, identities_dir: Path) -> None:
    require_models(*FACE_MODELS)
    folder = tmp_path / "photos"
    (folder / "s-100").mkdir(parents=True)
    for n in (1, 2):
        cv2.imwrite(str(folder / "s-100" / f"{n}.jpg"), photo(identities_dir, "Tom_Cruise", n))
    cv2.imwrite(
        str(folder / "Hugh_Grant.jpg"), in_webcam_frame(photo(identities_dir, "Hugh_Grant", 1))
    )
    cv2.imwrite(str(folder / "nobody.jpg"), np.full((200, 200, 3), 40, np.uint8))
    services = build_services(make_settings(tmp_path))
    done, failed = import_folder(services, folder, {"s-100": "Tom Cruise"})
    assert (done, failed) == (2, 1)
    students = {s.student_id: s for s in services.students.list()}
    assert students["s-100"].name == "Tom Cruise" and students["s-100"].face_count == 2
    assert students["Hugh_Grant"].name == "Hugh Grant"
    assert "nobody" not in students
    # Importing again adds photos to existing students instead of failing.
    assert import_folder(services, folder, {}) == (2, 1)
    assert services.students.get("s-100").face_count == 4


def test_a_student_enrolled_under_another_embedder_is_a_409(
    tmp_path: Path, identities_dir: Path
) -> None:
    """404 and 409 are the API's decisions: the analyzer only sees a gallery."""
    require_models(*FACE_MODELS)
    settings = make_settings(tmp_path, analyzers=["faces", "identity"])
    frame = jpeg(in_webcam_frame(photo(identities_dir, "Tom_Cruise", 2)))
    with local_client(create_app(settings)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        other = next(name for name in EMBEDDER_MODELS if name != settings.face_embedder)
        services.students.create("old", "Enrolled Long Ago", [np.ones(128, np.float32)], other)
        answer = client.post(
            "/analyze_frame",
            data={"student_id": "old"},
            files={"file": ("f.jpg", frame, "image/jpeg")},
        )
        assert answer.status_code == 409
        assert answer.json()["code"] == "student_not_enrolled_for_model"
        unknown = client.post(
            "/analyze_frame", data={"student_id": "nobody"}, files={"file": ("f.jpg", frame)}
        )
        assert (unknown.status_code, unknown.json()["code"]) == (404, "student_not_found")
        assert client.get("/health").json()["students"] == 1


def test_two_apps_on_one_database_see_each_others_enrollments(
    tmp_path: Path, identities_dir: Path
) -> None:
    """Replicas keep no state: an enrollment through one is verified through the other."""
    require_models(*FACE_MODELS)
    settings = make_settings(tmp_path, analyzers=["faces", "identity"])
    frame = jpeg(in_webcam_frame(photo(identities_dir, "Tom_Cruise", 2)))
    with local_client(create_app(settings)) as first, local_client(create_app(settings)) as second:
        before = second.post("/analyze_frame", files={"file": ("f.jpg", frame, "image/jpeg")})
        assert before.json()["face_verified"] is None  # nobody enrolled yet
        created = enroll(first, "tc", "Tom Cruise", jpeg(photo(identities_dir, "Tom_Cruise", 1)))
        assert created.status_code == 201
        after = second.post(
            "/analyze_frame", data={"student_id": "tc"}, files={"file": ("f.jpg", frame)}
        )
        assert after.status_code == 200 and after.json()["face_verified"] is True
        assert first.delete("/students/tc").status_code == 200
        gone = second.post(
            "/analyze_frame", data={"student_id": "tc"}, files={"file": ("f.jpg", frame)}
        )
        assert gone.status_code == 404
