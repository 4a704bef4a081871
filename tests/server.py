"""A real ``uvicorn app:app`` in a subprocess, for tests that need a server process: browsers,
replicas, crashes. Its log is kept so a failure says why."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest

from tests.conftest import MODELS_DIR, ROOT, TEST_RULES_ENV
from tests.helpers import free_port


class Server:
    def __init__(self, workdir: Path, env: Mapping[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "app:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                env={**os.environ, "PROCTOR_MODELS_DIR": str(MODELS_DIR), **TEST_RULES_ENV, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def wait_until_healthy(self, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx2.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer /health:\n{self.log()}")
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
def running_server(workdir: Path, env: Mapping[str, str]) -> Iterator[Server]:
    """A healthy server for the block, stopped afterwards whatever happens."""
    server = Server(workdir, env)
    try:
        server.wait_until_healthy()
        yield server
    finally:
        server.stop()
