"""``/`` and ``/test_ui.html``: the webcam page for browsers, service info as JSON for scripts.

``/`` negotiates on ``Accept``: a browser (which prefers ``text/html``) gets the page;
scripts written for the seed API (``Accept: */*`` or ``application/json``) keep getting
JSON.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from proctor import __version__

router = APIRouter(tags=["ui"])

ENDPOINTS = ["/health", "/analyze_frame", "/analyze_frame_base64", "/students", "/docs"]


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


@lru_cache(maxsize=1)
def test_page() -> str:
    """The single-file webcam test page, shipped as package data of the API."""
    return files("proctor.api").joinpath("static/test_ui.html").read_text(encoding="utf-8")


@router.get("/", response_model=None, summary="Service info (JSON) or the test page (browsers)")
def root(request: Request) -> Response:
    if prefers_html(request.headers.get("accept", "")):
        return HTMLResponse(test_page())
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
    return HTMLResponse(test_page())
