"""Corrupted and unusual images, posted to every route that decodes one (``/analyze_frame``,
``/analyze_frame_base64``, ``POST /students``): each gets a verdict (the face in it found) or a
4xx with a stable code, never a 5xx; a frame whose EXIF orientation says "rotate" is analysed
upright."""

from __future__ import annotations

import base64
import io
import itertools
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import httpx2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from proctor.api.main import create_app
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, local_client, photo

#: Posts one image to one route: (client, image bytes, claimed or new student id) -> answer.
Poster = Callable[[TestClient, bytes, str | None], httpx2.Response]


def post_multipart(api: TestClient, data: bytes, claim: str | None) -> httpx2.Response:
    form = {"student_id": claim} if claim else {}
    return api.post("/analyze_frame", data=form, files={"file": ("frame", data, "image/jpeg")})


def post_base64(api: TestClient, data: bytes, claim: str | None) -> httpx2.Response:
    return api.post(
        "/analyze_frame_base64",
        json={"image": base64.b64encode(data).decode(), "student_id": claim},
    )


def post_enrollment(api: TestClient, data: bytes, student_id: str | None) -> httpx2.Response:
    return api.post(
        "/students",
        data={"student_id": student_id or next(STUDENT_IDS), "name": "Corrupt Images"},
        files={"images": ("photo", data, "image/jpeg")},
    )


STUDENT_IDS = (f"corrupt-{n}" for n in itertools.count())
ROUTES: dict[str, Poster] = {
    "analyze_frame": post_multipart,
    "analyze_frame_base64": post_base64,
    "students": post_enrollment,
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    require_models(*FACE_MODELS)
    settings = make_settings(tmp_path_factory.mktemp("corrupt"), analyzers=["faces", "identity"])
    with local_client(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def face(identities_dir: Path) -> Image.Image:
    """A real face photo in a 640x480 webcam frame, RGB."""
    bgr = in_webcam_frame(photo(identities_dir, "Tom_Cruise", 1))
    return Image.fromarray(np.ascontiguousarray(bgr[..., ::-1]))


def post(api: TestClient, route: str, data: bytes) -> httpx2.Response:
    """``data`` to ``route``: analysed without a claim, or enrolled under a new id."""
    return ROUTES[route](api, data, None)


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def grey_png(width: int, height: int, rows: int) -> bytes:
    """A PNG whose header says ``width`` x ``height`` (8-bit grey) with ``rows`` black rows of
    pixel data: all of them is a valid decompression bomb (zeros compress ~1000:1), fewer a
    file whose header lies about its size."""
    compressor = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # filter byte + pixels
    pixels = b"".join(compressor.compress(row) for _ in range(rows)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", pixels)
        + png_chunk(b"IEND", b"")
    )


def sixteen_bit_png(image: Image.Image, grey: bool) -> bytes:
    """``image`` as a 16-bit PNG, colour or grey (Pillow's ``I;16``), over the full range."""
    bgr = np.asarray(image)[..., ::-1].astype(np.uint16) * 257
    pixels = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if grey else bgr
    ok, data = cv2.imencode(".png", pixels)
    assert ok
    return data.tobytes()


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


#: Images that cannot be analysed, and the status and code the analysis routes answer with;
#: enrollment refuses each photo with 422 ``enrollment_image_rejected``, naming it.
BROKEN = [
    pytest.param(lambda face: half(encoded(face, "JPEG")), 400, "invalid_image", id="trunc-jpeg"),
    pytest.param(lambda face: half(encoded(face, "PNG")), 400, "invalid_image", id="trunc-png"),
    pytest.param(lambda face: half(encoded(face, "WEBP")), 400, "invalid_image", id="trunc-webp"),
    pytest.param(
        lambda _: grey_png(100_000, 100_000, 4), 413, "image_too_large", id="png-100000x100000"
    ),
    pytest.param(lambda _: grey_png(10_000, 5_000, 5_000), 413, "image_too_large", id="bomb"),
    pytest.param(lambda _: grey_png(0, 0, 0), 400, "invalid_image", id="png-0x0"),
    pytest.param(lambda _: b"", 400, "empty_upload", id="zero-bytes"),
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("make", "status", "code"), BROKEN)
def test_broken_images_get_a_4xx_with_a_stable_code(
    api: TestClient,
    face: Image.Image,
    route: str,
    make: Callable[[Image.Image], bytes],
    status: int,
    code: str,
) -> None:
    answer = post(api, route, make(face))
    if route == "students":
        status, code = 422, "enrollment_image_rejected"
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text


#: Unusual but valid encodings of the face frame: in each, the face is still found.
UNUSUAL: dict[str, Callable[[Image.Image], bytes]] = {
    "CMYK JPEG": lambda face: encoded(face.convert("CMYK"), "JPEG", quality=92),
    "16-bit PNG": lambda face: sixteen_bit_png(face, grey=False),
    "16-bit grey PNG": lambda face: sixteen_bit_png(face, grey=True),
    "grey JPEG": lambda face: encoded(face.convert("L"), "JPEG", quality=92),
    "grey PNG with alpha": lambda face: encoded(face.convert("LA"), "PNG"),
    "RGBA PNG": lambda face: encoded(face.convert("RGBA"), "PNG"),
    "RGBA WebP": lambda face: encoded(face.convert("RGBA"), "WEBP", quality=92),
    "palette PNG": lambda face: encoded(face.convert("P"), "PNG"),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", UNUSUAL)
def test_unusual_encodings_get_a_verdict_with_the_face(
    api: TestClient, face: Image.Image, route: str, case: str
) -> None:
    answer = post(api, route, UNUSUAL[case](face))
    if route == "students":
        assert answer.status_code == 201, answer.text  # exactly one face was found
        return
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["face_count"] == 1
    assert verdict["image"] == {"width": 640, "height": 480}


@pytest.fixture(scope="module")
def tom(api: TestClient, identities_dir: Path) -> str:
    """Tom Cruise, enrolled from another photo of him: only a frame analysed upright (and
    aligned by its real landmarks) verifies as him; an upside-down face is still found."""
    photo_2 = in_webcam_frame(photo(identities_dir, "Tom_Cruise", 2))
    assert post_enrollment(api, jpeg(photo_2), "tom").status_code == 201
    return "tom"


#: EXIF orientation -> the transpose that stores an upright picture so that the orientation
#: turns it back (Pillow's ``exif_transpose`` applies the inverse of each of these).
STORED_AS = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("orientation", STORED_AS)
def test_exif_rotated_frames_are_analysed_upright(
    api: TestClient, face: Image.Image, tom: str, route: str, orientation: int
) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    stored = face.transpose(STORED_AS[orientation])
    rotated = encoded(stored, "JPEG", quality=92, exif=exif.tobytes())
    answer = ROUTES[route](api, rotated, tom if route != "students" else None)
    if route == "students":
        assert answer.status_code == 201, answer.text
        # The photo was enrolled upright: the upright frame verifies as the new student.
        upright = encoded(face, "JPEG", quality=92)
        answer = post_multipart(api, upright, answer.json()["student_id"])
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["image"] == {"width": 640, "height": 480}  # upright, not as stored
    assert verdict["face_count"] == 1
    assert verdict["face_verified"] is True, verdict["match_score"]
