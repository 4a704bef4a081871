"""test_ui.html against a slow, failing or dead server, in headless Chromium (fixtures in
conftest.py: the real server and models, a fake camera playing a real photo).

Playwright stands between the page and the real server: it holds a call back (a server that
does not answer), refuses it (a dead server) or answers it with an error (an overloaded one),
then lets calls through again. Where the page waits on its own timers (request timeouts,
``/health`` polling), Playwright's clock moves time on instead of the test waiting.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx2
import pytest

from tests.browser.support import (
    CAMERA_PERSON,
    OTHER_PERSON,
    analyze,
    expect,
    frames,
    last_response,
    wait_for_frames,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Request, Route

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.eval_data]

#: Longer than any timeout or polling interval of the page: moved on with Playwright's clock.
A_MINUTE_MS = 60_000
DOWN = re.compile(r"\bdown\b")


@pytest.fixture
def picture(identities_dir: Path) -> Path:
    """A photo of the other enrolled student (the camera shows the camera person)."""
    return identities_dir / OTHER_PERSON[2] / f"{OTHER_PERSON[2]}_0002.jpg"


def hold_frames(page: Page, held: list[Route], pick: bytes) -> None:
    """Hold back the page's ``/analyze_frame`` calls whose form contains ``pick`` (appended to
    ``held``, for the test to let through or never answer); the others go to the server."""

    def handle(route: Route) -> None:
        if pick in (route.request.post_data_buffer or b""):
            held.append(route)
        else:
            route.continue_()

    page.route("**/analyze_frame", handle)


def badge(page: Page) -> Locator:
    return page.locator("#health-status")


def test_a_camera_answer_arriving_after_stop_never_covers_the_uploaded_image(
    page: Page, server: str, client: httpx2.Client, enrolled: dict[str, str], picture: Path
) -> None:
    expected = analyze(client, picture.read_bytes()).json()
    held: list[Route] = []
    hold_frames(page, held, b'filename="webcam.jpg"')
    page.goto(f"{server}/test_ui.html")
    with page.expect_request("**/analyze_frame"):
        page.click("#start-camera")
    page.click("#stop-camera")
    page.check("#mode-upload")
    page.set_input_files("#upload-file", str(picture))
    wait_for_frames(page, 1)
    assert last_response(page) | {"timings_ms": None} == expected | {"timings_ms": None}

    # The server answers the camera frame only now: the page drops it.
    with page.expect_response("**/analyze_frame") as answer:
        held[0].continue_()
    assert answer.value.json()["person_name"] == CAMERA_PERSON[1]  # what would have been drawn
    expect(page.locator("#overlay")).to_have_attribute("data-dropped", "1")
    assert frames(page) == 1
    assert last_response(page) | {"timings_ms": None} == expected | {"timings_ms": None}
    expect(page.locator("#detections")).to_contain_text(f"Face 1: {expected['person_name']}")
    expect(page.locator("#timeline span")).to_have_count(1)


def test_an_answer_older_than_the_one_shown_is_dropped(
    page: Page, server: str, client: httpx2.Client, enrolled: dict[str, str], picture: Path
) -> None:
    claimed = CAMERA_PERSON[0]  # not the student in the picture
    held: list[Route] = []
    # Calls claiming that student are held: their answer comes last.
    hold_frames(page, held, f'name="student_id"\r\n\r\n{claimed}\r\n'.encode())
    page.goto(f"{server}/test_ui.html")
    page.check("#mode-upload")
    page.set_input_files("#upload-file", str(picture))
    wait_for_frames(page, 1)
    page.select_option("#claimed-student", claimed)
    with page.expect_request("**/analyze_frame"):
        page.click("#reanalyze")
    page.select_option("#claimed-student", "")
    page.click("#reanalyze")
    wait_for_frames(page, 2)
    newest = last_response(page)
    assert newest["face_verified"] is True and len(held) == 1

    with page.expect_response("**/analyze_frame") as answer:
        held[0].continue_()
    assert answer.value.json()["face_verified"] is False  # what would have been drawn
    expect(page.locator("#overlay")).to_have_attribute("data-dropped", "1")
    assert frames(page) == 2
    assert last_response(page) == newest
    expect(page.locator("#alert-log li[data-code='FACE_MISMATCH']")).to_have_count(0)


def test_a_frame_with_no_answer_times_out_and_the_badge_stops_saying_ok(
    page: Page, server: str, client: httpx2.Client, picture: Path
) -> None:
    status = client.get("/health").json()["status"]
    held: list[Route] = []
    hold_frames(page, held, picture.name.encode())
    page.clock.install()
    page.goto(f"{server}/test_ui.html")
    expect(badge(page)).to_have_text(status)
    page.check("#mode-upload")
    with page.expect_request("**/analyze_frame"):
        page.set_input_files("#upload-file", str(picture))
    page.clock.run_for(A_MINUTE_MS)
    error = page.locator("#analyze-error")
    expect(error).to_have_attribute("data-code", "timeout")
    expect(error).to_contain_text("no answer from")
    # /health still answers, but frames do not: the badge says so, not "ok".
    expect(badge(page)).to_have_text("frames failing")
    expect(badge(page)).to_have_class(DOWN)
    expect(badge(page)).to_have_attribute("title", re.compile(f"/health says {status}"))
    assert frames(page) == 0

    # The server answers again: the frame is drawn and the badge follows /health again.
    page.unroute("**/analyze_frame")
    page.click("#reanalyze")
    wait_for_frames(page, 1)
    expect(error).to_be_empty()
    expect(badge(page)).to_have_text(status)


def test_frames_failing_on_the_server_turn_the_badge_from_ok(
    page: Page, server: str, client: httpx2.Client
) -> None:
    status = client.get("/health").json()["status"]
    failure = {"detail": "the analysis queue is full", "code": "overloaded"}
    page.route("**/analyze_frame", lambda route: route.fulfill(status=503, json=failure))
    page.goto(f"{server}/test_ui.html")
    expect(badge(page)).to_have_text(status)
    page.click("#start-camera")
    error = page.locator("#analyze-error")
    expect(error).to_have_attribute("data-status", "503")
    expect(error).to_contain_text(failure["detail"])
    expect(badge(page)).to_have_text("frames failing")
    expect(page.locator("#timeline span.error")).not_to_have_count(0)

    page.unroute("**/analyze_frame")
    wait_for_frames(page, 1)
    expect(badge(page)).to_have_text(status)
    page.click("#stop-camera")


def test_health_is_polled_and_a_dead_server_shows_unreachable(
    page: Page, server: str, client: httpx2.Client
) -> None:
    status = client.get("/health").json()["status"]
    page.clock.install()
    page.goto(f"{server}/test_ui.html")
    expect(badge(page)).to_have_text(status)

    page.route("**/*", lambda route: route.abort("connectionrefused"))
    page.clock.run_for(A_MINUTE_MS)
    expect(badge(page)).to_have_text("unreachable")
    expect(badge(page)).to_have_class(DOWN)
    expect(page.locator("#health-error")).to_have_attribute("data-code", "network_error")

    page.unroute("**/*")
    page.clock.run_for(A_MINUTE_MS)
    expect(badge(page)).to_have_text(status)
    expect(page.locator("#health-error")).to_be_empty()


def test_the_api_key_goes_with_every_call_and_stays_in_the_tab_only(
    page: Page, server: str, enrolled: dict[str, str], picture: Path
) -> None:
    key = "k-test-1234"
    sent: list[tuple[str, str | None]] = []

    def record(request: Request) -> None:
        if request.url.startswith(f"{server}/") and request.resource_type == "fetch":
            sent.append((urlsplit(request.url).path, request.headers.get("x-api-key")))

    page.on("request", record)
    page.goto(f"{server}/test_ui.html")
    expect(page.locator("#students-table tbody tr")).not_to_have_count(0)
    assert sent and all(header is None for _, header in sent)

    page.fill("#api-key", key)
    sent.clear()
    with page.expect_response("**/students"):
        page.click("#connect")
    page.check("#mode-upload")
    page.set_input_files("#upload-file", str(picture))
    wait_for_frames(page, 1)
    assert {path for path, _ in sent} >= {"/health", "/students", "/analyze_frame"}
    assert all(header == key for _, header in sent), sent

    # Kept across a reload of the tab, in sessionStorage only.
    sent.clear()
    with page.expect_response("**/students"):
        page.reload()
    expect(page.locator("#api-key")).to_have_value(key)
    assert sent and all(header == key for _, header in sent), sent
    assert page.evaluate("() => Object.keys(localStorage).length") == 0
    assert page.context.cookies() == []
    other_tab = page.context.new_page()
    other_tab.goto(f"{server}/test_ui.html")
    expect(other_tab.locator("#api-key")).to_have_value("")
    other_tab.close()

    # Emptied: no header any more.
    page.fill("#api-key", "")
    sent.clear()
    with page.expect_response("**/students"):
        page.click("#connect")
    assert sent and all(header is None for _, header in sent), sent
    assert page.evaluate("() => sessionStorage.length") == 0
