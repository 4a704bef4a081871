"""``DELETE /students/{id}`` removes every trace of the student, checked in the database
itself on both engines: their row and embeddings, and every attempt they sat with its frames,
incidents and evidence (rows and files), while everyone else's data stays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

from proctor.api.main import create_app
from tests.api.test_engines import enroll, post_frame
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, local_client, photo

#: Every table that may hold a student's data, and the column that ties a row to an attempt.
ATTEMPT_TABLES = ("attempt_frames", "incidents", "evidence")


def rows_of(database_url: str, student_id: str) -> dict[str, int]:
    """How many rows of each table belong to the student (directly or through an attempt)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as db:
            owned = {"student_id": student_id}
            counts = {
                table: db.execute(
                    text(f"SELECT count(*) FROM {table} WHERE student_id = :student_id"), owned
                ).scalar_one()
                for table in ("students", "embeddings", "attempts")
            }
            for table in ATTEMPT_TABLES:
                counts[table] = db.execute(
                    text(
                        f"SELECT count(*) FROM {table} WHERE attempt_id IN "
                        "(SELECT attempt_id FROM attempts WHERE student_id = :student_id) "
                        "OR attempt_id LIKE :prefix"
                    ),
                    {**owned, "prefix": f"{student_id}-%"},
                ).scalar_one()
            return counts
    finally:
        engine.dispose()


def test_deleting_a_student_leaves_no_trace(
    database_url: str, tmp_path: Path, identities_dir: Path
) -> None:
    require_models(*FACE_MODELS)
    evidence_dir = tmp_path / "evidence"
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        analyzers=["faces", "identity"],
        attempts={"evidence": True, "evidence_dir": evidence_dir},
    )
    empty_desk = jpeg(np.full((480, 640, 3), 90, np.uint8))  # no face: NO_FACE opens
    with local_client(create_app(settings)) as client:
        for student_id, person in (("tom", "Tom_Cruise"), ("hugh", "Hugh_Grant")):
            face = jpeg(in_webcam_frame(photo(identities_dir, person, 1)))
            enroll(client, student_id, person, face)
            for seq in range(5):
                post_frame(client, empty_desk, f"{student_id}-exam", seq, student_id=student_id)
        before = rows_of(database_url, "tom")
        assert all(before.values()), before  # every kind of row exists, evidence included
        assert (evidence_dir / "tom-exam").is_dir()

        answer = client.delete("/students/tom")
        assert answer.status_code == 200 and "1 attempt" in answer.json()["message"]

        assert rows_of(database_url, "tom") == dict.fromkeys(before, 0)
        assert not (evidence_dir / "tom-exam").exists()
        assert client.get("/attempts/tom-exam").status_code == 404
        assert client.get("/students/tom").status_code == 404
        assert all(rows_of(database_url, "hugh").values())  # the others' data is untouched
        assert (evidence_dir / "hugh-exam").is_dir()
        assert client.delete("/students/tom").json()["code"] == "student_not_found"
