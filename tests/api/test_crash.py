"""kill -9 of the server during a burst of attempt frames: every acknowledged frame is stored
and no incident is half-written (the stored incidents are exactly what replaying the stored
frames gives)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx2
import numpy as np

from proctor.attempts.incidents import Observation, replay
from proctor.services import scoring
from proctor.settings import Settings
from proctor.store.db import Database
from proctor.store.schema import FrameRow, IncidentRow
from tests.conftest import FACE_MODELS, TEST_RULES, require_models
from tests.helpers import jpeg
from tests.server import Server, running_server


def test_kill_minus_9_mid_burst_loses_no_acknowledged_frame(tmp_path: Path) -> None:
    require_models(FACE_MODELS[0])
    db_file = tmp_path / "store.sqlite3"
    env = {"PROCTOR_STUDENT_DB": str(db_file), "PROCTOR_ANALYZERS": '["faces"]'}
    empty_room = jpeg(np.full((240, 320, 3), 100, np.uint8))  # NO_FACE on every frame
    acknowledged: list[int] = []
    server = Server(tmp_path, env)
    try:
        server.wait_until_healthy()

        def client(first: int) -> None:
            with httpx2.Client(base_url=server.url, timeout=30) as http:
                for seq in range(first, 100_000, 4):
                    try:
                        answer = http.post(
                            "/analyze_frame",
                            data={
                                "attempt_id": "burst",
                                "seq": str(seq),
                                "captured_at": str(1_800_000_000 + seq),
                            },
                            files={"file": ("f.jpg", empty_room, "image/jpeg")},
                        )
                    except httpx2.TransportError:
                        return  # the server is gone
                    if answer.status_code == 200 and answer.json()["attempt"]["recorded"]:
                        acknowledged.append(seq)

        clients = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for thread in clients:
            thread.start()
        while len(acknowledged) < 40:
            threading.Event().wait(0.05)
        server.kill()
        for thread in clients:
            thread.join()
    finally:
        server.stop()

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
