"""Enrolled students: names and face embeddings (never photos) in one SQLite file.

Every write is one ``BEGIN IMMEDIATE`` transaction, so a crash mid-enrollment leaves
the store as it was, and concurrent writers queue instead of corrupting each other.
Each embedding records the model that made it: embeddings of different backends are
not comparable, so matching only ever uses the current backend's vectors.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from proctor.errors import ProctorError, StudentExistsError, StudentNotFoundError

STUDENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MAX_NAME_LENGTH = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS students (
    student_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS embeddings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id TEXT NOT NULL REFERENCES students(student_id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    vector BLOB NOT NULL,
    source TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS embeddings_by_model ON embeddings(model, student_id);
"""


class InvalidStudentError(ProctorError):
    status_code = 422
    code = "invalid_student"


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str
    created_at: str
    updated_at: str
    face_count: int


@dataclass(frozen=True)
class Gallery:
    """All embeddings of one model: row ``i`` of ``vectors`` belongs to ``student_ids[i]``."""

    student_ids: list[str]
    names: dict[str, str]
    vectors: np.ndarray  # (N, dim) float32, L2-normalised


def validate_student(student_id: str, name: str | None = None) -> None:
    if not STUDENT_ID_PATTERN.match(student_id):
        raise InvalidStudentError(
            "student_id must be 1-64 characters: letters, digits, '_', '.', '@', '-', "
            "starting with a letter or digit"
        )
    if name is not None and not (0 < len(name.strip()) <= MAX_NAME_LENGTH):
        raise InvalidStudentError(f"name must be 1-{MAX_NAME_LENGTH} characters")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StudentStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction: all of it lands, or none of it."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def create(
        self,
        student_id: str,
        name: str,
        embeddings: list[np.ndarray],
        model: str,
        sources: list[str] | None = None,
    ) -> Student:
        validate_student(student_id, name)
        with self._write() as conn:
            if self._exists(conn, student_id):
                raise StudentExistsError(
                    f"student {student_id!r} is already enrolled; add "
                    f"images with POST /students/{student_id}/faces"
                )
            now = _now()
            conn.execute(
                "INSERT INTO students VALUES (?, ?, ?, ?)", (student_id, name.strip(), now, now)
            )
            self._insert_embeddings(conn, student_id, embeddings, model, sources, now)
        return self.get(student_id)

    def add_faces(
        self,
        student_id: str,
        embeddings: list[np.ndarray],
        model: str,
        sources: list[str] | None = None,
    ) -> Student:
        with self._write() as conn:
            if not self._exists(conn, student_id):
                raise StudentNotFoundError(f"student {student_id!r} is not enrolled")
            now = _now()
            self._insert_embeddings(conn, student_id, embeddings, model, sources, now)
            conn.execute(
                "UPDATE students SET updated_at = ? WHERE student_id = ?", (now, student_id)
            )
        return self.get(student_id)

    def delete(self, student_id: str) -> None:
        with self._write() as conn:
            deleted = conn.execute(
                "DELETE FROM students WHERE student_id = ?", (student_id,)
            ).rowcount
        if not deleted:
            raise StudentNotFoundError(f"student {student_id!r} is not enrolled")

    def get(self, student_id: str) -> Student:
        found = self._select("WHERE s.student_id = ?", (student_id,))
        if not found:
            raise StudentNotFoundError(f"student {student_id!r} is not enrolled")
        return found[0]

    def list(self) -> list[Student]:
        return self._select("", ())

    def gallery(self, model: str, student_id: str | None = None) -> Gallery:
        """Embeddings of ``model`` (of one student, or of everyone)."""
        query = (
            "SELECT e.student_id, s.name, e.vector FROM embeddings e "
            "JOIN students s USING (student_id) WHERE e.model = ?"
        )
        params: tuple[str, ...] = (model,)
        if student_id is not None:
            query += " AND e.student_id = ?"
            params += (student_id,)
        with self._connect() as conn:
            rows = conn.execute(query + " ORDER BY e.id", params).fetchall()
        if not rows:
            return Gallery([], {}, np.zeros((0, 0), np.float32))
        vectors = np.stack([np.frombuffer(blob, np.float32) for _, _, blob in rows])
        return Gallery([r[0] for r in rows], {r[0]: r[1] for r in rows}, vectors)

    @staticmethod
    def _exists(conn: sqlite3.Connection, student_id: str) -> bool:
        return (
            conn.execute("SELECT 1 FROM students WHERE student_id = ?", (student_id,)).fetchone()
            is not None
        )

    @staticmethod
    def _insert_embeddings(
        conn: sqlite3.Connection,
        student_id: str,
        embeddings: list[np.ndarray],
        model: str,
        sources: list[str] | None,
        now: str,
    ) -> None:
        labels = sources or [None] * len(embeddings)
        conn.executemany(
            "INSERT INTO embeddings (student_id, model, vector, source, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (student_id, model, np.asarray(vector, np.float32).tobytes(), label, now)
                for vector, label in zip(embeddings, labels, strict=True)
            ],
        )

    def _select(self, where: str, params: tuple[str, ...]) -> list[Student]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT s.student_id, s.name, s.created_at, s.updated_at, COUNT(e.id) "
                f"FROM students s LEFT JOIN embeddings e USING (student_id) {where} "
                "GROUP BY s.student_id ORDER BY s.student_id",
                params,
            ).fetchall()
        return [Student(*row) for row in rows]
