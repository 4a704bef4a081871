"""``/`` content negotiation: browsers get the page, scripts keep getting JSON."""

from __future__ import annotations

import pytest

from proctor.api.routes.ui import prefers_html, static_page


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("text/html", True),
        ("*/*", False),
        ("", False),
        ("application/json", False),
        ("application/json, text/html", False),
        ("text/html;q=0.5, application/json", False),
        ("application/json;q=0.2, text/html", True),
        ("text/html;q=bogus", False),
    ],
)
def test_prefers_html(accept: str, html: bool) -> None:
    assert prefers_html(accept) is html


@pytest.mark.parametrize("name", ["test_ui.html", "review.html"])
def test_served_pages_carry_the_shared_script(name: str) -> None:
    """Served, a page needs no second request (and no path guess behind a proxy prefix)."""
    page = static_page(name)
    assert "window.ProctorApi = " in page and 'src="api.js"' not in page
    assert "window.ProctorApi.request(" in page
