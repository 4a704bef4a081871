"""Exam attempts: their frames (alert codes only), the incidents derived from them, reviews
and evidence.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempts",
        sa.Column("attempt_id", sa.String(), primary_key=True),
        sa.Column("exam_id", sa.String(), nullable=True),
        sa.Column("student_id", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("last_frame_at", sa.Float(), nullable=False),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=False),
        sa.Column("reviewed_risk_score", sa.Float(), nullable=False),
        sa.Column("tracker", sa.Text(), nullable=False),
    )
    op.create_index("attempts_by_exam_risk", "attempts", ["exam_id", "risk_score"])
    op.create_index("ix_attempts_student_id", "attempts", ["student_id"])
    op.create_table(
        "attempt_frames",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "attempt_id",
            sa.String(),
            sa.ForeignKey("attempts.attempt_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("captured_at", sa.Float(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("codes", sa.Text(), nullable=False),
        sa.UniqueConstraint("attempt_id", "seq", name="attempt_frames_seq"),
    )
    op.create_index("ix_attempt_frames_attempt_id", "attempt_frames", ["attempt_id"])
    op.create_table(
        "incidents",
        sa.Column(
            "attempt_id",
            sa.String(),
            sa.ForeignKey("attempts.attempt_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=True),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("peak_confidence", sa.Float(), nullable=False),
        sa.Column("opened_frame_id", sa.BigInteger(), nullable=False),
        sa.Column("peak_frame_id", sa.BigInteger(), nullable=False),
        sa.Column("verdict", sa.String(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.Float(), nullable=True),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "attempt_id",
            sa.String(),
            sa.ForeignKey("attempts.attempt_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("frame_id", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("attempt_id", "incident_id", "kind", name="evidence_kind"),
    )
    op.create_index("ix_evidence_attempt_id", "evidence", ["attempt_id"])


def downgrade() -> None:
    op.drop_table("evidence")
    op.drop_table("incidents")
    op.drop_table("attempt_frames")
    op.drop_table("attempts")
