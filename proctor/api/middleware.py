"""ASGI middleware around every request: its id, access line, metrics and last-resort 500
(``RequestContext``), and the body limit enforced while the body streams in (``BodySizeLimit``).

Both are plain ASGI (no ``BaseHTTPMiddleware``) so they see the raw ``receive``/``send`` and
never buffer a body.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proctor import logs
from proctor.api.errors import error_body
from proctor.api.metrics import Metrics

log = logging.getLogger("proctor.api")

#: An X-Request-ID a caller may choose (an exam platform's own trace id); anything else is
#: replaced, so a header cannot inject text into the log lines.
CALLER_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestContext:
    """Gives each request an id (``X-Request-ID`` in and out, and on every log line), writes
    one access line, counts it in the metrics, and turns an exception no handler took into
    ``500 {"detail", "code": "internal_error", "request_id"}`` with its traceback logged
    under that id."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if CALLER_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = logs.request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unexpected error")
            scope["state"]["error_code"] = "internal_error"
            status = 500
            response = JSONResponse(
                {**error_body("internal error", "internal_error"), "request_id": request_id},
                status_code=500,
                headers={"x-request-id": request_id},
            )
            await response(scope, receive, send)  # a started response raises here: it ends
        finally:
            self._account(scope, status, time.perf_counter() - started)
            logs.request_id.reset(token)

    def _account(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        self.metrics.requests.labels(method, template, str(status)).inc()
        self.metrics.latency.labels(method, template).observe(seconds)
        code = scope["state"].get("error_code")
        if code:
            self.metrics.errors.labels(code).inc()
        log.info(
            "%s %s %d",
            method,
            scope["path"],
            status,
            extra={
                "route": template,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "client": (scope.get("client") or ("-",))[0],
                "error_code": code,
            },
        )


class RequestTooLarge(HTTPException):
    """Raised from ``receive`` once the body passes its route's limit: an ``HTTPException``
    because FastAPI re-raises those from body parsing (any other error there becomes a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes")


class BodySizeLimit:
    """Refuses a body over its route's limit: at once from ``Content-Length``, and while it
    streams in when the length is absent (chunked) or wrong, before it is all read, so neither
    a base64 JSON body nor a multipart upload can fill memory or the temp folder."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            scope.setdefault("state", {})["error_code"] = "request_too_large"
            response = JSONResponse(
                error_body(RequestTooLarge(limit).detail, "request_too_large"), status_code=413
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit)
            return message

        await self.app(scope, counted_receive, send)
