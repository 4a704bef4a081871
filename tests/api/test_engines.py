"""The API on both store engines (``database_url``: SQLite and PostgreSQL), with the real models
on real photos: enroll, verify a claim, record an attempt's frames (a repeat, a late frame),
the report, a review, the ranking, ending, deleting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from proctor.api.main import create_app
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, local_client, photo

T0 = 1_800_000_000.0


def post_frame(client: Any, data: bytes, attempt_id: str, seq: int, **form: str) -> dict:
    """One attempt frame, captured ``seq`` seconds after T0 (``client``: a TestClient or an
    httpx2 client of a running server; both post forms the same way)."""
    fields = {"attempt_id": attempt_id, "exam_id": "exam-1", "seq": str(seq)}
    fields["captured_at"] = str(T0 + seq)
    fields.update(form)
    answer = client.post(
        "/analyze_frame", data=fields, files={"file": ("f.jpg", data, "image/jpeg")}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def enroll(client: Any, student_id: str, name: str, *images: bytes) -> dict:
    files = [("images", (f"{i}.jpg", data, "image/jpeg")) for i, data in enumerate(images)]
    answer = client.post("/students", data={"student_id": student_id, "name": name}, files=files)
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    require_models(*FACE_MODELS)
    settings = make_settings(tmp_path, database_url=database_url, analyzers=["faces", "identity"])
    with local_client(create_app(settings)) as test_client:
        yield test_client


def test_students_attempts_and_reviews(client: TestClient, identities_dir: Path) -> None:
    tom = [jpeg(in_webcam_frame(photo(identities_dir, "Tom_Cruise", n))) for n in (1, 2, 3)]
    assert enroll(client, "tom", "Tom Cruise", tom[0], tom[1])["face_count"] == 2
    impostor = jpeg(in_webcam_frame(photo(identities_dir, "Hugh_Grant", 1)))
    verified = client.post(
        "/analyze_frame",
        data={"student_id": "tom"},
        files={"file": ("f.jpg", tom[2], "image/jpeg")},
    ).json()
    assert verified["face_verified"] is True and verified["person_name"] == "Tom Cruise"
    refused = client.post(
        "/analyze_frame",
        data={"student_id": "tom"},
        files={"file": ("f.jpg", impostor, "image/jpeg")},
    ).json()
    assert refused["face_verified"] is False
    assert "FACE_MISMATCH" in [a["code"] for a in refused["alerts"]]

    # An attempt, a frame a second: the student, an empty room (seq 4-9), the student again.
    # One frame arrives late (seq 6 after seq 9) and one is sent twice.
    empty_room = jpeg(np.full((480, 640, 3), (90, 110, 120), np.uint8))
    order = [0, 1, 2, 3, 4, 5, 7, 8, 9, 6, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    for seq in order:
        data = empty_room if 4 <= seq < 10 else tom[2]
        assert post_frame(client, data, "att-1", seq, student_id="tom")["attempt"]["recorded"]
    repeated = post_frame(client, tom[2], "att-1", 3, student_id="tom")["attempt"]
    assert (repeated["recorded"], repeated["frames"]) == (False, 20)
    for seq in range(10):
        post_frame(client, tom[2], "att-clean", seq, student_id="tom")

    report = client.get("/attempts/att-1").json()
    assert (report["frames"], report["status"], report["student_id"]) == (20, "active", "tom")
    (incident,) = report["incidents"]
    assert (incident["code"], incident["frames"], incident["duration_s"]) == ("NO_FACE", 6, 5.0)
    assert 0 < report["risk_score"] == report["reviewed_risk_score"]
    ranked = client.get("/attempts", params={"exam_id": "exam-1"}).json()
    assert [a["attempt_id"] for a in ranked["attempts"]] == ["att-1", "att-clean"]
    assert ranked["total"] == 2

    dismissed = client.post(
        f"/attempts/att-1/incidents/{incident['id']}/review",
        json={"verdict": "dismissed", "note": "lights went out"},
    )
    assert dismissed.json()["review"]["verdict"] == "dismissed"
    reviewed = client.get("/attempts/att-1").json()
    assert reviewed["reviewed_risk_score"] == 0 < reviewed["risk_score"]

    assert client.post("/attempts/att-1/end").json()["status"] == "ended"
    late = client.post(
        "/analyze_frame",
        data={"attempt_id": "att-1", "exam_id": "exam-1", "student_id": "tom"},
        files={"file": ("f.jpg", tom[2], "image/jpeg")},
    )
    assert (late.status_code, late.json()["code"]) == (409, "attempt_ended")
    assert client.delete("/attempts/att-1").status_code == 200
    assert client.get("/attempts/att-1").status_code == 404
    assert client.get("/attempts").json()["total"] == 1

    assert client.delete("/students/tom").status_code == 200
    gone = client.post(
        "/analyze_frame",
        data={"student_id": "tom"},
        files={"file": ("f.jpg", tom[2], "image/jpeg")},
    )
    assert gone.status_code == 404
    assert client.get("/students").json() == {"students": [], "count": 0}
