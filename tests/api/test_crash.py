"""kill -9 of the server during a burst of concurrent writes, then a restart: the database
opens, every write the server acknowledged is stored, and none is half-written. Attempt frames:
no incident is half-written (the stored incidents are exactly what replaying the stored frames
gives). Enrollments: every stored student has all the embeddings of its photos, and no
embedding is left without its student (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx2
import numpy as np

from proctor.attempts.incidents import Observation, replay
from proctor.services import scoring
from proctor.settings import Settings
from proctor.store.db import Database
from proctor.store.schema import EmbeddingRow, FrameRow, IncidentRow, StudentRow
from tests.conftest import FACE_MODELS, TEST_RULES, require_models
from tests.helpers import jpeg
from tests.server import Server, running_server

#: Client threads of a burst.
CLIENTS = 4


def burst_until_killed(
    workdir: Path,
    env: dict[str, str],
    send: Callable[[httpx2.Client, int], bool],
    acknowledged_before_kill: int,
) -> list[int]:
    """A server under ``env``, and ``CLIENTS`` threads calling ``send`` with the numbers 0, 1,
    2... (each thread its share) until the server is killed with SIGKILL, which happens once
    ``acknowledged_before_kill`` sends were acknowledged (``send`` returned True); the
    acknowledged numbers."""
    acknowledged: list[int] = []
    server = Server(workdir, env)

    def client(first: int) -> None:
        with httpx2.Client(base_url=server.url, timeout=30) as http:
            for number in range(first, 100_000, CLIENTS):
                try:
                    if send(http, number):
                        acknowledged.append(number)
                except httpx2.TransportError:
                    return  # the server is gone

    try:
        server.wait_until_healthy()
        clients = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for thread in clients:
            thread.start()
        while len(acknowledged) < acknowledged_before_kill and any(t.is_alive() for t in clients):
            threading.Event().wait(0.05)
        server.kill()
        for thread in clients:
            thread.join()
    finally:
        server.stop()
    assert len(acknowledged) >= acknowledged_before_kill, server.log()
    return acknowledged


def test_kill_minus_9_mid_burst_loses_no_acknowledged_frame(tmp_path: Path) -> None:
    require_models(FACE_MODELS[0])
    db_file = tmp_path / "store.sqlite3"
    env = {"PROCTOR_STUDENT_DB": str(db_file), "PROCTOR_ANALYZERS": '["faces"]'}
    empty_room = jpeg(np.full((240, 320, 3), 100, np.uint8))  # NO_FACE on every frame

    def send_frame(http: httpx2.Client, seq: int) -> bool:
        answer = http.post(
            "/analyze_frame",
            data={"attempt_id": "burst", "seq": str(seq), "captured_at": str(1_800_000_000 + seq)},
            files={"file": ("f.jpg", empty_room, "image/jpeg")},
        )
        return answer.status_code == 200 and answer.json()["attempt"]["recorded"]

    acknowledged = burst_until_killed(tmp_path, env, send_frame, 40)

    database = Database(f"sqlite:///{db_file}")
    database.migrate()  # the database opens after the crash
    with database.read() as session:
        frames = session.query(FrameRow).all()
        incidents = session.query(IncidentRow).all()
    stored = {f.seq for f in frames}
    assert set(acknowledged) <= stored
    replayed = replay(
        "burst",
        scoring(Settings(attempts={"rules": TEST_RULES})).rules,
        [
            Observation(
                f.captured_at, f.seq, f.id, {k: tuple(v) for k, v in json.loads(f.codes).items()}
            )
            for f in frames
        ],
    ).incidents()
    assert [(i.code, i.start, i.frames) for i in replayed] == [
        (i.code, i.start, i.frames) for i in sorted(incidents, key=lambda r: (r.start, r.code))
    ]
    with running_server(tmp_path, env) as restarted:
        report = httpx2.get(f"{restarted.url}/attempts/burst", timeout=30).json()
    assert report["frames"] == len(stored)


#: Photos per enrollment: a half-written one would keep some of them.
PHOTOS = 2


def test_kill_minus_9_mid_enrollments_leaves_every_student_whole(
    database_url: str, tmp_path: Path, identities_dir: Path
) -> None:
    require_models(*FACE_MODELS)
    env = {"PROCTOR_DATABASE_URL": database_url, "PROCTOR_ANALYZERS": '["faces", "identity"]'}
    people = sorted(path for path in identities_dir.iterdir() if path.is_dir())
    photos = [[p.read_bytes() for p in sorted(person.glob("*.jpg"))[:PHOTOS]] for person in people]

    def enroll(http: httpx2.Client, number: int) -> bool:
        """Student ``crash-<number>`` from one person's real photos (people taken in turn)."""
        answer = http.post(
            "/students",
            data={"student_id": f"crash-{number}", "name": f"Crash {number}"},
            files=[
                ("images", (f"{i}.jpg", p, "image/jpeg"))
                for i, p in enumerate(photos[number % len(photos)])
            ],
        )
        return answer.status_code == 201

    acknowledged = burst_until_killed(tmp_path, env, enroll, 12)

    database = Database(database_url)
    database.migrate()  # the database opens after the crash
    with database.read() as session:
        students = {row.student_id for row in session.query(StudentRow)}
        faces = Counter(row.student_id for row in session.query(EmbeddingRow))
    assert {f"crash-{number}" for number in acknowledged} <= students
    # Every student with all its embeddings, and no embedding without its student.
    assert faces == dict.fromkeys(students, PHOTOS)
    with running_server(tmp_path, env) as restarted:
        listed = httpx2.get(f"{restarted.url}/students", timeout=30).json()
    assert {s["student_id"]: s["face_count"] for s in listed["students"]} == faces
