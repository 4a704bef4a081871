"""Enrolled students: names and face embeddings (never photos).

Every write is one transaction that also moves the ``gallery`` change counter, so a crash
mid-enrollment leaves the store as it was, and every process holding an in-memory gallery
(``GalleryCache``) sees that it is stale. Each embedding records the embedder that made it:
embeddings of different backends are not comparable, so a gallery only ever holds the
current backend's vectors.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from proctor.accommodations import normalise
from proctor.errors import InvalidStudentError, StudentExistsError, StudentNotFoundError
from proctor.gallery import Gallery
from proctor.store.db import Database
from proctor.store.schema import CounterRow, EmbeddingRow, StudentRow

GALLERY_COUNTER = "gallery"


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str
    created_at: str
    updated_at: str
    face_count: int
    accommodations: tuple[str, ...] = ()


@dataclass(frozen=True)
class StudentRules:
    """What a student id and name may be (from the settings)."""

    id_pattern: str
    max_name_length: int

    def check(self, student_id: str, name: str | None = None) -> None:
        if not re.fullmatch(self.id_pattern, student_id):
            raise InvalidStudentError(
                f"student_id {student_id!r} does not match the pattern {self.id_pattern}"
            )
        if name is not None and not (0 < len(name.strip()) <= self.max_name_length):
            raise InvalidStudentError(f"name must be 1-{self.max_name_length} characters")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StudentStore:
    def __init__(self, db: Database, rules: StudentRules) -> None:
        self.db = db
        self.rules = rules

    def create(
        self,
        student_id: str,
        name: str,
        embeddings: list[np.ndarray],
        model: str,
        sources: list[str] | None = None,
        accommodations: Iterable[str] = (),
    ) -> Student:
        self.rules.check(student_id, name)
        listed = _encode(normalise(accommodations))
        with self.db.write() as session:
            now = _now()
            # Insert-if-absent rather than look-then-insert: on PostgreSQL two concurrent
            # enrollments of one id both see it absent, and the second insert would fail with
            # a unique violation; this way it waits for the first and inserts nothing.
            inserted = session.execute(
                self.db.insert_ignoring_duplicates(StudentRow.__table__).values(
                    student_id=student_id,
                    name=name.strip(),
                    created_at=now,
                    updated_at=now,
                    accommodations=listed,
                )
            )
            if not inserted.rowcount:
                raise StudentExistsError(f"student {student_id!r} is already enrolled")
            self._add_embeddings(session, student_id, embeddings, model, sources, now)
        return self.get(student_id)

    def add_faces(
        self,
        student_id: str,
        embeddings: list[np.ndarray],
        model: str,
        sources: list[str] | None = None,
    ) -> Student:
        with self.db.write() as session:
            # Locked, so a concurrent delete on PostgreSQL waits (or happened first: 404)
            # instead of leaving these embeddings without their student.
            row = session.get(StudentRow, student_id, with_for_update=True)
            if row is None:
                raise StudentNotFoundError(f"student {student_id!r} is not enrolled")
            now = _now()
            row.updated_at = now
            self._add_embeddings(session, student_id, embeddings, model, sources, now)
        return self.get(student_id)

    def set_accommodations(self, student_id: str, accommodations: Iterable[str]) -> Student:
        """Replace the student's accommodations (known names, each once) in one statement.

        The gallery counter does not move: accommodations are no part of the gallery, and are
        read from the store for every claimed frame (``accommodations``)."""
        listed = _encode(normalise(accommodations))
        with self.db.write() as session:
            changed = session.execute(
                update(StudentRow)
                .where(StudentRow.student_id == student_id)
                .values(accommodations=listed, updated_at=_now())
            )
            if not changed.rowcount:
                raise StudentNotFoundError(f"student {student_id!r} is not enrolled")
        return self.get(student_id)

    def accommodations(self, student_id: str) -> tuple[str, ...]:
        """The student's accommodations: one primary-key read, made for every claimed frame."""
        with self.db.read() as session:
            listed = session.scalar(
                select(StudentRow.accommodations).where(StudentRow.student_id == student_id)
            )
        if listed is None:
            raise StudentNotFoundError(f"student {student_id!r} is not enrolled")
        return _decode(listed)

    def delete(self, student_id: str) -> None:
        """Remove the student and every embedding of theirs."""
        with self.db.write() as session:
            session.execute(delete(EmbeddingRow).where(EmbeddingRow.student_id == student_id))
            deleted = session.execute(delete(StudentRow).where(StudentRow.student_id == student_id))
            if not deleted.rowcount:
                raise StudentNotFoundError(f"student {student_id!r} is not enrolled")
            _bump(session)

    def get(self, student_id: str) -> Student:
        found = self._select(student_id)
        if not found:
            raise StudentNotFoundError(f"student {student_id!r} is not enrolled")
        return found[0]

    def exists(self, student_id: str) -> bool:
        with self.db.read() as session:
            return session.get(StudentRow, student_id) is not None

    def list(self) -> list[Student]:
        return self._select(None)

    def count(self) -> int:
        with self.db.read() as session:
            return session.scalar(select(func.count()).select_from(StudentRow)) or 0

    def embedding_models(self) -> dict[str, int]:
        """Each embedder the store holds embeddings of, with how many students it covers."""
        with self.db.read() as session:
            rows = session.execute(
                select(
                    EmbeddingRow.model, func.count(func.distinct(EmbeddingRow.student_id))
                ).group_by(EmbeddingRow.model)
            ).all()
        return {model: count for model, count in rows}

    def gallery_version(self) -> int:
        """The change counter every student write moves."""
        with self.db.read() as session:
            return (
                session.scalar(select(CounterRow.value).where(CounterRow.name == GALLERY_COUNTER))
                or 0
            )

    def gallery(self, model: str) -> Gallery:
        """Every embedding of ``model`` with its student, as one snapshot."""
        with self.db.read() as session:
            version = (
                session.scalar(select(CounterRow.value).where(CounterRow.name == GALLERY_COUNTER))
                or 0
            )
            rows = session.execute(
                select(EmbeddingRow.student_id, StudentRow.name, EmbeddingRow.vector)
                .join(StudentRow, StudentRow.student_id == EmbeddingRow.student_id)
                .where(EmbeddingRow.model == model)
            ).all()
        return Gallery.from_rows(
            model,
            version,
            [(sid, name, np.frombuffer(blob, np.float32)) for sid, name, blob in rows],
        )

    @staticmethod
    def _add_embeddings(
        session: Session,
        student_id: str,
        embeddings: list[np.ndarray],
        model: str,
        sources: list[str] | None,
        now: str,
    ) -> None:
        labels = sources or [None] * len(embeddings)
        session.add_all(
            EmbeddingRow(
                student_id=student_id,
                model=model,
                vector=np.asarray(vector, np.float32).tobytes(),
                source=label,
                created_at=now,
            )
            for vector, label in zip(embeddings, labels, strict=True)
        )
        _bump(session)

    def _select(self, student_id: str | None) -> list[Student]:
        query = (
            select(
                StudentRow.student_id,
                StudentRow.name,
                StudentRow.created_at,
                StudentRow.updated_at,
                func.count(EmbeddingRow.id),
                StudentRow.accommodations,
            )
            .outerjoin(EmbeddingRow, EmbeddingRow.student_id == StudentRow.student_id)
            .group_by(StudentRow.student_id)
            .order_by(StudentRow.student_id)
        )
        if student_id is not None:
            query = query.where(StudentRow.student_id == student_id)
        with self.db.read() as session:
            rows = session.execute(query).all()
        return [Student(*row[:-1], accommodations=_decode(row[-1])) for row in rows]


def _encode(accommodations: tuple[str, ...]) -> str:
    return json.dumps(list(accommodations))


def _decode(listed: str) -> tuple[str, ...]:
    return tuple(json.loads(listed))


def _bump(session: Session) -> None:
    session.execute(
        update(CounterRow)
        .where(CounterRow.name == GALLERY_COUNTER)
        .values(value=CounterRow.value + 1)
    )


class GalleryCache:
    """The current gallery of one embedder, reloaded only when the store's counter moved.

    ``current()`` costs one small query per call; several processes on one database each
    keep their own cache and all notice every write.
    """

    def __init__(self, store: StudentStore, model: str) -> None:
        self.store = store
        self.model = model
        self._lock = threading.Lock()
        self._gallery = Gallery(model, -1)

    def current(self) -> Gallery:
        version = self.store.gallery_version()
        if version == self._gallery.version:
            return self._gallery
        with self._lock:
            if self._gallery.version != version:
                self._gallery = self.store.gallery(self.model)
            return self._gallery
