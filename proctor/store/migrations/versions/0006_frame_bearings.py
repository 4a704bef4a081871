"""Each recorded frame keeps the primary face's head and gaze angles, so an attempt's first
frames can fix the student's neutral pose (``proctor.geometry.neutral``), read in capture
order through an index.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = ("head_yaw_deg", "head_pitch_deg", "gaze_yaw_deg", "gaze_pitch_deg")


def upgrade() -> None:
    for name in COLUMNS:  # nullable: added in place, no table copy on SQLite
        op.add_column("attempt_frames", sa.Column(name, sa.Float(), nullable=True))
    op.create_index(
        "attempt_frames_by_capture", "attempt_frames", ["attempt_id", "captured_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("attempt_frames_by_capture", "attempt_frames")
    # A batch: SQLite before 3.35 cannot drop a column in place.
    with op.batch_alter_table("attempt_frames") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
