"""What the browser tests share besides fixtures (those are in conftest.py): Chromium's flags,
the camera person, talking to the real server, and reading the test page.

Playwright is imported lazily (``playwright_api``), so that a missing Playwright skips the
tests that need it with a message instead of failing their collection.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import cv2
import httpx2
import numpy as np
import pytest

from tests.conftest import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path(os.environ.get("PROCTOR_CHROMIUM", "/usr/bin/chromium"))
TEST_PAGE = ROOT / "proctor" / "api" / "static" / "test_ui.html"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
WAIT_MS = 60_000
#: Camera person (played by the fake webcam) and a second enrolled student.
CAMERA_PERSON = ("boris", "Boris Becker", "Boris_Becker")
OTHER_PERSON = ("elton", "Elton John", "Elton_John")


def playwright_api() -> ModuleType:
    """``playwright.sync_api``, or a skip saying how to install it."""
    return pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright for Python is not installed (pip install -r requirements-dev.txt)",
    )


def expect(locator: Any) -> Any:
    """Playwright's ``expect`` (its timeout is set to ``WAIT_MS`` by the ``browser`` fixture)."""
    return playwright_api().expect(locator)


# ---- the server ----------------------------------------------------------------------


def enroll(
    client: httpx2.Client, student_id: str, name: str, images: list[bytes]
) -> dict[str, Any]:
    files = [
        ("images", (f"{student_id}{i}.jpg", data, "image/jpeg")) for i, data in enumerate(images)
    ]
    response = client.post("/students", data={"student_id": student_id, "name": name}, files=files)
    assert response.status_code == 201, response.text
    return response.json()


def analyze(client: httpx2.Client, data: bytes, student_id: str | None = None) -> httpx2.Response:
    """The API's own answer for an image: what the page must show."""
    return client.post(
        "/analyze_frame",
        files={"file": ("frame.jpg", data, "image/jpeg")},
        data={"student_id": student_id} if student_id else {},
    )


def write_y4m(path: Path, frame_bgr: np.ndarray, frames: int = 2) -> None:
    """A y4m (YUV4MPEG2, 4:2:0) video of ``frames`` copies of one frame."""
    height, width = frame_bgr.shape[:2]
    planes = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2YUV_I420).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)


# ---- reading the test page -----------------------------------------------------------


def frames(page: Page) -> int:
    return int(page.get_attribute("#overlay", "data-frames") or "0")


def last_response(page: Page) -> dict[str, Any]:
    return json.loads(page.text_content("#raw-json") or "{}")


def wait_for_frames(page: Page, count: int) -> None:
    page.wait_for_function(
        "n => Number(document.getElementById('overlay').dataset.frames) >= n", arg=count
    )
