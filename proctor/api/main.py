"""Build the FastAPI app: services in the lifespan, CORS, JSON errors, routers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from proctor import __version__
from proctor.api.errors import error_body, proctor_error_handler, validation_error_handler
from proctor.api.routes import analyze, attempts, health, students, ui
from proctor.errors import ProctorError
from proctor.services import Services, build_services
from proctor.settings import Settings, get_settings

log = logging.getLogger("proctor")

#: Multipart and base64 overhead allowed on top of the image limit, per image.
REQUEST_OVERHEAD = 4 / 3


class BodySizeLimit:
    """Refuse request bodies larger than the limit from ``Content-Length`` before reading."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_bytes:
                response = JSONResponse(
                    error_body(
                        f"request body is larger than {self.max_bytes} bytes", "request_too_large"
                    ),
                    status_code=413,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def purge_periodically(services: Services) -> None:
    """Delete expired evidence and attempts now and every ``attempts.purge_interval_s``."""
    options = services.settings.attempts
    while True:
        try:
            removed = await anyio.to_thread.run_sync(
                services.attempts.purge, options.evidence_retention_days, options.retention_days
            )
            if removed:
                log.info("purge: %d expired evidence file(s) deleted", removed)
        except Exception:  # a failed purge must not stop the next one
            log.exception("purge failed")
        await asyncio.sleep(options.purge_interval_s)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; models load in the lifespan (startup), never at import."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        for status in services.pipeline.status.values():
            if status.enabled and not status.loaded:
                log.warning("analyzer %s not loaded: %s", status.name, status.error)
        purging = asyncio.create_task(purge_periodically(services))
        yield
        purging.cancel()
        services.close()

    app = FastAPI(
        title="proctor",
        version=__version__,
        summary="Exam proctoring: one webcam frame in, one JSON verdict out.",
        lifespan=lifespan,
    )
    app.add_exception_handler(ProctorError, proctor_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=int(
            settings.max_upload_bytes * REQUEST_OVERHEAD * settings.max_images_per_request
        )
        + 65536,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    for module in (ui, health, analyze, students, attempts):
        app.include_router(module.router)
    return app
