"""Errors a client can cause, each with a stable snake_case code and an HTTP status.

Raising one of these anywhere below the API turns into ``{"detail": ..., "code": ...}``
with its status (see ``proctor.api.main``), so bad input is always a 4xx with a JSON
body and never a 500.
"""

from __future__ import annotations


class ProctorError(Exception):
    """Base class: ``code`` never changes once published; ``message`` is for humans."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidImageError(ProctorError):
    status_code = 400
    code = "invalid_image"


class EmptyUploadError(ProctorError):
    status_code = 400
    code = "empty_upload"


class InvalidBase64Error(ProctorError):
    status_code = 400
    code = "invalid_base64"


class ImageTooLargeError(ProctorError):
    status_code = 413
    code = "image_too_large"


class UnsupportedMediaTypeError(ProctorError):
    status_code = 415
    code = "unsupported_media_type"


class StudentNotFoundError(ProctorError):
    status_code = 404
    code = "student_not_found"


class StudentExistsError(ProctorError):
    status_code = 409
    code = "student_exists"


class EnrollmentImageError(ProctorError):
    """An enrollment photo that does not show exactly one usable face."""

    status_code = 422
    code = "enrollment_image_rejected"


class ServiceUnavailableError(ProctorError):
    """A model the request needs is not provisioned or failed to load."""

    status_code = 503
    code = "model_unavailable"
