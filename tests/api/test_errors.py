"""Every bad input gets a 4xx with a JSON ``detail``; none reaches a 500."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from proctor.api.main import create_app
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import local_client


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    require_models(*FACE_MODELS)
    settings = make_settings(tmp_path_factory.mktemp("errors"), max_upload_bytes=150_000)
    with local_client(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def png(width: int, height: int) -> bytes:
    ok, data = cv2.imencode(".png", np.zeros((height, width, 3), np.uint8))
    assert ok
    return data.tobytes()


def bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, format="PNG")  # 400 Mpx in ~50 kB
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    noise = np.random.default_rng(1).integers(0, 255, (300, 300, 3), np.uint8)
    data = cv2.imencode(".jpg", noise)[1].tobytes()
    return data[: len(data) // 2]


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: ~3 bytes a pixel."""
    pixels = np.random.default_rng(2).integers(0, 255, (side, side, 3), np.uint8)
    return cv2.imencode(".png", pixels)[1].tobytes()


NOISE = noise_png(240)  # ~170 kB: over the 150 kB image limit, inside one frame's body limit


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"", "image/jpeg", 400, "empty_upload"),
        (b"plain text", "text/plain", 415, "unsupported_media_type"),
        (b"definitely not an image", "image/jpeg", 400, "invalid_image"),
        (truncated_jpeg(), "image/jpeg", 400, "invalid_image"),
        (NOISE, "image/png", 413, "image_too_large"),
        (noise_png(400), "image/png", 413, "request_too_large"),  # ~480 kB: over the body
        (bomb(), "image/png", 413, "image_too_large"),
        (png(4, 4), "image/png", 400, "invalid_image"),
    ],
)
def test_bad_multipart_uploads(
    api: TestClient, content: bytes, content_type: str, status: int, code: str
) -> None:
    response = api.post("/analyze_frame", files={"file": ("f", content, content_type)})
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"image": "%%%not-base64%%%"}, 400, "invalid_base64"),
        ({"image": ""}, 400, "empty_upload"),
        ({"image": base64.b64encode(b"not an image").decode()}, 400, "invalid_image"),
        ({"image": "data:text/html;base64,PGI+"}, 415, "unsupported_media_type"),
        ({"image": base64.b64encode(NOISE).decode()}, 413, "image_too_large"),
    ],
)
def test_bad_base64_bodies(api: TestClient, body: dict, status: int, code: str) -> None:
    response = api.post("/analyze_frame_base64", json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"img": "x"}}, 422),  # missing field
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422),
        ({"json": ["a", "list"]}, 422),
    ],
)
def test_malformed_json(api: TestClient, kwargs: dict, status: int) -> None:
    response = api.post("/analyze_frame_base64", **kwargs)
    assert response.status_code == status
    assert "detail" in response.json()


def test_missing_file_field(api: TestClient) -> None:
    response = api.post("/analyze_frame", data={"student_id": "x"})
    assert response.status_code == 422 and "detail" in response.json()


def test_body_over_the_request_limit_is_refused_unread(api: TestClient) -> None:
    response = api.post(
        "/analyze_frame",
        content=b"0" * 4_000_000,
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_unknown_routes_and_methods_are_json(api: TestClient) -> None:
    assert api.get("/nope").status_code == 404
    assert api.get("/analyze_frame").status_code == 405


@pytest.mark.parametrize(
    "form",
    [
        {"attempt_id": "a-1", "seq": "-1"},  # seq must be a non-negative integer
        {"attempt_id": "a-1", "seq": "two"},
    ],
)
def test_fastapi_validation_errors_carry_a_code(api: TestClient, form: dict[str, str]) -> None:
    response = api.post(
        "/analyze_frame", data=form, files={"file": ("f.png", png(64, 64), "image/png")}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert [item["loc"] for item in body["detail"]] == [["body", "seq"]]


def test_a_missing_field_is_a_validation_error_with_a_code(api: TestClient) -> None:
    response = api.post("/analyze_frame_base64", json={"student_id": "s-1"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["detail"][0]["loc"] == ["body", "image"]
