"""A models folder holding only one face backend set (a fresh machine that reached PyPI but
not the pinned URLs, or the reverse): the service runs on the set it has, and ``/health`` says
which set runs and why; it does not switch an embedder students are enrolled under, nor pick a
non-permissive backend under permissive_only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from proctor.analyzers.identity import DEFAULT_THRESHOLDS
from proctor.api.main import create_app
from proctor.models.manifest import MANIFEST_FILE, get_spec
from proctor.models.registry import read_manifest
from proctor.services import build_services
from proctor.settings import Settings
from tests.conftest import MODELS_DIR, require_models

PERMISSIVE = ("face_detection_yunet", "face_recognition_sface")
NON_COMMERCIAL = ("face_detection_scrfd", "face_recognition_mobilefacenet")
FACE_ANALYZERS = ["faces", "identity"]


def models_with(tmp_path: Path, *names: str) -> Path:
    """A models folder holding just these provisioned models (linked) and their records."""
    require_models(*names)
    models = tmp_path / "models"
    models.mkdir()
    for name in names:
        (models / get_spec(name).file).symlink_to(MODELS_DIR / get_spec(name).file)
    recorded = read_manifest(MODELS_DIR)
    (models / MANIFEST_FILE).write_text(json.dumps({n: recorded[n] for n in names}))
    return models


def settings_on(models: Path, **overrides: object) -> Settings:
    return Settings(
        models_dir=models,
        student_db=models.parent / "students.sqlite3",
        analyzers=FACE_ANALYZERS,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("present", "configured", "expected", "chosen"),
    [
        (NON_COMMERCIAL, {}, ("scrfd", "mobilefacenet"), ("yunet", "sface")),
        (
            PERMISSIVE,
            {
                "faces": {"detector": "scrfd", "min_score": 0.5},
                "identity": {"embedder": "mobilefacenet", "threshold": 0.5},
            },
            ("yunet", "sface"),
            ("scrfd", "mobilefacenet"),
        ),
    ],
    ids=["defaults missing", "configured set missing"],
)
def test_health_says_which_face_set_runs_and_why(
    tmp_path: Path,
    present: tuple[str, str],
    configured: dict,
    expected: tuple[str, str],
    chosen: tuple[str, str],
) -> None:
    settings = settings_on(models_with(tmp_path, *present), **configured)
    with TestClient(create_app(settings)) as client:
        health = client.get("/health").json()
    assert health["status"] == "ok"
    assert (health["face_detector"], health["face_embedder"]) == expected
    why = "configured" if configured else "the measured default"
    for reason, backend in zip(
        (health["face_detector_reason"], health["face_embedder_reason"]), chosen, strict=True
    ):
        assert reason.startswith(f"fallback from {backend} ({why}")
        assert "whose model is unavailable" in reason and "is missing" in reason
    loaded = {m["name"] for m in health["models"] if m["loaded"]}
    assert loaded == set(present)
    # The fallback runs on its own measured threshold, not one set for the chosen embedder.
    assert health["identity_threshold"] == DEFAULT_THRESHOLDS[expected[1]]


def test_an_embedder_students_are_enrolled_under_does_not_fall_back(tmp_path: Path) -> None:
    """Switching would leave every enrolled student unmatchable: identity stays unavailable
    (the detector, which stores nothing, still falls back) and the reason says why."""
    models = models_with(tmp_path, *PERMISSIVE)
    settings = settings_on(
        models, faces={"detector": "scrfd"}, identity={"embedder": "mobilefacenet"}
    )
    earlier = build_services(settings)
    earlier.students.create("s-1", "Enrolled Earlier", [np.ones(512, np.float32)], "mobilefacenet")
    earlier.close()
    with TestClient(create_app(settings)) as client:
        health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert (health["face_detector"], health["face_embedder"]) == ("yunet", "mobilefacenet")
    assert health["face_embedder_reason"].startswith(
        "configured (PROCTOR_IDENTITY__EMBEDDER); its model is unavailable and it does not "
        "fall back: 1 enrolled student(s) could not be matched by another embedder"
    )
    identity = next(a for a in health["analyzers"] if a["name"] == "identity")
    assert not identity["loaded"] and "face_recognition_mobilefacenet" in identity["error"]


def test_permissive_only_never_falls_back_to_a_non_permissive_backend(tmp_path: Path) -> None:
    settings = settings_on(models_with(tmp_path, *NON_COMMERCIAL), permissive_only=True)
    services = build_services(settings)
    assert services.settings.face_detector == "yunet"
    assert services.detector_reason == (
        "the measured default; its model is unavailable and no other allowed detector's is here"
    )
    assert not services.pipeline.status["faces"].loaded
