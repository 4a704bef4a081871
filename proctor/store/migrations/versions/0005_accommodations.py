"""Students' accommodations: a JSON list of names, empty for every existing student.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "students", sa.Column("accommodations", sa.Text(), nullable=False, server_default="[]")
    )


def downgrade() -> None:
    # A batch: SQLite before 3.35 cannot drop a column in place.
    with op.batch_alter_table("students") as batch:
        batch.drop_column("accommodations")
