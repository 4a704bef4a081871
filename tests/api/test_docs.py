"""``/docs`` and ``/redoc`` work offline: their pages name no other host, and every file they
load is served by proctor itself (tests/browser/test_docs_browser.py renders them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from proctor.api.main import create_app
from tests.conftest import make_settings
from tests.helpers import local_client

PAGES = ["/docs", "/redoc"]
#: What a page loads or links to: ``src``/``href`` attributes, Swagger UI's ``url`` and
#: ReDoc's ``spec-url``.
REFERENCE = re.compile(r"""(?:src|href|spec-url)="([^"]*)"|\burl: '([^']*)'""")


def references(html: str) -> list[str]:
    return [a or b for a, b in REFERENCE.findall(html)]


def docs_client(tmp_path: Path, root_path: str = "") -> TestClient:
    """An app without its lifespan (not entered as a context manager): the docs need no models."""
    return local_client(create_app(make_settings(tmp_path)), root_path=root_path)


@pytest.mark.parametrize("page", PAGES)
def test_docs_pages_load_everything_from_the_service(tmp_path: Path, page: str) -> None:
    client = docs_client(tmp_path)
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "://" not in html, "the page names another host"
    found = references(html)
    assert any(url.endswith(".js") for url in found)
    assert "/openapi.json" in found
    for url in found:
        assert url.startswith("/") and not url.startswith("//"), url
        assert client.get(url).status_code == 200, url
    # What the page's scripts add later (ReDoc's logo from its CDN) the browser refuses.
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "://" not in policy


def test_swagger_ui_does_not_send_the_spec_to_the_online_validator(tmp_path: Path) -> None:
    """Swagger UI's default shows a badge from validator.swagger.io on any host but localhost."""
    assert '"validatorUrl": null' in docs_client(tmp_path).get("/docs").text


@pytest.mark.parametrize("page", PAGES)
def test_docs_pages_behind_a_path_prefix_load_from_under_it(tmp_path: Path, page: str) -> None:
    html = docs_client(tmp_path, root_path="/proctor").get(page).text
    found = references(html)
    assert found and all(url.startswith("/proctor/") for url in found), found
