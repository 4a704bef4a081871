"""StudentStore: CRUD, per-model galleries, atomic writes, concurrency, persistence, the
change counter, migrations (replicas starting together) and the migration of a first-release
database. Every test but the first-release one runs on both engines (``database_url``)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from proctor.errors import InvalidStudentError, StudentExistsError, StudentNotFoundError
from proctor.store.db import MIGRATIONS, Database
from proctor.store.schema import Base
from proctor.store.students import GalleryCache, StudentRules, StudentStore
from tests.conftest import ROOT

RULES = StudentRules(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$", 200)


def unit(seed: int, dim: int = 8) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def open_store(url: str) -> StudentStore:
    database = Database(url)
    database.migrate()
    return StudentStore(database, RULES)


@pytest.fixture
def store(database_url: str) -> StudentStore:
    return open_store(database_url)


def test_create_get_list_delete(store: StudentStore) -> None:
    created = store.create("s1", "Ada Lovelace", [unit(1), unit(2)], "m")
    assert (created.student_id, created.name, created.face_count) == ("s1", "Ada Lovelace", 2)
    store.create("s0", "Alan Turing", [unit(3)], "m")
    assert [s.student_id for s in store.list()] == ["s0", "s1"]
    assert store.count() == 2 and store.exists("s0")
    store.delete("s1")
    with pytest.raises(StudentNotFoundError):
        store.get("s1")
    assert store.gallery("m").student_ids == ("s0",)
    assert not store.exists("s1")


def test_duplicate_id_is_refused_and_keeps_the_original(store: StudentStore) -> None:
    store.create("s1", "First", [unit(1)], "m")
    with pytest.raises(StudentExistsError):
        store.create("s1", "Second", [unit(2)], "m")
    assert store.get("s1").name == "First"
    assert store.get("s1").face_count == 1


def test_add_faces_and_missing_student(store: StudentStore) -> None:
    store.create("s1", "Ada", [unit(1)], "m")
    assert store.add_faces("s1", [unit(2), unit(3)], "m").face_count == 3
    with pytest.raises(StudentNotFoundError):
        store.add_faces("nobody", [unit(4)], "m")
    with pytest.raises(StudentNotFoundError):
        store.delete("nobody")


def test_gallery_is_per_model_and_grouped_by_student(store: StudentStore) -> None:
    store.create("b", "B", [unit(2)], "model-y")
    store.create("a", "A", [unit(1)], "model-x")
    store.add_faces("a", [unit(3), unit(4)], "model-y")
    gallery = store.gallery("model-y")
    assert gallery.student_ids == ("a", "b") and gallery.names == ("A", "B")
    assert gallery.vectors.shape == (3, 8)
    # A student's score is their best photo: face = unit(4) matches a's second photo exactly.
    scores = gallery.similarities(unit(4)[None])
    assert scores.shape == (1, 2)
    assert scores[0, 0] == pytest.approx(1.0)
    assert scores[0, 1] == pytest.approx(float(unit(4) @ unit(2)))
    assert len(store.gallery("other")) == 0


@pytest.mark.parametrize(
    ("student_id", "name"),
    [("", "x"), ("a b", "x"), ("-a", "x"), ("a" * 65, "x"), ("ok", ""), ("ok", "  ")],
)
def test_invalid_ids_and_names(store: StudentStore, student_id: str, name: str) -> None:
    with pytest.raises(InvalidStudentError):
        store.create(student_id, name, [unit(1)], "m")


def test_a_failed_write_leaves_no_trace(store: StudentStore) -> None:
    version = store.gallery_version()
    # Two embeddings but one source label: the insert fails after the student row is written.
    with pytest.raises(ValueError):
        store.create("s1", "Ada", [unit(1), unit(2)], "m", sources=["only-one"])
    assert store.list() == []
    assert store.gallery_version() == version
    with store.db.read() as session:
        assert session.scalar(text("SELECT COUNT(*) FROM embeddings")) == 0


def test_concurrent_enrolls_from_separate_connections_all_land(
    store: StudentStore, database_url: str
) -> None:
    errors: list[BaseException] = []

    def enroll(i: int) -> None:
        try:
            open_store(database_url).create(f"s{i:02d}", f"Student {i}", [unit(i)] * 3, "m")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=enroll, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count() == 16
    assert store.gallery("m").vectors.shape == (48, 8)
    assert store.gallery_version() == 16


def test_concurrent_duplicate_enrolls_create_one_student(store: StudentStore) -> None:
    outcomes: list[str] = []

    def enroll(i: int) -> None:
        try:
            store.create("same", f"Writer {i}", [unit(i)], "m")
            outcomes.append("created")
        except StudentExistsError:
            outcomes.append("exists")

    threads = [threading.Thread(target=enroll, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] + ["exists"] * 7
    assert store.get("same").face_count == 1


def test_a_read_sees_one_snapshot(store: StudentStore, database_url: str) -> None:
    """A read of several statements (a gallery and its version, an attempt and its incidents)
    must not see a write that commits in between, on either engine."""
    store.create("s1", "Ada", [unit(1)], "m")
    with store.db.read() as session:
        before = session.scalar(text("SELECT COUNT(*) FROM students"))
        open_store(database_url).create("s2", "Alan", [unit(2)], "m")
        after = session.scalar(text("SELECT COUNT(*) FROM students"))
    assert before == after == 1
    assert store.count() == 2


def test_data_survives_a_restart(database_url: str) -> None:
    open_store(database_url).create("s1", "Ada", [unit(1)], "m")
    reopened = open_store(database_url)
    assert reopened.get("s1").name == "Ada"
    assert np.allclose(reopened.gallery("m").vectors[0], unit(1))


def test_every_write_moves_the_counter_and_the_cache_follows(store: StudentStore) -> None:
    cache = GalleryCache(store, "m")
    first = cache.current()
    assert len(first) == 0 and cache.current() is first  # unchanged store: same snapshot
    store.create("s1", "Ada", [unit(1)], "m")
    after_create = cache.current()
    assert after_create.student_ids == ("s1",) and after_create.version > first.version
    store.add_faces("s1", [unit(2)], "m")
    assert cache.current().vectors.shape == (2, 8)
    store.delete("s1")
    assert len(cache.current()) == 0


def test_another_process_writing_is_noticed(store: StudentStore, database_url: str) -> None:
    """Two processes on one database: the cache of one sees the other's enrollment."""
    cache = GalleryCache(store, "m")
    assert len(cache.current()) == 0
    writer = f"""
from tests.store.test_students import open_store, unit
open_store({database_url!r}).create("elsewhere", "Written elsewhere", [unit(7)], "m")
"""
    subprocess.run([sys.executable, "-c", writer], cwd=ROOT, check=True, timeout=120)
    assert cache.current().student_ids == ("elsewhere",)


LEGACY_SCHEMA = """
CREATE TABLE students (
    student_id TEXT PRIMARY KEY, name TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE embeddings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id TEXT NOT NULL REFERENCES students(student_id) ON DELETE CASCADE,
    model TEXT NOT NULL, vector BLOB NOT NULL, source TEXT, created_at TEXT NOT NULL
);
CREATE INDEX embeddings_by_model ON embeddings(model, student_id);
"""


def test_a_first_release_database_migrates_without_loss(tmp_path: Path) -> None:
    """The first release was SQLite only: its files must open with nothing lost."""
    path = tmp_path / "students.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(LEGACY_SCHEMA)
        stamp = "2026-11-25T10:00:00+00:00"
        conn.execute("INSERT INTO students VALUES ('old-1', 'Grace Hopper', ?, ?)", (stamp, stamp))
        conn.executemany(
            "INSERT INTO embeddings (student_id, model, vector, source, created_at) "
            "VALUES ('old-1', 'm', ?, ?, ?)",
            [(unit(1).tobytes(), "a.jpg", stamp), (unit(2).tobytes(), "b.jpg", stamp)],
        )
    store = open_store(f"sqlite:///{path}")
    student = store.get("old-1")
    assert (student.name, student.face_count, student.created_at) == ("Grace Hopper", 2, stamp)
    assert np.allclose(store.gallery("m").vectors, np.stack([unit(1), unit(2)]))
    store.add_faces("old-1", [unit(3)], "m")  # and it is writable, counter included
    assert store.get("old-1").face_count == 3 and store.gallery_version() == 1


def test_migrations_build_exactly_the_declared_schema(store: StudentStore) -> None:
    with store.db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_replicas_starting_together_migrate_once(database_url: str) -> None:
    """Several processes opening one new database at once (replicas behind a load balancer)
    take turns: every one starts, and the schema is built exactly once."""
    starting = threading.Barrier(4)
    errors: list[BaseException] = []

    def start() -> None:
        database = Database(database_url)
        try:
            starting.wait()
            database.migrate()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = open_store(database_url)
    with store.db.read() as session:
        versions = session.scalars(text("SELECT version_num FROM alembic_version")).all()
        counters = session.scalars(text("SELECT name FROM store_counters")).all()
    assert versions == [ScriptDirectory(str(MIGRATIONS)).get_current_head()]
    assert counters == ["gallery"]
    assert store.create("s1", "Ada", [unit(1)], "m").face_count == 1
