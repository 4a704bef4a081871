"""``/docs`` (Swagger UI) and ``/redoc`` render the API in headless Chromium with every request
to another host refused, as on a machine without internet (fixtures in conftest.py).

Each test also asserts that the page did not so much as try another host: no CDN, font or
validator learns about a visit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx2
import pytest

from tests.browser.support import expect

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.eval_data]


def offline(page: Page, server: str) -> list[str]:
    """Refuse every request that is not to ``server``; the refused URLs, filled as they come."""
    refused: list[str] = []

    def handle(route: Route) -> None:
        url = route.request.url
        if url == server or url.startswith(f"{server}/"):
            route.continue_()
        else:
            refused.append(url)
            route.abort("internetdisconnected")

    page.route("**/*", handle)
    return refused


def test_swagger_ui_renders_the_operations_offline(
    page: Page, server: str, client: httpx2.Client
) -> None:
    refused = offline(page, server)
    page.goto(f"{server}/docs")
    operation = page.locator(".opblock-post:has(.opblock-summary-path[data-path='/analyze_frame'])")
    expect(operation).to_be_visible()
    expect(operation.locator(".opblock-summary-method")).to_have_text("POST")
    paths = client.get("/openapi.json").json()["paths"]
    operations = sum(len(methods) for methods in paths.values())
    expect(page.locator(".opblock")).to_have_count(operations)
    page.wait_for_load_state("networkidle")
    assert refused == []


def test_redoc_renders_the_operations_offline(
    page: Page, server: str, client: httpx2.Client
) -> None:
    refused = offline(page, server)
    page.goto(f"{server}/redoc")
    paths = client.get("/openapi.json").json()["paths"]
    analyze = paths["/analyze_frame"]["post"]
    section = page.locator(f"[data-section-id$='/operation/{analyze['operationId']}']")
    expect(section.locator("h2")).to_contain_text(analyze["summary"])
    expect(section).to_contain_text("/analyze_frame")
    operations = sum(len(methods) for methods in paths.values())
    expect(page.locator("[data-section-id*='/operation/']")).to_have_count(operations)
    page.wait_for_load_state("networkidle")
    assert refused == []
