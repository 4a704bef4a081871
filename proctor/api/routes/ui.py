"""The browser pages: ``/`` and ``/test_ui.html`` (the webcam page; service info as JSON for
scripts), ``/attempts/{attempt_id}/view`` (one attempt's review) and ``/review`` (attempts
ranked by risk).

``/`` negotiates on ``Accept``: a browser (which prefers ``text/html``) gets the page;
scripts written for the seed API (``Accept: */*`` or ``application/json``) keep getting
JSON. The pages are files shipped as package data, served self-contained (``static_page``);
each reads what to show from its own URL and calls the JSON API.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from proctor import __version__

router = APIRouter(tags=["ui"])

ENDPOINTS = [
    "/health",
    "/analyze_frame",
    "/analyze_frame_base64",
    "/students",
    "/attempts",
    "/review",
    "/docs",
]


def prefers_html(accept: str) -> bool:
    """True when ``Accept`` names ``text/html`` with a higher q-value than JSON.

    Browsers send ``text/html,...,*/*;q=0.8``; scripts send ``*/*`` or ask for JSON, and a
    wildcard alone never selects the page.
    """
    quality: dict[str, float] = {}
    for part in accept.lower().split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media.strip()] = max(q, quality.get(media.strip(), 0.0))
    return quality.get("text/html", 0.0) > quality.get("application/json", 0.0)


SHARED_SCRIPT = "api.js"


def _static_text(name: str) -> str:
    return files("proctor.api").joinpath(f"static/{name}").read_text(encoding="utf-8")


@cache
def static_page(name: str) -> str:
    """A page shipped as package data of the API (``proctor/api/static``), with the script the
    pages share inlined: served, a page then needs no second request and works under any path
    prefix; opened from disk, it loads ``api.js`` from beside itself instead."""
    return _static_text(name).replace(
        f'<script src="{SHARED_SCRIPT}"></script>',
        f"<script>\n{_static_text(SHARED_SCRIPT)}</script>",
    )


@router.get("/", response_model=None, summary="Service info (JSON) or the test page (browsers)")
def root(request: Request) -> Response:
    if prefers_html(request.headers.get("accept", "")):
        return HTMLResponse(static_page("test_ui.html"))
    return JSONResponse(
        {
            "service": "proctor",
            "version": __version__,
            "status": "running",
            "docs": "/docs",
            "endpoints": ENDPOINTS,
        }
    )


@router.get("/test_ui.html", response_model=None, include_in_schema=False)
def test_ui() -> Response:
    return HTMLResponse(static_page("test_ui.html"))


@router.get("/review", response_model=None, include_in_schema=False)
def review_list() -> Response:
    return HTMLResponse(static_page("review.html"))


@router.get("/attempts/{attempt_id}/view", response_model=None, include_in_schema=False)
def review_attempt() -> Response:
    """The review page; it reads the attempt id from its own URL (an unknown one is shown
    as the API's 404 there)."""
    return HTMLResponse(static_page("review.html"))
