"""The store's database: one SQLAlchemy engine, migrated to the newest schema on open.

SQLite (the embedded default) runs in WAL mode with foreign keys on; read transactions
begin deferred and write transactions ``BEGIN IMMEDIATE``, so concurrent writers queue on
the database lock instead of failing halfway, and a crash leaves every transaction either
whole or absent. On PostgreSQL (``postgresql+psycopg://…``) read transactions run
``REPEATABLE READ``, so a read of several statements sees one snapshot as it does on SQLite
(the default, ``READ COMMITTED``, gives every statement its own); write transactions keep
``READ COMMITTED`` and take row locks (``SELECT ... FOR UPDATE``) where SQLite's single
writer lock serialised them, so each statement after a lock sees what the previous holder
committed, and no write ever fails with a serialisation error.

Migrations are Alembic's (``proctor/store/migrations``). A database made by the first
release (the same tables, no ``alembic_version``) is stamped as revision 0001 and upgraded,
so nothing in it is lost.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.dml import Insert

MIGRATIONS = Path(__file__).with_name("migrations")
#: The revision whose tables equal the first release's hand-written SQLite schema.
LEGACY_REVISION = "0001"
_IMMEDIATE = "proctor_immediate"
#: How long a SQLite connection waits for another's lock before it gives up.
SQLITE_TIMEOUT_S = 30.0


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds the lock: SQLite
    answers "database is locked" at once, without its busy timeout, when processes opening a
    new database together switch its journal mode at the same moment."""
    deadline = time.monotonic() + SQLITE_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_TIMEOUT_S, "check_same_thread": False},
        pool_size=pool_size,
        max_overflow=0,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """The engine, its sessions, and the migration step, for one database URL."""

    def __init__(self, url: str, pool_size: int = 40) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self.engine = (
            _sqlite_engine(url, pool_size)
            if self.dialect == "sqlite"
            else create_engine(
                url,
                pool_pre_ping=True,
                pool_size=min(10, pool_size),
                max_overflow=max(0, pool_size - 10),
            )
        )
        self._writer = self.engine.execution_options(**{_IMMEDIATE: True})
        reader = (
            self.engine.execution_options(isolation_level="REPEATABLE READ")
            if self.dialect == "postgresql"
            else self.engine
        )
        self._read_sessions = sessionmaker(reader, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._writer, expire_on_commit=False)

    def migrate(self) -> None:
        """Bring the schema to the newest revision (a no-op when it is already there)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._writer.begin() as connection:
            if self.dialect == "postgresql":
                # Replicas starting together take turns; the lock ends with the transaction.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7457630)")
            config.attributes["connection"] = connection
            tables = set(inspect(connection).get_table_names())
            if "students" in tables and "alembic_version" not in tables:
                command.stamp(config, LEGACY_REVISION)
            command.upgrade(config, "head")

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading: a consistent snapshot, no locks taken."""
        with self._read_sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One atomic write transaction: all of it lands, or none of it."""
        with self._write_sessions() as session, session.begin():
            yield session

    def insert_ignoring_duplicates(self, table: Table) -> Insert:
        """``INSERT ... ON CONFLICT DO NOTHING`` in this database's dialect (both support it).
        Its result's ``rowcount`` says whether the row went in (0: it already existed), which
        SQLAlchemy only keeps for an INSERT when asked to (psycopg reports -1 otherwise)."""
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return (
            dialect.insert(table).on_conflict_do_nothing().execution_options(preserve_rowcount=True)
        )

    def dispose(self) -> None:
        self.engine.dispose()
