"""Operations: a request id on every response and log line, JSON errors with a stable code
for everything (FastAPI's and Starlette's own included, and an unexpected exception), JSON
logs that never hold a key, and Prometheus metrics."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from proctor.api.main import create_app
from proctor.logs import configure_logging
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, local_client, photo

ADMIN = "observability-admin-key"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    require_models(*FACE_MODELS)
    app = create_app(make_settings(tmp_path, analyzers=["faces"], admin_keys=ADMIN))
    with local_client(app, raise_server_exceptions=False) as test_client:
        test_client.headers["X-API-Key"] = ADMIN
        yield test_client


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The service's logging set up as ``app.py`` does, into a buffer; put back afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    output = io.StringIO()
    configure_logging("json", "INFO", output)
    yield output
    root.handlers, root.level = saved[0], saved[1]
    logging.getLogger("uvicorn.access").disabled = False


def log_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_every_response_has_a_request_id(client: TestClient) -> None:
    first, second = client.get("/health"), client.get("/health")
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    chosen = client.get("/students", headers={"X-Request-ID": "lms-trace.42"})
    assert chosen.headers["x-request-id"] == "lms-trace.42"
    injected = client.get("/students", headers={"X-Request-ID": "a b\tINFO fake line"})
    assert injected.headers["x-request-id"] != "a b\tINFO fake line"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/no/such/route", 404, "not_found"),
        ("PUT", "/health", 405, "method_not_allowed"),
        ("POST", "/analyze_frame", 422, "validation_error"),
    ],
)
def test_framework_errors_are_json_with_a_code(
    client: TestClient, method: str, path: str, status: int, code: str
) -> None:
    answer = client.request(method, path)
    assert answer.status_code == status
    assert answer.json()["code"] == code


def test_validation_errors_do_not_echo_the_input(client: TestClient) -> None:
    secret = "data:image/jpeg;base64," + "QUJD" * 1000
    answer = client.post("/analyze_frame_base64", json={"image": secret, "seq": -1})
    assert answer.status_code == 422
    assert "QUJDQUJD" not in answer.text
    assert answer.json()["detail"][0]["loc"][-1] == "seq"


def test_an_unexpected_exception_is_a_json_500_logged_with_its_id(
    client: TestClient, json_logs: io.StringIO
) -> None:
    """A real fault: the store's table vanishes under a running service."""
    database = client.app.state.services.database  # type: ignore[attr-defined]
    with database.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE students")
    answer = client.get("/students")
    assert answer.status_code == 500
    body = answer.json()
    assert body["code"] == "internal_error" and body["detail"]
    assert body["request_id"] == answer.headers["x-request-id"]
    assert "students" not in body["detail"]  # the fault's details stay in the log
    lines = log_lines(json_logs.getvalue())
    failure = [line for line in lines if line.get("exc_info")]
    assert len(failure) == 1
    assert failure[0]["request_id"] == body["request_id"]
    assert "no such table: students" in failure[0]["exc_info"]
    access = [line for line in lines if line.get("route") == "/students"]
    assert access[-1]["status"] == 500 and access[-1]["error_code"] == "internal_error"


def test_logs_are_json_lines_with_request_ids_and_never_a_key(
    client: TestClient, json_logs: io.StringIO
) -> None:
    client.get("/students", headers={"X-Request-ID": "trace-1"})
    client.get("/students", headers={"X-API-Key": "wrong-key", "X-Request-ID": "trace-2"})
    client.get("/students", headers={"Authorization": f"Bearer {ADMIN}"})
    output = json_logs.getvalue()
    assert ADMIN not in output and "wrong-key" not in output
    lines = log_lines(output)  # every line parses
    by_id = {line["request_id"]: line for line in lines if line.get("route")}
    assert by_id["trace-1"]["status"] == 200 and by_id["trace-1"]["level"] == "INFO"
    assert by_id["trace-2"]["status"] == 401
    assert by_id["trace-2"]["error_code"] == "invalid_api_key"


def test_metrics_count_requests_analyzers_and_errors(
    client: TestClient, identities_dir: Path
) -> None:
    frame = jpeg(in_webcam_frame(photo(identities_dir, "Tom_Cruise", 1)))
    assert client.post("/analyze_frame", files={"file": ("f.jpg", frame, "image/jpeg")}).is_success
    client.get("/no/such/route")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'proctor_requests_total{method="POST",route="/analyze_frame",status="200"} 1.0' in text
    assert 'proctor_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'proctor_analyzer_duration_seconds_count{analyzer="faces"} 1.0' in text
    assert 'proctor_analyzer_duration_seconds_count{analyzer="decode"} 1.0' in text
    assert 'proctor_request_duration_seconds_count{method="POST",route="/analyze_frame"}' in text
    assert 'proctor_errors_total{code="not_found"} 1.0' in text
    assert "proctor_analysis_queue_depth 0.0" in text
