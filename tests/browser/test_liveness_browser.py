"""The test page's liveness check in headless Chromium against the real server.

Chromium's fake camera plays one still photo, so the burst the page records never turns,
blinks or opens its mouth: the check must fail, and the page must show every step of the
challenge as not seen and the server's reasons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.support import expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.eval_data]


def test_a_still_camera_fails_the_liveness_check_with_each_step_and_reason_shown(
    page: Page, server: str
) -> None:
    page.goto(f"{server}/test_ui.html")
    expect(page.locator("#liveness-check")).to_be_disabled()  # no camera yet
    page.click("#start-camera")
    expect(page.locator("#liveness-check")).to_be_enabled()
    page.click("#liveness-check")
    # Each step is prompted while the burst is captured.
    expect(page.locator("#liveness-prompt")).to_contain_text("Step 1 of 3")
    verdict = page.locator("#liveness-msg")
    expect(verdict).to_have_attribute("data-passed", "false")
    expect(verdict).to_contain_text("Failed")
    steps = page.locator("#liveness-steps li")
    expect(steps).to_have_count(3)
    assert page.locator("#liveness-steps li[data-passed='false']").count() == 3
    actions = steps.evaluate_all("items => items.map((li) => li.dataset.action)")
    assert len(set(actions)) == 3
    reasons = page.locator("#liveness-reasons li")
    expect(reasons.first).to_contain_text(f"{actions[0]} was not seen")
    expect(page.locator("#liveness-prompt")).to_have_text("")
    expect(page.locator("#liveness-check")).to_be_enabled()  # ready for another try
