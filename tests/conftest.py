"""Shared fixtures: settings pointing at a temporary student DB, one app per session.

Real-model tests need ``models/`` (``make models``) and the labelled images in
``../shared/eval``; they skip with a message saying which is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from proctor.api.main import create_app
from proctor.models.registry import ModelRegistry, ModelUnavailableError
from proctor.services import Services, build_services
from proctor.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
EVAL_DIR = ROOT.parent / "shared" / "eval"
MODELS_DIR = ROOT / "models"


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
    return Settings(models_dir=MODELS_DIR, student_db=tmp / "students.sqlite3", **overrides)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Default settings (default backends) with a private student DB for the session."""
    return make_settings(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def services(settings: Settings) -> Services:
    require_models("face_detection_scrfd", "face_recognition_mobilefacenet")
    return build_services(settings)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """A fresh app with an empty student DB (models are loaded per app: keep these few)."""
    require_models("face_detection_scrfd", "face_recognition_mobilefacenet")
    with TestClient(create_app(make_settings(tmp_path))) as test_client:
        yield test_client
