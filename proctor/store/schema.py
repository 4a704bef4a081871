"""The store's tables (SQLAlchemy 2 declarative). Alembic migrations under ``migrations/``
create and evolve them; a test checks the two agree.

Timestamps of the student tables are ISO 8601 text, as the first SQLite store wrote them, so
existing databases migrate without rewriting rows; the attempt tables hold Unix seconds (the
API turns them into ISO 8601).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: The largest value a ``BigInteger`` column (and SQL's ``OFFSET``) holds on both engines; the
#: API refuses larger numbers before they reach the database driver, which would raise.
BIGINT_MAX = 2**63 - 1


class Base(DeclarativeBase):
    pass


class StudentRow(Base):
    __tablename__ = "students"

    student_id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String, nullable=False)
    created_at: Mapped[str] = mapped_column(String, nullable=False)
    updated_at: Mapped[str] = mapped_column(String, nullable=False)
    # JSON list of accommodation names (proctor.accommodations), sorted, each once.
    accommodations: Mapped[str] = mapped_column(
        Text, nullable=False, default="[]", server_default="[]"
    )


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


class AttemptRow(Base):
    """One exam attempt: who, which exam, its frames' incident state and its risk."""

    __tablename__ = "attempts"
    __table_args__ = (Index("attempts_by_exam_risk", "exam_id", "risk_score"),)

    attempt_id: Mapped[str] = mapped_column(String, primary_key=True)
    exam_id: Mapped[str | None] = mapped_column(String, nullable=True)
    student_id: Mapped[str | None] = mapped_column(String, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String, nullable=False)  # active | ended
    started_at: Mapped[float] = mapped_column(Float, nullable=False)  # first frame, Unix s
    last_frame_at: Mapped[float] = mapped_column(Float, nullable=False)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    frames: Mapped[int] = mapped_column(Integer, nullable=False)
    risk_score: Mapped[float] = mapped_column(Float, nullable=False)
    reviewed_risk_score: Mapped[float] = mapped_column(Float, nullable=False)
    tracker: Mapped[str] = mapped_column(Text, nullable=False)  # JSON state of the tracker


class FrameRow(Base):
    """One recorded frame: when it was captured, which alert codes it raised and where the
    primary face pointed (no pixels)."""

    __tablename__ = "attempt_frames"
    __table_args__ = (
        UniqueConstraint("attempt_id", "seq", name="attempt_frames_seq"),
        # Every frame of an attempt reads its first measured frames (the neutral pose): in
        # capture order without sorting the attempt's frames.
        Index("attempt_frames_by_capture", "attempt_id", "captured_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    attempt_id: Mapped[str] = mapped_column(
        String, ForeignKey("attempts.attempt_id", ondelete="CASCADE"), nullable=False, index=True
    )
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    captured_at: Mapped[float] = mapped_column(Float, nullable=False)
    received_at: Mapped[float] = mapped_column(Float, nullable=False)
    codes: Mapped[str] = mapped_column(Text, nullable=False)  # JSON {code: [severity, conf]}
    # The primary face's angles (proctor.geometry.neutral): measurements, never pixels.
    head_yaw_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    head_pitch_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    gaze_yaw_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    gaze_pitch_deg: Mapped[float | None] = mapped_column(Float, nullable=True)


class IncidentRow(Base):
    """An incident as the tracker derived it, plus the reviewer's verdict on it."""

    __tablename__ = "incidents"

    attempt_id: Mapped[str] = mapped_column(
        String, ForeignKey("attempts.attempt_id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String, primary_key=True)
    code: Mapped[str] = mapped_column(String, nullable=False)
    severity: Mapped[str] = mapped_column(String, nullable=False)
    start: Mapped[float] = mapped_column(Float, nullable=False)
    end: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_seen: Mapped[float] = mapped_column(Float, nullable=False)
    frames: Mapped[int] = mapped_column(Integer, nullable=False)
    peak_confidence: Mapped[float] = mapped_column(Float, nullable=False)
    opened_frame_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    peak_frame_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    verdict: Mapped[str | None] = mapped_column(String, nullable=True)  # confirmed | dismissed
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class EvidenceRow(Base):
    """A stored evidence JPEG (only when evidence is switched on)."""

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("attempt_id", "incident_id", "kind", name="evidence_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    attempt_id: Mapped[str] = mapped_column(
        String, ForeignKey("attempts.attempt_id", ondelete="CASCADE"), nullable=False, index=True
    )
    incident_id: Mapped[str] = mapped_column(String, nullable=False)
    kind: Mapped[str] = mapped_column(String, nullable=False)  # open | peak
    frame_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    path: Mapped[str] = mapped_column(String, nullable=False)  # relative to the evidence folder
    created_at: Mapped[float] = mapped_column(Float, nullable=False)


class ServiceSecretRow(Base):
    """Keys the service generated for itself (the liveness signing key), kept with the data
    so that every replica on the database uses the same one."""

    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class SpentNonceRow(Base):
    """A liveness challenge that has been answered, kept until its token expires so that the
    token is refused on replay; the only state a challenge leaves."""

    __tablename__ = "liveness_spent_nonces"

    nonce: Mapped[str] = mapped_column(String, primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)  # Unix s
