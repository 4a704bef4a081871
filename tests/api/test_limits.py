"""Body limits are enforced while the body streams in, per route: a chunked request (no
Content-Length) cannot bypass them, nor can a base64 JSON body or a multipart upload, and an
analysis frame gets the room of one image, an enrollment the room of its photos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from proctor.api.main import SMALL_BODY_BYTES, body_limits, create_app
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import local_client

UPLOAD = 100_000  # max_upload_bytes of these tests
BOUNDARY = "proctor-test-boundary"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    require_models(*FACE_MODELS)
    settings = make_settings(
        tmp_path_factory.mktemp("limits"),
        analyzers=["faces"],
        max_upload_bytes=UPLOAD,
        max_images_per_request=4,
    )
    with local_client(create_app(settings)) as test_client:
        yield test_client


def chunks(total: int, head: bytes = b"", tail: bytes = b"") -> Iterator[bytes]:
    """A body of ``total`` filler bytes sent in pieces, so the client sends no length."""
    yield head
    for _ in range(total // 50_000):
        yield b"A" * 50_000
    yield tail


def multipart(total: int, field: str = "file") -> Iterator[bytes]:
    return chunks(
        total,
        head=(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="frame.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode(),
        tail=f"\r\n--{BOUNDARY}--\r\n".encode(),
    )


def assert_too_large(answer) -> None:
    assert answer.status_code == 413, answer.text[:300]
    assert answer.json()["code"] == "request_too_large"


def test_routes_get_room_for_their_images() -> None:
    settings = make_settings(Path("/nonexistent"), max_upload_bytes=UPLOAD)
    limit_for = body_limits(settings)
    frame = limit_for("/analyze_frame")
    assert frame == limit_for("/analyze_frame_base64")
    assert UPLOAD * 4 / 3 < frame < 2 * UPLOAD  # one image, base64 included
    photos = settings.max_images_per_request * UPLOAD * 4 / 3
    assert limit_for("/students") == limit_for("/students/s1/faces") > photos
    assert limit_for("/attempts/a1/incidents/i1/review") == SMALL_BODY_BYTES
    assert limit_for("/students/s1/faces/extra") == SMALL_BODY_BYTES


def test_a_declared_length_over_the_limit_is_refused_before_reading(client: TestClient) -> None:
    assert_too_large(client.post("/analyze_frame_base64", content=b"{" * (2 * UPLOAD)))


def test_chunked_json_is_cut_off_while_streaming(client: TestClient) -> None:
    answer = client.post(
        "/analyze_frame_base64",
        content=chunks(3 * UPLOAD),
        headers={"Content-Type": "application/json"},
    )
    assert_too_large(answer)


def test_chunked_multipart_is_cut_off_while_streaming(client: TestClient) -> None:
    answer = client.post(
        "/analyze_frame",
        content=multipart(3 * UPLOAD),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert_too_large(answer)


def test_enrollment_may_carry_more_than_a_frame_but_not_without_bound(client: TestClient) -> None:
    """A body of 3 frames' worth passes the enrollment limit (and is refused for what it is,
    not for its size); one over every photo's room is cut off while streaming."""
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    fits = client.post("/students", content=multipart(3 * UPLOAD, "images"), headers=headers)
    assert fits.status_code == 422 and fits.json()["code"] == "validation_error"
    assert_too_large(
        client.post("/students", content=multipart(8 * UPLOAD, "images"), headers=headers)
    )


def test_routes_without_images_take_small_bodies(client: TestClient) -> None:
    answer = client.post(
        "/attempts/a1/incidents/i1/review",
        content=chunks(2 * SMALL_BODY_BYTES),
        headers={"Content-Type": "application/json"},
    )
    assert_too_large(answer)
