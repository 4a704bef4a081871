"""Shared fixtures: settings pointing at a temporary student DB, one app per session, and the
store's two engines (SQLite, and a throwaway PostgreSQL cluster: ``tests/postgres.py``).

Real-model tests need ``models/`` (``make models``) and the labelled images in
``../shared/eval``; PostgreSQL variants need Debian's ``postgresql`` package. Each skips with
a message saying what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from proctor.api.main import create_app
from proctor.gallery import Gallery
from proctor.models.faces.backends import DETECTOR_MODELS, EMBEDDER_MODELS
from proctor.models.registry import ModelRegistry, ModelUnavailableError
from proctor.services import Services, build_services
from proctor.settings import Settings
from tests.helpers import local_client
from tests.postgres import Cluster, PostgresNotInstalled, start_cluster

ROOT = Path(__file__).resolve().parents[1]
EVAL_DIR = ROOT.parent / "shared" / "eval"
MODELS_DIR = ROOT / "models"
DEFAULTS = Settings()
#: The default face detector and embedder's manifest names (what an app built from defaults loads).
FACE_MODELS = (DETECTOR_MODELS[DEFAULTS.face_detector], EMBEDDER_MODELS[DEFAULTS.face_embedder])
#: An empty gallery of the default embedder (analysis with nobody enrolled).
NOBODY = Gallery(DEFAULTS.face_embedder, 0)
#: The incident rules the attempt tests are written against (three frames of four open, 6 s
#: clear): the shipped defaults are re-chosen by ``python -m proctor.eval attempts``, while the
#: tests assert what the tracker, store and API do with a rule.
TEST_RULES = {
    code: {"votes_to_open": 3, "window": 4, "hold_s": 6.0, "clear_s": 6.0, "full_confidence": 1.0}
    for code in ("NO_FACE", "BANNED_OBJECT", "MULTIPLE_PEOPLE")
}
#: The default analyzers but the spoof check: the tests compose web photos of faces (LFW) on
#: grey frames, which is what the spoof check is there to distrust, so the tests of the other
#: analyzers run without it; its own tests (tests/analyzers/test_spoof.py) run the defaults.
TEST_ANALYZERS = [name for name in DEFAULTS.analyzers if name != "spoof"]
#: The same rules and analyzers for a server process (``tests/server.py``).
TEST_RULES_ENV = {
    "PROCTOR_ATTEMPTS__RULES": json.dumps(TEST_RULES),
    "PROCTOR_ANALYZERS": json.dumps(TEST_ANALYZERS),
}


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    if not EVAL_DIR.is_dir():
        pytest.skip(f"labelled eval images not found at {EVAL_DIR}")
    return EVAL_DIR


@pytest.fixture(scope="session")
def identities_dir(eval_dir: Path) -> Path:
    return eval_dir / "faces" / "identities"


def require_models(*names: str) -> None:
    """Skip unless the named models are provisioned and verified."""
    registry = ModelRegistry(MODELS_DIR)
    for name in names:
        try:
            registry.model(name)
        except ModelUnavailableError as exc:
            pytest.skip(str(exc))


def make_settings(tmp: Path, **overrides: object) -> Settings:
    """Settings on a private student DB, with the test incident rules unless ``attempts``
    names its own, and ``TEST_ANALYZERS`` unless ``analyzers`` is given."""
    attempts = {"rules": TEST_RULES, **overrides.pop("attempts", {})}  # type: ignore[dict-item]
    overrides.setdefault("analyzers", TEST_ANALYZERS)
    return Settings(
        models_dir=MODELS_DIR,
        student_db=tmp / "students.sqlite3",
        attempts=attempts,  # type: ignore[arg-type]
        **overrides,
    )


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Default settings (default backends) with a private student DB for the session."""
    return make_settings(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def services(settings: Settings) -> Services:
    require_models(*FACE_MODELS)
    return build_services(settings)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """A fresh app with an empty student DB (models are loaded per app: keep these few)."""
    require_models(*FACE_MODELS)
    with local_client(create_app(make_settings(tmp_path))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster for the whole session, stopped and deleted after it."""
    try:
        cluster = start_cluster()
    except PostgresNotInstalled as exc:
        pytest.skip(f"PostgreSQL variant skipped: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres: Cluster) -> Iterator[str]:
    """A database of this test's own on the session's cluster, dropped after the test."""
    name = postgres.create_database()
    yield postgres.url(name)
    postgres.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    """Runs a test once per database engine the store supports."""
    return request.param


@pytest.fixture
def database_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database of ``engine`` for this test: a SQLite file in a folder the store
    has to create, or a PostgreSQL database (the cluster only starts when one is asked for)."""
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'store.sqlite3'}"
    return request.getfixturevalue("postgres_url")
