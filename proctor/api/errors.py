"""HTTP statuses of the service's errors: the one place that turns a ``ProctorError`` code into
a status and a ``{"detail", "code"}`` JSON body."""

from __future__ import annotations

import math

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from proctor.errors import OverloadedError, ProctorError

STATUS_BY_CODE: dict[str, int] = {
    "bad_request": 400,
    "invalid_image": 400,
    "empty_upload": 400,
    "invalid_base64": 400,
    "student_not_found": 404,
    "attempt_not_found": 404,
    "incident_not_found": 404,
    "evidence_not_found": 404,
    "student_exists": 409,
    "student_not_enrolled_for_model": 409,
    "attempt_ended": 409,
    "attempt_mismatch": 409,
    "image_too_large": 413,
    "unsupported_media_type": 415,
    "invalid_student": 422,
    "invalid_attempt": 422,
    "enrollment_image_rejected": 422,
    "model_unavailable": 503,
    "overloaded": 503,
}


def error_body(detail: str, code: str) -> dict[str, str]:
    return {"detail": detail, "code": code}


async def proctor_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProctorError)
    headers = None
    if isinstance(exc, OverloadedError):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    return JSONResponse(
        error_body(exc.message, exc.code), status_code=STATUS_BY_CODE[exc.code], headers=headers
    )


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 (a missing field, a ``seq`` that is not a non-negative integer...):
    its usual ``detail`` list of ``{loc, msg}``, plus the stable ``code`` every error has."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        {"detail": jsonable_encoder(exc.errors()), "code": "validation_error"}, status_code=422
    )
