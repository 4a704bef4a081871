"""Persistence (SQLAlchemy 2 + Alembic; SQLite embedded, PostgreSQL for replicas)."""
