"""A throwaway PostgreSQL cluster for the tests, from Debian's ``postgresql`` package.

The store runs on SQLite or PostgreSQL, and only a real server shows what PostgreSQL does
differently (isolation, row locks, types), so the PostgreSQL variants of the tests start one:
``initdb`` into a temporary folder, ``pg_ctl`` on a free loopback port with the unix socket
in that folder, trust authentication (nothing but this machine's tests can reach it), and
durability switched off because the data is thrown away. ``initdb`` refuses to run as root,
so as root both run as the ``postgres`` system user, in a folder it owns. One cluster serves
the whole session; each test gets a database of its own.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from tools.server import free_port

#: The superuser initdb creates; the tests connect as it over TCP with trust authentication.
SUPERUSER = "postgres"
#: Durability off (the cluster is deleted afterwards), so databases are made and migrated fast.
SERVER_OPTIONS = ("-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")


class PostgresNotInstalled(Exception):
    """PostgreSQL is not installed here (the tests that need it skip); says what installs it."""


def find_bin_dir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: Debian's newest ``/usr/lib/postgresql/N/bin``
    (not on PATH there), else wherever PATH has them."""
    debian = [Path(path).parent for path in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    versioned = [path for path in debian if path.parent.name.isdigit()]
    if versioned:
        return max(versioned, key=lambda path: int(path.parent.name))
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl", path=str(Path(initdb).parent)):
        return Path(initdb).parent
    return None


@dataclass
class Cluster:
    """A running server: its folder, port and the command prefix that runs its tools."""

    root: Path
    port: int
    bin_dir: Path
    as_owner: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one database (the form ``PROCTOR_DATABASE_URL`` takes)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database with a unique name; returns the name."""
        name = f"test_{uuid.uuid4().hex[:16]}"
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        """Drop it even while connections (pools the test left behind) are still open."""
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def stop(self) -> None:
        """Stop the server (fast shutdown: no waiting for clients) and delete its folder."""
        try:
            self.run_tool("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _admin(self, statement: sql.Composed) -> None:
        conninfo = f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(statement)

    def run_tool(self, tool: str, *args: str) -> None:
        """Run one of the server's programs as the cluster's owner; RuntimeError if it fails."""
        command = [*self.as_owner, str(self.bin_dir / tool), *args]
        # In its own folder: the owner may not be allowed into the current one.
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.root / "server.log"
            server_log = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise RuntimeError(
                f"{tool} failed ({done.returncode}): {done.stderr.strip()}\n{server_log}"
            )


def start_cluster() -> Cluster:
    """initdb + pg_ctl start in a new temporary folder. Raises PostgresNotInstalled when
    there is nothing to start, RuntimeError when an installed PostgreSQL fails to start."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise PostgresNotInstalled(
            "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin or on "
            "PATH): apt-get install -y postgresql (.ci/run does)"
        )
    as_owner: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(SUPERUSER)
        except KeyError:
            raise PostgresNotInstalled(
                "running as root, and initdb refuses root, but there is no 'postgres' user "
                "to run it as (Debian's postgresql package creates one)"
            ) from None
        runuser = shutil.which("runuser")
        if runuser is None:
            raise PostgresNotInstalled("running as root without runuser to drop to 'postgres'")
        as_owner = [runuser, "-u", SUPERUSER, "--"]
    root = Path(tempfile.mkdtemp(prefix="proctor-pg-"))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    cluster = Cluster(root, free_port(), bin_dir, as_owner)
    try:
        cluster.run_tool(
            "initdb",
            "-D", str(cluster.data),
            "-U", SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )  # fmt: skip
        options = " ".join(
            (
                "-c listen_addresses=127.0.0.1",
                f"-p {cluster.port}",
                f"-c unix_socket_directories={root}",
                *SERVER_OPTIONS,
            )
        )
        log = str(root / "server.log")
        cluster.run_tool("pg_ctl", "start", "-D", str(cluster.data), "-l", log, "-o", options, "-w")
    except BaseException:
        with contextlib.suppress(RuntimeError):  # nothing to stop when it never started
            cluster.stop()
        raise
    return cluster
