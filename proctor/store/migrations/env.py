"""Alembic environment: runs on the connection ``Database.migrate`` hands over (inside its
transaction and, on PostgreSQL, its advisory lock)."""

from __future__ import annotations

from alembic import context

from proctor.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
