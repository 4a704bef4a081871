"""The test page's ID card check (and the verdict's spoof block) in headless Chromium against
the real server.

The card is SYNTHETIC, drawn and photographed into a real desk frame as the ``id_card``
evaluation does, around a photo of the camera person that was not enrolled; it is compared
with that person's enrolled photos. A plain grey image (no card, no face) must fail with the
server's reason shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2
import numpy as np
import pytest

from tests.browser.support import CAMERA_PERSON, expect, last_response, wait_for_frames
from tests.helpers import card_photo, jpeg
from tests.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.eval_data]


def verify_id(client: httpx2.Client, card: bytes, student_id: str) -> dict[str, Any]:
    """The API's own answer for the card and student: what the page must show."""
    response = client.post(
        "/verify_id",
        files={"id_image": ("card.jpg", card, "image/jpeg")},
        data={"student_id": student_id},
    )
    assert response.status_code == 200, response.text
    return response.json()


def check_card(page: Page, server: str, card: bytes, student_id: str) -> None:
    """Opens the page, uploads ``card`` in the ID card panel and checks it against the
    enrolled ``student_id``."""
    page.goto(f"{server}/test_ui.html")
    page.set_input_files(
        "#idcard-file", files=[{"name": "card.jpg", "mimeType": "image/jpeg", "buffer": card}]
    )
    expect(page.locator("#idcard-student")).to_be_disabled()  # comparing with the frame
    page.check("#idcard-ref-student")
    expect(page.locator(f"#idcard-student option[value='{student_id}']")).to_have_count(1)
    page.select_option("#idcard-student", student_id)
    page.click("#idcard-check")


def shown_stages(page: Page) -> list[dict[str, Any]]:
    return page.locator("#idcard-stages li").evaluate_all(
        "items => items.map((li) => ({stage: li.dataset.stage,"
        " passed: li.dataset.passed === 'true', text: li.textContent}))"
    )


def field(page: Page, name: str) -> str:
    return page.text_content(f"#idcard-result dd[data-field='{name}']") or ""


def test_a_card_of_the_enrolled_student_is_verified_as_the_api_says(
    page: Page, server: str, client: httpx2.Client, enrolled: dict[str, str], eval_dir: Path
) -> None:
    sid, _, folder = CAMERA_PERSON
    card = card_photo(eval_dir, folder, 4)  # enrolled from photos 1 and 2
    expected = verify_id(client, card, sid)
    assert expected["card_found"] and expected["portrait_found"] and expected["verified"]

    check_card(page, server, card, sid)
    msg = page.locator("#idcard-msg")
    expect(msg).to_have_attribute("data-verified", "true")
    expect(msg).to_contain_text("Verified")
    stages = shown_stages(page)
    assert [s["stage"] for s in stages] == [s["stage"] for s in expected["stages"]]
    assert [s["stage"] for s in stages] == ["card", "portrait", "match"]  # no live frame
    for shown, stage in zip(stages, expected["stages"], strict=True):
        assert shown["passed"] is stage["passed"] is True
        assert stage["detail"] in shown["text"]
    assert field(page, "card_found") == "yes"
    assert field(page, "portrait_found") == "yes"
    assert field(page, "verified") == "yes"
    assert field(page, "match_score").startswith(f"{expected['match_score']:.3f}")
    assert field(page, "reason") == "-"


def test_an_image_without_a_card_or_a_face_shows_the_reason(
    page: Page, server: str, client: httpx2.Client, enrolled: dict[str, str]
) -> None:
    sid = CAMERA_PERSON[0]
    grey = jpeg(np.full((480, 640, 3), 128, np.uint8))
    expected = verify_id(client, grey, sid)
    assert not expected["card_found"] and not expected["verified"] and expected["reason"]

    check_card(page, server, grey, sid)
    msg = page.locator("#idcard-msg")
    expect(msg).to_have_attribute("data-verified", "false")
    expect(msg).to_contain_text(f"Not verified: {expected['reason']}")
    stages = shown_stages(page)
    assert [s["stage"] for s in stages] == [s["stage"] for s in expected["stages"]]
    assert stages[0] == {
        "stage": "card",
        "passed": False,
        "text": f"\u2717 Card: {expected['stages'][0]['detail']}",
    }
    assert field(page, "card_found") == "no"
    assert field(page, "verified") == "no"
    assert field(page, "reason") == expected["reason"]


@pytest.fixture(scope="module")
def spoof_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server that runs the spoof check too (the shared test server leaves it out): faces,
    identity and spoof, enough for the webcam verdict's spoof row and for /verify_id."""
    tmp = tmp_path_factory.mktemp("spoof-server")
    env = {
        "PROCTOR_STUDENT_DB": str(tmp / "students.sqlite3"),
        "PROCTOR_ANALYZERS": json.dumps(["faces", "identity", "spoof"]),
    }
    with running_server(tmp, env) as running:
        yield running.url


def spoof_text(spoof: dict[str, Any]) -> str:
    """How the verdict table words a spoof block."""
    live = {True: "yes", False: "no", None: "undecided"}[spoof["live"]]
    cues = ", ".join(spoof["cues"]) or "none"
    return f"score {spoof['score']:.2f}, live {live}, cues {cues}"


def test_a_card_checked_against_the_webcam_frame_and_the_spoof_block_in_the_verdict(
    page: Page, spoof_server: str, eval_dir: Path, camera_frame: np.ndarray
) -> None:
    server = spoof_server
    page.goto(f"{server}/test_ui.html")
    page.click("#start-camera")
    wait_for_frames(page, 1)
    spoof = last_response(page)["spoof"]
    assert spoof is not None and spoof["score"] is not None  # the real check ran
    row = page.locator("#verdict dt", has_text="Spoof check").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(row).to_have_text(spoof_text(last_response(page)["spoof"]))

    card = card_photo(eval_dir, CAMERA_PERSON[2], 4)
    expected = httpx2.post(
        f"{server}/verify_id",
        files={
            "id_image": ("card.jpg", card, "image/jpeg"),
            "file": ("frame.jpg", jpeg(camera_frame), "image/jpeg"),
        },
    ).json()
    page.set_input_files(
        "#idcard-file", files=[{"name": "card.jpg", "mimeType": "image/jpeg", "buffer": card}]
    )
    page.click("#idcard-check")  # compares with the current webcam frame by default
    msg = page.locator("#idcard-msg")
    expect(msg).to_have_attribute("data-verified", str(expected["verified"]).lower())
    stages = shown_stages(page)
    assert [s["stage"] for s in stages] == ["card", "portrait", "live_face", "match"]
    assert [s["passed"] for s in stages] == [s["passed"] for s in expected["stages"]]
    # The page sends its own JPEG of the camera frame: the score is close, not identical.
    shown_score = float(field(page, "match_score").split()[0])
    assert shown_score == pytest.approx(expected["match_score"], abs=0.03)
    page.click("#stop-camera")
