"""The pages against a service with API keys, in headless Chromium: without a key the review
page shows the API's ``missing_api_key``; with the admin key typed into it, the attempt and
its evidence images (fetched with the key, which an ``<img src>`` could not send) appear."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx2
import numpy as np
import pytest

from tests.browser.support import expect
from tests.conftest import FACE_MODELS, require_models
from tests.helpers import jpeg
from tests.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.models]

ADMIN = "browser-admin-key-0123456789"
ATTEMPT = "keyed-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A keyed server (faces only: an empty desk opens NO_FACE) with evidence on, holding one
    attempt whose incident has evidence; its base URL."""
    require_models(*FACE_MODELS)
    tmp = tmp_path_factory.mktemp("keyed-server")
    env = {
        "PROCTOR_STUDENT_DB": str(tmp / "students.sqlite3"),
        "PROCTOR_ANALYZERS": '["faces"]',
        "PROCTOR_ADMIN_KEYS": ADMIN,
        "PROCTOR_ATTEMPTS__EVIDENCE": "true",
        "PROCTOR_ATTEMPTS__EVIDENCE_DIR": str(tmp / "evidence"),
    }
    empty_desk = jpeg(np.full((480, 640, 3), 90, np.uint8))
    with running_server(tmp, env) as running:
        with httpx2.Client(base_url=running.url, headers={"X-API-Key": ADMIN}) as client:
            for seq in range(5):
                answer = client.post(
                    "/analyze_frame",
                    data={"attempt_id": ATTEMPT, "seq": str(seq), "captured_at": str(1e9 + seq)},
                    files={"file": ("f.jpg", empty_desk, "image/jpeg")},
                )
                assert answer.status_code == 200, answer.text
            (incident,) = client.get(f"/attempts/{ATTEMPT}").json()["incidents"]
            evidence = f"/attempts/{ATTEMPT}/incidents/{incident['id']}/evidence"
            assert client.get(evidence).json(), "no evidence stored"
            assert httpx2.get(running.url + evidence).status_code == 401
        yield running.url


def test_the_review_page_takes_the_key_and_loads_the_evidence_with_it(
    page: Page, server: str
) -> None:
    page.goto(f"{server}/attempts/{ATTEMPT}/view")
    error = page.locator("#load-error")
    expect(error).to_have_attribute("data-code", "missing_api_key")
    page.fill("#api-key", ADMIN)
    page.locator("#api-key").dispatch_event("change")
    incident = page.locator("li[data-incident-id]")
    expect(incident).to_have_count(1)
    expect(incident.locator(".evidence")).to_have_attribute("data-state", "loaded")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.evidence img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    sources = page.eval_on_selector_all(".evidence img", "els => els.map(e => e.src)")
    assert sources and all(src.startswith("blob:") for src in sources)
    # The key stays with the tab: a reload needs no typing, a new tab has no key.
    page.reload()
    expect(page.locator("li[data-incident-id]")).to_have_count(1)
    other = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    other.goto(f"{server}/review")
    expect(other.locator("#load-error")).to_have_attribute("data-code", "missing_api_key")
    other.context.close()
