"""The server process of ``tools/server.py`` for tests: the provisioned models and the test
incident rules (``TEST_RULES``) under whatever the test sets in ``env``."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from tests.conftest import MODELS_DIR, TEST_RULES_ENV
from tools import server


def _env(env: Mapping[str, str]) -> dict[str, str]:
    return {"PROCTOR_MODELS_DIR": str(MODELS_DIR), **TEST_RULES_ENV, **env}


def Server(workdir: Path, env: Mapping[str, str]) -> server.Server:
    return server.Server(workdir, _env(env))


def running_server(workdir: Path, env: Mapping[str, str]) -> AbstractContextManager[server.Server]:
    return server.running_server(workdir, _env(env))
