"""Build the FastAPI app: services in the lifespan; access, CORS, body limits, request ids,
metrics and JSON errors around the routers."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException

from proctor import __version__
from proctor.api.access import ACCESS_MODES, AccessPolicy
from proctor.api.errors import http_error_handler, proctor_error_handler, validation_error_handler
from proctor.api.metrics import Metrics
from proctor.api.middleware import BodySizeLimit, RequestContext
from proctor.api.routes import (
    analyze,
    attempts,
    docs,
    health,
    liveness,
    students,
    ui,
    verify_id,
)
from proctor.api.routes import metrics as metrics_route
from proctor.errors import ProctorError
from proctor.services import Services, build_services
from proctor.settings import Settings, get_settings

log = logging.getLogger("proctor")

#: Multipart and base64 overhead allowed on top of the image limit, per image.
REQUEST_OVERHEAD = 4 / 3
#: Form fields and JSON beside the images, and the whole body of a route that takes no image.
SMALL_BODY_BYTES = 64 * 1024
#: Routes that take images, with how many per request (None: ``max_images_per_request``).
IMAGE_ROUTES: tuple[tuple[re.Pattern[str], int | None], ...] = (
    (re.compile(r"/analyze_frame(_base64)?"), 1),
    (re.compile(r"/students(/[^/]+/faces)?"), None),
    (re.compile(r"/verify_id"), 2),
)


def body_limits(settings: Settings) -> Callable[[str], int]:
    """The body limit of a path: room for its images (an analysis frame does not need the
    room of ten enrollment photos), and a small JSON body everywhere else."""
    one_image = int(settings.max_upload_bytes * REQUEST_OVERHEAD)
    # A liveness burst is many small webcam frames, each under its own, smaller limit.
    burst = int(settings.liveness.frame_bytes * REQUEST_OVERHEAD) * settings.liveness.max_frames

    def limit_for(path: str) -> int:
        if path == "/liveness":
            return burst + SMALL_BODY_BYTES
        for pattern, images in IMAGE_ROUTES:
            if pattern.fullmatch(path):
                return one_image * (images or settings.max_images_per_request) + SMALL_BODY_BYTES
        return SMALL_BODY_BYTES

    return limit_for


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
        metrics.watch_admission(lambda: services.admission.admitted, services.admission.workers)
        log.log(
            logging.INFO if settings.access_mode == "keys" else logging.WARNING,
            "access: %s",
            ACCESS_MODES[settings.access_mode],
            extra={"access_mode": settings.access_mode},
        )
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
        # proctor.api.routes.docs serves both with local assets, not from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.access = AccessPolicy(settings)
    app.state.metrics = metrics = Metrics()
    app.add_exception_handler(ProctorError, proctor_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    # Last added runs first: the request context sees every response, the body limit runs
    # closest to the routes.
    app.add_middleware(BodySizeLimit, limit_for=body_limits(settings))
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
        expose_headers=["Retry-After", "X-Request-ID"],
    )
    app.add_middleware(RequestContext, metrics=metrics)
    routers = (ui, health, analyze, liveness, verify_id, students, attempts, metrics_route, docs)
    for module in routers:
        app.include_router(module.router)
    return app
