"""Two replicas of the service on one PostgreSQL, as behind a load balancer: real ``uvicorn
app:app`` processes that share nothing but the database. One attempt's frames go to both in
turn, some at the same moment, and the attempt must come out exactly as when one process on a
fresh database received them all; a student enrolled through one replica is verified by the
other."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest

from proctor.api.main import create_app
from tests.api.test_engines import enroll, post_frame
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, local_client, photo
from tests.postgres import Cluster
from tests.server import Server

ANALYZERS = ["faces", "identity", "objects"]
#: One ONNX Runtime thread everywhere, so every process computes bit-identical verdicts.
ONNX_THREADS = 1
STARTUP_S = 300.0
#: Frames 0-5 the student, 6-13 a phone held up (someone else), 14-23 the student again.
PHONE_SEQS = range(6, 14)
FRAMES = 24
#: Frames sent at the same moment, half to each replica (the rest go one at a time).
TOGETHER = ({8, 9, 10, 11}, {14, 15, 16, 17})


def replica_env(url: str) -> dict[str, str]:
    """A replica is configured only through the environment, as in a deployment."""
    return {
        "PROCTOR_DATABASE_URL": url,
        "PROCTOR_ANALYZERS": json.dumps(ANALYZERS),
        "PROCTOR_ONNX_THREADS": str(ONNX_THREADS),
    }


@pytest.fixture
def replicas(postgres: Cluster, tmp_path: Path) -> Iterator[list[httpx2.Client]]:
    """Two replicas started together on one new database (so they also migrate it together);
    stopped, and the database dropped, whatever happens."""
    require_models(*FACE_MODELS)
    database = postgres.create_database()
    started: list[Server] = []
    clients: list[httpx2.Client] = []
    try:
        started = [Server(tmp_path, replica_env(postgres.url(database))) for _ in range(2)]
        for replica in started:
            replica.wait_until_healthy(STARTUP_S)
            clients.append(httpx2.Client(base_url=replica.url, timeout=120))
        yield clients
    finally:
        for client in clients:
            client.close()
        for replica in started:
            replica.stop()
        postgres.drop_database(database)


@pytest.fixture
def frames(identities_dir: Path, eval_dir: Path) -> list[bytes]:
    """The attempt's frames by seq: real photos of the student in a webcam frame, and real
    webcam frames of a phone held up to the camera."""
    student = [jpeg(in_webcam_frame(photo(identities_dir, "Tom_Cruise", n))) for n in (2, 3)]
    dataset = eval_dir / "exam_objects"
    coco = json.loads((dataset / "annotations.json").read_text())
    phone = next(c["id"] for c in coco["categories"] if c["name"] == "cell phone")
    with_phone = {a["image_id"] for a in coco["annotations"] if a["category_id"] == phone}
    names = sorted(i["file_name"] for i in coco["images"] if i["id"] in with_phone)
    phones = [(dataset / "images" / name).read_bytes() for name in names[: len(PHONE_SEQS)]]
    return [
        phones[seq - PHONE_SEQS.start] if seq in PHONE_SEQS else student[seq % 2]
        for seq in range(FRAMES)
    ]


def outcome(report: dict) -> dict:
    """What the attempt came to: its incidents (code, start, end, frames) and risk."""
    return {
        "frames": report["frames"],
        "incidents": [(i["code"], i["start"], i["end"], i["frames"]) for i in report["incidents"]],
        "risk_score": report["risk_score"],
        "totals": report["totals"],
    }


def send(clients: list[Any], frames: list[bytes], seqs: list[int]) -> None:
    """These frames at once (latest first, so some arrive out of order), each to replica
    ``seq % 2``; every one must be recorded."""
    with ThreadPoolExecutor(len(seqs)) as pool:
        answers = pool.map(
            lambda seq: post_frame(
                clients[seq % len(clients)], frames[seq], "att-r", seq, student_id="tom"
            ),
            sorted(seqs, reverse=True),
        )
        assert all(answer["attempt"]["recorded"] for answer in answers)


def test_two_replicas_on_one_database_act_as_one_service(
    replicas: list[httpx2.Client],
    postgres_url: str,
    frames: list[bytes],
    identities_dir: Path,
    tmp_path: Path,
) -> None:
    a, b = replicas
    enrollment_photo = jpeg(photo(identities_dir, "Tom_Cruise", 1))
    # b holds its in-memory gallery (empty) before the student is enrolled through a.
    unknown = b.post("/analyze_frame", files={"file": ("f.jpg", frames[0], "image/jpeg")})
    assert unknown.json()["face_verified"] is None
    enroll(a, "tom", "Tom Cruise", enrollment_photo)
    verified = b.post(
        "/analyze_frame",
        data={"student_id": "tom"},
        files={"file": ("f.jpg", frames[0], "image/jpeg")},
    ).json()
    assert verified["face_verified"] is True and verified["student_id"] == "tom"

    batches: list[list[int]] = []
    for seq in range(FRAMES):
        group = next((g for g in TOGETHER if seq in g), {seq})
        if seq == min(group):
            batches.append(sorted(group))
    for batch in batches:
        send(replicas, frames, batch)
    replicated = [outcome(client.get("/attempts/att-r").json()) for client in replicas]

    settings = make_settings(
        tmp_path, database_url=postgres_url, analyzers=ANALYZERS, onnx_threads=ONNX_THREADS
    )
    with local_client(create_app(settings)) as single:
        enroll(single, "tom", "Tom Cruise", enrollment_photo)
        for seq in range(FRAMES):
            post_frame(single, frames[seq], "att-r", seq, student_id="tom")
        alone = outcome(single.get("/attempts/att-r").json())

    assert replicated == [alone, alone]
    assert alone["frames"] == FRAMES
    codes = {code for code, *_ in alone["incidents"]}
    assert {"BANNED_OBJECT", "FACE_MISMATCH"} <= codes  # the phone episode was seen
    assert alone["risk_score"] > 0
