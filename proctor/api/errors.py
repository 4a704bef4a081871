"""HTTP statuses of the service's errors: the one place that turns a ``ProctorError`` code into
a status and a ``{"detail", "code"}`` JSON body."""

from __future__ import annotations

import math

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from proctor.errors import ProctorError, RetryLaterError

STATUS_BY_CODE: dict[str, int] = {
    "bad_request": 400,
    "missing_api_key": 401,
    "invalid_api_key": 401,
    "admin_key_required": 403,
    "loopback_only": 403,
    "invalid_image": 400,
    "empty_upload": 400,
    "invalid_token": 400,
    "invalid_base64": 400,
    "student_not_found": 404,
    "attempt_not_found": 404,
    "incident_not_found": 404,
    "evidence_not_found": 404,
    "student_exists": 409,
    "student_not_enrolled_for_model": 409,
    "attempt_ended": 409,
    "attempt_mismatch": 409,
    "token_used": 409,
    "token_expired": 410,
    "image_too_large": 413,
    "unsupported_media_type": 415,
    "invalid_student": 422,
    "invalid_accommodation": 422,
    "invalid_attempt": 422,
    "invalid_burst": 422,
    "enrollment_image_rejected": 422,
    "invalid_id_reference": 422,
    "rate_limited": 429,
    "model_unavailable": 503,
    "overloaded": 503,
}


#: Codes of the errors Starlette and FastAPI raise themselves (an unknown path, a wrong method,
#: a body over its limit), by status.
HTTP_CODES: dict[int, str] = {
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}


def error_body(detail: str, code: str) -> dict[str, str]:
    return {"detail": detail, "code": code}


def _coded(request: Request, body: dict, status: int, headers: dict | None = None) -> JSONResponse:
    """The response, with its code kept on the request for the metrics and the access line."""
    request.state.error_code = body["code"]
    return JSONResponse(body, status_code=status, headers=headers)


async def proctor_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProctorError)
    status = STATUS_BY_CODE[exc.code]
    headers = None
    if isinstance(exc, RetryLaterError):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    elif status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="proctor"'}
    return _coded(request, error_body(exc.message, exc.code), status, headers)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (404, 405, 413 from the body limit) with a stable code too."""
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    return _coded(request, error_body(str(exc.detail), code), exc.status_code, exc.headers)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 (a missing field, a ``seq`` that is not a non-negative integer...):
    its usual ``detail`` list of ``{loc, msg}``, plus the stable ``code`` every error has.
    The rejected ``input`` is left out: it would echo a whole base64 frame back (and into any
    log that keeps responses)."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {key: value for key, value in error.items() if key != "input"} for error in exc.errors()
    ]
    body = {"detail": jsonable_encoder(errors), "code": "validation_error"}
    return _coded(request, body, 422)
