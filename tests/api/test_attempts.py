"""Exam attempts through the API with the real models on real photos: incidents over time, the
report, review, end, delete, evidence files, the purge, and the signed webhook."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from proctor.__main__ import main as cli
from proctor.api.main import create_app
from proctor.attempts.webhook import EVENT_HEADER, SIGNATURE_HEADER, verify
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, local_client, photo

T0 = 1_800_000_000.0
ANALYZERS = ["faces", "identity"]


def blank() -> bytes:
    """An empty room: the student has left (NO_FACE on every analyzer set)."""
    return jpeg(np.full((480, 640, 3), (90, 110, 120), np.uint8))


def send(client: TestClient, data: bytes, seq: int, **form: str) -> dict:
    fields = {"attempt_id": "att-1", "exam_id": "exam-1", "seq": str(seq)}
    fields["captured_at"] = str(T0 + 2 * seq)
    fields.update(form)
    answer = client.post(
        "/analyze_frame", data=fields, files={"file": ("f.jpg", data, "image/jpeg")}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def student_frame(identities_dir: Path) -> bytes:
    return jpeg(in_webcam_frame(photo(identities_dir, "Tom_Cruise", 2)))


@pytest.fixture
def client(tmp_path: Path, identities_dir: Path) -> Iterator[TestClient]:
    require_models(*FACE_MODELS)
    settings = make_settings(tmp_path, analyzers=ANALYZERS)
    with local_client(create_app(settings)) as test_client:
        enrolled = test_client.post(
            "/students",
            data={"student_id": "tom", "name": "Tom Cruise"},
            files={"images": ("t.jpg", jpeg(photo(identities_dir, "Tom_Cruise", 1)), "image/jpeg")},
        )
        assert enrolled.status_code == 201
        yield test_client


def test_a_student_who_leaves_for_a_while_is_one_incident(
    client: TestClient, student_frame: bytes
) -> None:
    states = []
    for seq in range(20):
        data = blank() if 5 <= seq < 12 else student_frame
        result = send(client, data, seq, student_id="tom")
        assert result["attempt"]["attempt_id"] == "att-1"
        assert result["attempt"]["frames"] == seq + 1
        states.append([(c["code"], c["state"]) for c in result["attempt"]["incidents"]])
    assert states[:5] == [[]] * 5  # a claimed, verified student raises nothing
    assert ("NO_FACE", "opened") in states[7]  # three frames of four
    assert ("NO_FACE", "closed") in states[14]  # clear for 6 s
    report = client.get("/attempts/att-1").json()
    assert (report["exam_id"], report["student_id"], report["status"]) == (
        "exam-1",
        "tom",
        "active",
    )
    assert report["frames"] == 20
    (incident,) = report["incidents"]
    assert incident["code"] == "NO_FACE" and incident["frames"] == 7
    assert incident["start"].startswith("2027-01-15T08:00:10")
    assert incident["duration_s"] == 12.0 and incident["review"] is None
    assert report["totals"] == {"NO_FACE": {"incidents": 1, "duration_s": 12.0, "frames": 7}}
    assert 0 < report["risk_score"] == report["reviewed_risk_score"] < 100
    assert report["risk_breakdown"] == {"NO_FACE": report["risk_score"]}


def test_repeated_and_late_frames(client: TestClient, student_frame: bytes) -> None:
    send(client, student_frame, 0, student_id="tom")
    again = send(client, student_frame, 0, student_id="tom")
    assert again["attempt"] == {
        "attempt_id": "att-1",
        "frames": 1,
        "recorded": False,
        "incidents": [],
    }
    for seq in (4, 5, 6, 1, 2, 3):  # the student left at seq 1; those frames arrive late
        send(client, blank() if seq < 4 else student_frame, seq, student_id="tom")
    incidents = client.get("/attempts/att-1").json()["incidents"]
    assert [(i["code"], i["frames"]) for i in incidents] == [("NO_FACE", 3)]


def test_nothing_is_stored_without_an_attempt(client: TestClient, student_frame: bytes) -> None:
    answer = client.post("/analyze_frame", files={"file": ("f.jpg", student_frame, "image/jpeg")})
    assert answer.status_code == 200 and answer.json()["attempt"] is None
    assert client.get("/attempts").json()["total"] == 0


def test_attempt_errors_are_json_with_codes(client: TestClient, student_frame: bytes) -> None:
    def code(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
        return response.status_code, response.json()["code"]

    files = {"file": ("f.jpg", student_frame, "image/jpeg")}
    bad_id = client.post("/analyze_frame", data={"attempt_id": "no spaces"}, files=files)
    assert code(bad_id) == (422, "invalid_attempt")
    bad_time = client.post(
        "/analyze_frame", data={"attempt_id": "a", "captured_at": "yesterday"}, files=files
    )
    assert code(bad_time) == (422, "invalid_attempt")
    assert code(client.get("/attempts/none")) == (404, "attempt_not_found")
    send(client, student_frame, 0, student_id="tom")
    review = client.post("/attempts/att-1/incidents/nope/review", json={"verdict": "confirmed"})
    assert code(review) == (404, "incident_not_found")
    other = client.post(
        "/analyze_frame",
        data={"attempt_id": "att-1", "exam_id": "another-exam", "student_id": "tom"},
        files=files,
    )
    assert code(other) == (409, "attempt_mismatch")
    assert client.post("/attempts/att-1/end").json()["status"] == "ended"
    late = client.post(
        "/analyze_frame",
        data={"attempt_id": "att-1", "exam_id": "exam-1", "student_id": "tom"},
        files=files,
    )
    assert code(late) == (409, "attempt_ended")
    assert client.delete("/attempts/att-1").status_code == 200
    assert code(client.delete("/attempts/att-1")) == (404, "attempt_not_found")


def test_review_end_and_ranking(client: TestClient, student_frame: bytes) -> None:
    for seq in range(10):
        send(client, blank() if seq < 6 else student_frame, seq, student_id="tom")
    for seq in range(10):
        send(client, student_frame, seq, student_id="tom", attempt_id="att-clean")
    ranked = client.get("/attempts", params={"exam_id": "exam-1", "order": "risk"}).json()
    assert [a["attempt_id"] for a in ranked["attempts"]] == ["att-1", "att-clean"]
    assert ranked["total"] == 2 and ranked["attempts"][1]["risk_score"] == 0
    incident = client.get("/attempts/att-1").json()["incidents"][0]
    reviewed = client.post(
        f"/attempts/att-1/incidents/{incident['id']}/review",
        json={"verdict": "dismissed", "note": "camera unplugged, checked with the student"},
    ).json()
    assert reviewed["review"]["verdict"] == "dismissed"
    report = client.get("/attempts/att-1").json()
    assert report["reviewed_risk_score"] == 0 < report["risk_score"]
    assert report["incidents"][0]["review"]["note"].startswith("camera unplugged")


def test_evidence_is_drawn_stored_served_expired_and_deleted(
    tmp_path: Path, identities_dir: Path, student_frame: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_models(*FACE_MODELS)
    evidence_dir = tmp_path / "evidence"
    settings = make_settings(
        tmp_path,
        analyzers=ANALYZERS,
        attempts={"evidence": True, "evidence_dir": evidence_dir, "evidence_max_side": 320},
    )
    with local_client(create_app(settings)) as client:
        two_people = jpeg(
            np.hstack(
                [
                    in_webcam_frame(photo(identities_dir, n, 1))[:, 160:480]
                    for n in ("Tom_Cruise", "Hugh_Grant")
                ]
            )
        )
        for seq in range(8):
            send(client, two_people if seq < 5 else student_frame, seq)
        incidents = client.get("/attempts/att-1").json()["incidents"]
        crowd = next(i for i in incidents if i["code"] == "MULTIPLE_PEOPLE")
        listed = client.get(f"/attempts/att-1/incidents/{crowd['id']}/evidence").json()
        kinds = [e["kind"] for e in listed]
        assert kinds in (["open"], ["open", "peak"])  # a peak after opening gets its own file
        image = client.get(listed[0]["url"])
        assert image.headers["content-type"] == "image/jpeg"
        picture = cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_COLOR)
        assert max(picture.shape[:2]) == 320
        assert len(list(evidence_dir.rglob("*.jpg"))) >= 1
        assert client.delete("/attempts/att-1").status_code == 200
        assert list(evidence_dir.rglob("*.jpg")) == []
        for seq in range(8):
            send(client, two_people if seq < 5 else student_frame, seq, attempt_id="att-2")
        assert list(evidence_dir.rglob("*.jpg"))
    # The purge command deletes what is older than the retention, rows and files.
    monkeypatch.setenv("PROCTOR_STUDENT_DB", str(settings.student_db))
    monkeypatch.setenv("PROCTOR_ATTEMPTS__EVIDENCE_DIR", str(evidence_dir))
    monkeypatch.setenv("PROCTOR_ATTEMPTS__EVIDENCE_RETENTION_DAYS", "0.000000001")
    from proctor.settings import get_settings

    get_settings.cache_clear()
    try:
        assert cli(["attempts", "purge"]) == 0
    finally:
        get_settings.cache_clear()
    assert list(evidence_dir.rglob("*.jpg")) == []
    with local_client(create_app(settings)) as client:
        crowd = next(
            i
            for i in client.get("/attempts/att-2").json()["incidents"]
            if i["code"] == "MULTIPLE_PEOPLE"
        )
        assert client.get(f"/attempts/att-2/incidents/{crowd['id']}/evidence").json() == []


class Receiver(http.server.BaseHTTPRequestHandler):
    """A local webhook receiver: fails the first POST, then records; can be held."""

    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    hold = threading.Event()
    failures_left = 1

    def do_POST(self) -> None:
        Receiver.hold.wait(timeout=30)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Receiver.failures_left > 0:
            Receiver.failures_left -= 1
            self.send_response(500)
            self.end_headers()
            return
        Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_webhook_is_signed_retried_and_never_holds_up_frames(
    tmp_path: Path, student_frame: bytes
) -> None:
    require_models(*FACE_MODELS)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.received, Receiver.failures_left = [], 1
    Receiver.hold.clear()  # the receiver hangs until released
    settings = make_settings(
        tmp_path,
        analyzers=ANALYZERS,
        webhook_url=f"http://127.0.0.1:{server.server_address[1]}/hook",
        webhook_secret="s3cret",
    )
    try:
        with local_client(create_app(settings)) as client:
            for seq in range(10):
                send(client, blank() if seq < 6 else student_frame, seq)
            # Every frame was answered while the receiver was still hanging.
            assert Receiver.received == []
            assert client.post("/attempts/att-1/end").status_code == 200
            Receiver.hold.set()
            sender = client.app.state.services.attempts.webhook  # type: ignore[attr-defined]
            for _ in range(200):
                if len(Receiver.received) >= 2:
                    break
                threading.Event().wait(0.1)
            assert sender.failed == 0
    finally:
        server.shutdown()
    events = [(headers[EVENT_HEADER], json.loads(body)) for headers, body in Receiver.received]
    assert [e for e, _ in events] == ["incident.opened", "attempt.ended"]
    assert events[0][1]["code"] == "NO_FACE" and events[1][1]["attempt_id"] == "att-1"
    for headers, body in Receiver.received:
        assert verify("s3cret", headers[SIGNATURE_HEADER], body)
        assert not verify("wrong", headers[SIGNATURE_HEADER], body)
        assert not verify("s3cret", headers[SIGNATURE_HEADER], body + b" ")
