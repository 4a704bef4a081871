"""Model provisioning (real download over loopback HTTP, mirror, digests) and loading."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from proctor.api.main import create_app
from proctor.models import provision as provision_module
from proctor.models.manifest import ModelSpec, UrlSource, get_spec
from proctor.models.provision import provision, read_manifest
from proctor.models.registry import ModelRegistry, ModelUnavailableError
from proctor.settings import Settings
from tests.conftest import MODELS_DIR, ROOT

MIRROR = ROOT.parent / "shared" / "models"
SCRFD = get_spec("face_detection_scrfd")


@pytest.fixture
def real_model_file() -> Path:
    """A real pinned model file (from models/ or the mirror) to serve and provision."""
    for candidate in (MODELS_DIR / SCRFD.file, MIRROR / "insightface" / "det_500m.onnx"):
        if candidate.is_file():
            return candidate
    pytest.skip("no copy of the SCRFD model to serve; run `make models`")


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A loopback HTTP server over a temporary folder: (folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def url_spec(url: str, sha256: str, name: str = "face_detection_scrfd") -> ModelSpec:
    return ModelSpec(
        name=name,
        file=SCRFD.file,
        task=SCRFD.task,
        license=SCRFD.license,
        permissive=False,
        source=UrlSource(url, "insightface/det_500m.onnx"),
        sha256=sha256,
    )


def test_downloads_a_pinned_url_and_records_it(
    tmp_path: Path,
    real_model_file: Path,
    http_root: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, base = http_root
    shutil.copyfile(real_model_file, root / "det.onnx")
    monkeypatch.setattr(provision_module, "MODELS", (url_spec(f"{base}/det.onnx", SCRFD.sha256),))
    models = tmp_path / "models"
    results = provision(models)
    assert [(r.name, r.ok) for r in results] == [("face_detection_scrfd", True)]
    assert base in results[0].detail
    assert hashlib.sha256((models / SCRFD.file).read_bytes()).hexdigest() == SCRFD.sha256
    assert read_manifest(models)["face_detection_scrfd"]["sha256"] == SCRFD.sha256
    # A second run finds the file current and downloads nothing.
    (root / "det.onnx").unlink()
    assert provision(models)[0].detail == "already present, sha256 ok"


def test_a_wrong_digest_fails_and_installs_nothing(
    tmp_path: Path,
    real_model_file: Path,
    http_root: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, base = http_root
    shutil.copyfile(real_model_file, root / "det.onnx")
    monkeypatch.setattr(provision_module, "MODELS", (url_spec(f"{base}/det.onnx", "0" * 64),))
    results = provision(tmp_path / "models")
    assert not results[0].ok and "does not match the pinned" in results[0].detail
    assert not (tmp_path / "models" / SCRFD.file).exists()


def test_an_unreachable_url_fails_with_the_reason(
    tmp_path: Path,
    http_root: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, base = http_root
    monkeypatch.setattr(provision_module, "MODELS", (url_spec(f"{base}/missing.onnx", "0" * 64),))
    results = provision(tmp_path / "models")
    assert not results[0].ok and "404" in results[0].detail


def test_the_mirror_is_used_before_the_url(
    tmp_path: Path,
    real_model_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "insightface").mkdir(parents=True)
    shutil.copyfile(real_model_file, mirror / "insightface" / "det_500m.onnx")
    spec = url_spec("http://127.0.0.1:9/never-contacted.onnx", SCRFD.sha256)
    monkeypatch.setattr(provision_module, "MODELS", (spec,))
    results = provision(tmp_path / "models", mirror=mirror)
    assert results[0].ok and "mirror" in results[0].detail


def test_registry_reports_missing_and_corrupt_models(tmp_path: Path, real_model_file: Path) -> None:
    registry = ModelRegistry(tmp_path)
    with pytest.raises(ModelUnavailableError, match=r"missing.*proctor.models fetch"):
        registry.resolve("face_detection_scrfd")
    (tmp_path / SCRFD.file).write_bytes(real_model_file.read_bytes()[:-10] + b"0123456789")
    registry = ModelRegistry(tmp_path)
    with pytest.raises(ModelUnavailableError, match="corrupt"):
        registry.resolve("face_detection_scrfd")
    assert "corrupt" in registry.errors()["face_detection_scrfd"]


def test_service_starts_without_models_and_health_says_what_is_missing(tmp_path: Path) -> None:
    settings = Settings(models_dir=tmp_path / "empty", student_db=tmp_path / "s.sqlite3")
    with TestClient(create_app(settings)) as client:
        health = client.get("/health").json()
        assert health["status"] == "degraded"
        faces = next(a for a in health["analyzers"] if a["name"] == "faces")
        assert not faces["loaded"] and "proctor.models fetch" in faces["error"]
        assert all(not m["loaded"] for m in health["models"])
        response = client.post("/analyze_frame", files={"file": ("x.png", b"\x89PNG", "image/png")})
        assert response.status_code == 503
        assert response.json()["code"] == "model_unavailable"
