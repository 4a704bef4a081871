"""``/`` for scripts and browsers, ``/health`` contents, CORS for pages opened from disk."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from proctor.api.main import create_app
from proctor.models.manifest import MODELS
from proctor.settings import Settings
from tests.helpers import local_client

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_root_is_json_for_scripts_and_html_for_browsers(client: TestClient) -> None:
    as_script = client.get("/")
    assert as_script.headers["content-type"].startswith("application/json")
    assert "/analyze_frame" in as_script.json()["endpoints"]
    as_browser = client.get("/", headers={"accept": BROWSER_ACCEPT})
    assert as_browser.headers["content-type"].startswith("text/html")
    assert "<html" in as_browser.text.lower()
    assert client.get("/test_ui.html").text == as_browser.text


def test_health_reports_analyzers_models_and_licences(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["version"]
    analyzers = {a["name"]: a for a in health["analyzers"]}
    assert analyzers["faces"]["loaded"] and analyzers["identity"]["loaded"]
    assert analyzers["identity"]["requires"] == ["faces"]
    models = {m["name"]: m for m in health["models"]}
    assert set(models) == {spec.name for spec in MODELS}
    detector = models[analyzers["faces"]["models"][0]]
    assert detector["loaded"] and len(detector["sha256"]) == 12 and detector["license"]
    assert health["identity_threshold"] > 0
    # Nobody enrolled: 1:N holds to the 1:1 threshold until the gallery grows.
    assert health["identify_threshold"] == health["identity_threshold"]


def test_cors_allows_a_page_opened_from_disk(client: TestClient) -> None:
    preflight = client.options(
        "/analyze_frame",
        headers={"origin": "null", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "null")


def test_service_starts_without_models_and_health_says_what_is_missing(tmp_path: Path) -> None:
    settings = Settings(models_dir=tmp_path / "empty", student_db=tmp_path / "s.sqlite3")
    with local_client(create_app(settings)) as client:
        health = client.get("/health").json()
        assert health["status"] == "degraded"
        faces = next(a for a in health["analyzers"] if a["name"] == "faces")
        assert not faces["loaded"] and "tools.models fetch" in faces["error"]
        assert all(not m["loaded"] for m in health["models"])
        response = client.post("/analyze_frame", files={"file": ("x.png", b"\x89PNG", "image/png")})
        assert response.status_code == 503
        assert response.json()["code"] == "model_unavailable"
