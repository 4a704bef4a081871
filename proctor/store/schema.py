"""The store's tables (SQLAlchemy 2 declarative). Alembic migrations under ``migrations/``
create and evolve them; a test checks the two agree.

Timestamps of the student tables are ISO 8601 text, as the first SQLite store wrote them, so
existing databases migrate without rewriting rows.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class StudentRow(Base):
    __tablename__ = "students"

    student_id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String, nullable=False)
    created_at: Mapped[str] = mapped_column(String, nullable=False)
    updated_at: Mapped[str] = mapped_column(String, nullable=False)


class EmbeddingRow(Base):
    """One enrolled face: the vector of one photo under one embedder (never the photo)."""

    __tablename__ = "embeddings"
    __table_args__ = (Index("embeddings_by_model", "model", "student_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(
        String, ForeignKey("students.student_id", ondelete="CASCADE"), nullable=False
    )
    model: Mapped[str] = mapped_column(String, nullable=False)
    vector: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    source: Mapped[str | None] = mapped_column(String, nullable=True)
    created_at: Mapped[str] = mapped_column(String, nullable=False)


class CounterRow(Base):
    """Named change counters. ``gallery`` moves with every write to students or embeddings,
    in the same transaction, so every process on the database sees when its in-memory
    gallery is stale."""

    __tablename__ = "store_counters"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
