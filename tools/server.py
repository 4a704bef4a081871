"""A real ``uvicorn app:app`` in a subprocess on a free loopback port: the bench's HTTP load
and the tests that need a server process (browsers, replicas, crashes) start it the same way.
Its log is kept, so a failure says why."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]


class ServerError(RuntimeError):
    """The server exited, or did not answer ``/health`` in time (the message has its log)."""


def free_port() -> int:
    """A loopback port nothing listens on now (the system's pick, for a server to bind)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """``uvicorn app:app`` with ``env`` over this process's environment."""

    def __init__(self, workdir: Path, env: Mapping[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        command = [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def wait_until_healthy(self, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise ServerError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx2.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ServerError(f"server did not answer /health:\n{self.log()}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a power cut of the process."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def healthy(server: Server) -> Iterator[Server]:
    """``server`` once it answers ``/health``, stopped after the block whatever happens."""
    try:
        server.wait_until_healthy()
        yield server
    finally:
        server.stop()


def running_server(workdir: Path, env: Mapping[str, str]) -> AbstractContextManager[Server]:
    """A healthy server for the block, stopped afterwards."""
    return healthy(Server(workdir, env))
