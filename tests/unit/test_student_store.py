"""StudentStore: CRUD, per-model galleries, atomic writes, concurrency, persistence."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from proctor.errors import StudentExistsError, StudentNotFoundError
from proctor.store.students import InvalidStudentError, StudentStore


def unit(seed: int, dim: int = 8) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def store(tmp_path: Path) -> StudentStore:
    return StudentStore(tmp_path / "db" / "students.sqlite3")


def test_create_get_list_delete(store: StudentStore) -> None:
    created = store.create("s1", "Ada Lovelace", [unit(1), unit(2)], "m")
    assert (created.student_id, created.name, created.face_count) == ("s1", "Ada Lovelace", 2)
    store.create("s0", "Alan Turing", [unit(3)], "m")
    assert [s.student_id for s in store.list()] == ["s0", "s1"]
    store.delete("s1")
    with pytest.raises(StudentNotFoundError):
        store.get("s1")
    assert store.gallery("m").student_ids == ["s0"]


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


def test_gallery_is_per_model_and_per_student(store: StudentStore) -> None:
    store.create("a", "A", [unit(1)], "model-x")
    store.create("b", "B", [unit(2)], "model-y")
    store.add_faces("a", [unit(3)], "model-y")
    gallery = store.gallery("model-y")
    assert gallery.student_ids == ["b", "a"]
    assert np.allclose(gallery.vectors[1], unit(3))
    assert store.gallery("model-y", "a").student_ids == ["a"]
    assert store.gallery("other").vectors.shape[0] == 0


@pytest.mark.parametrize(
    ("student_id", "name"),
    [("", "x"), ("a b", "x"), ("-a", "x"), ("a" * 65, "x"), ("ok", ""), ("ok", "  ")],
)
def test_invalid_ids_and_names(store: StudentStore, student_id: str, name: str) -> None:
    with pytest.raises(InvalidStudentError):
        store.create(student_id, name, [unit(1)], "m")


def test_a_failed_write_leaves_no_trace(store: StudentStore) -> None:
    # Two embeddings but one source label: the insert fails after the student row is written.
    with pytest.raises(ValueError):
        store.create("s1", "Ada", [unit(1), unit(2)], "m", sources=["only-one"])
    assert store.list() == []
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM embeddings").fetchone() == (0,)


def test_concurrent_enrolls_all_land(store: StudentStore) -> None:
    errors: list[BaseException] = []

    def enroll(i: int) -> None:
        try:
            StudentStore(store.path).create(f"s{i:02d}", f"Student {i}", [unit(i)] * 3, "m")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=enroll, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.list()) == 16
    assert store.gallery("m").vectors.shape == (48, 8)


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


def test_data_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "students.sqlite3"
    StudentStore(path).create("s1", "Ada", [unit(1)], "m")
    reopened = StudentStore(path)
    assert reopened.get("s1").name == "Ada"
    assert np.allclose(reopened.gallery("m").vectors[0], unit(1))
