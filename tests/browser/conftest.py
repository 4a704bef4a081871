"""Fixtures of the browser tests: the real server (uvicorn in a subprocess, one per test module,
with its own student DB and evidence folder), an HTTP client to it, enrolled students,
headless Chromium whose fake camera plays a real photo, and a fresh page per test.

Skips only where Chromium, Playwright, the models or ../shared/eval are missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import httpx2
import numpy as np
import pytest

from tests.browser.support import (
    CAMERA_PERSON,
    CHROMIUM,
    LAUNCH_ARGS,
    OTHER_PERSON,
    WAIT_MS,
    enroll,
    playwright_api,
    write_y4m,
)
from tests.conftest import FACE_MODELS, require_models
from tests.helpers import in_webcam_frame, jpeg, photo
from tests.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``uvicorn app:app`` on a free loopback port with an empty student DB and evidence
    switched on (in a temporary folder); its base URL."""
    require_models(*FACE_MODELS)
    tmp = tmp_path_factory.mktemp("browser-server")
    env = {
        "PROCTOR_STUDENT_DB": str(tmp / "students.sqlite3"),
        "PROCTOR_ATTEMPTS__EVIDENCE": "true",
        "PROCTOR_ATTEMPTS__EVIDENCE_DIR": str(tmp / "evidence"),
    }
    with running_server(tmp, env) as running:
        yield running.url


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server, timeout=60) as http:
        yield http


@pytest.fixture(scope="module")
def enrolled(client: httpx2.Client, identities_dir: Path) -> dict[str, str]:
    """The camera person (two photos) and another student (one photo); student id -> name."""
    sid, name, folder = CAMERA_PERSON
    enroll(client, sid, name, [jpeg(photo(identities_dir, folder, n)) for n in (1, 2)])
    sid2, name2, folder2 = OTHER_PERSON
    enroll(client, sid2, name2, [jpeg(photo(identities_dir, folder2, 1))])
    return {sid: name, sid2: name2}


@pytest.fixture(scope="module")
def camera_frame(identities_dir: Path) -> np.ndarray:
    """The frame the fake webcam shows: a photo not used for enrollment, in a 640x480 frame."""
    frame = in_webcam_frame(photo(identities_dir, CAMERA_PERSON[2], 3), face_height=300)
    # Chromium reads the y4m as I420: the reference frame goes through the same conversion.
    i420 = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)
    return cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)


@pytest.fixture(scope="module")
def browser(
    tmp_path_factory: pytest.TempPathFactory, camera_frame: np.ndarray
) -> Iterator[Browser]:
    sync_api = playwright_api()
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (run scripts/install_browser.sh)")
    sync_api.expect.set_options(timeout=WAIT_MS)
    video = tmp_path_factory.mktemp("camera") / "camera.y4m"
    write_y4m(video, camera_frame)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*LAUNCH_ARGS, f"--use-file-for-fake-video-capture={video}"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; fails the test on any uncaught script error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
