"""Liveness challenges: the generated signing key and the spent nonces.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "liveness_spent_nonces",
        sa.Column("nonce", sa.String(), primary_key=True),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_liveness_spent_nonces_expires_at", "liveness_spent_nonces", ["expires_at"])


def downgrade() -> None:
    op.drop_table("liveness_spent_nonces")
    op.drop_table("service_secrets")
