"""The server process of ``tools/server.py`` for tests: the provisioned models and the test
incident rules (``TEST_RULES``) under whatever the test sets in ``env``."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from tests.conftest import MODELS_DIR, TEST_RULES_ENV
from tools import server


class Server(server.Server):
    def __init__(self, workdir: Path, env: Mapping[str, str]) -> None:
        super().__init__(workdir, {"PROCTOR_MODELS_DIR": str(MODELS_DIR), **TEST_RULES_ENV, **env})


def running_server(workdir: Path, env: Mapping[str, str]) -> AbstractContextManager[Server]:
    """A healthy test server for the block, stopped afterwards."""
    return server.healthy(Server(workdir, env))
