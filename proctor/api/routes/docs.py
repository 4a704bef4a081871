"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with their scripts served by proctor itself.

FastAPI's own pages load Swagger UI, ReDoc, a favicon and Google Fonts from CDNs: without
internet they are blank, and every visit is announced to the CDN. Here the same pages
(FastAPI's ``get_swagger_ui_html`` / ``get_redoc_html``) point at the copies that the
``fastapi-offline`` package ships (pinned in requirements.txt; Swagger UI is Apache-2.0, ReDoc
and the package MIT). Only its files are used, not its ``FastAPIOffline`` app factory, so the app
is still built in ``proctor.api.main`` (which turns FastAPI's own ``/docs`` and ``/redoc`` off).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)

ASSETS_PATH = "/docs/assets"
router.mount(ASSETS_PATH, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")

#: What the pages may load: this service only. Their set-up is inline, ReDoc injects its styles
#: and runs its search in a ``blob:`` worker; ReDoc 2 also shows a logo from cdn.redoc.ly in its
#: sidebar (no option turns it off), which the browser then never requests.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "worker-src 'self' blob:",
    ]
)

#: Swagger UI's default sends the spec's URL to validator.swagger.io for a badge (on any host
#: but localhost): switched off, so that nothing leaves the machine.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def _root(request: Request) -> str:
    """The path prefix the app is served under (behind a proxy), as FastAPI's own pages use."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _self_only(page: HTMLResponse) -> HTMLResponse:
    """``page`` with the policy that keeps whatever its scripts add from reaching other hosts."""
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
    )
    return _self_only(page)


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    page = get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        with_google_fonts=False,
    )
    return _self_only(page)
