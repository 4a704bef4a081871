"""Errors a caller can cause, each with a stable snake_case ``code`` and a human message.

They say what went wrong in the service's own terms and know nothing of HTTP: the API layer
(``proctor.api.errors``) maps each code to a status and a ``{"detail", "code"}`` body, and
the CLI prints the message. ``code`` values never change once published.
"""

from __future__ import annotations


class ProctorError(Exception):
    """Base class: ``code`` never changes once published; ``message`` is for humans."""

    code: str = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidImageError(ProctorError):
    code = "invalid_image"


class EmptyUploadError(ProctorError):
    code = "empty_upload"


class InvalidBase64Error(ProctorError):
    code = "invalid_base64"


class ImageTooLargeError(ProctorError):
    code = "image_too_large"


class UnsupportedMediaTypeError(ProctorError):
    code = "unsupported_media_type"


class InvalidStudentError(ProctorError):
    """A student id or name that does not follow the rules in the settings."""

    code = "invalid_student"


class InvalidAccommodationError(ProctorError):
    """An accommodation name the service does not know (``proctor.accommodations``)."""

    code = "invalid_accommodation"


class StudentNotFoundError(ProctorError):
    code = "student_not_found"


class StudentExistsError(ProctorError):
    code = "student_exists"


class NotEnrolledForModelError(ProctorError):
    """The student exists but has no embeddings of the embedder in use (enrolled under
    another backend): they must be re-enrolled before they can be verified."""

    code = "student_not_enrolled_for_model"


class EnrollmentImageError(ProctorError):
    """An enrollment photo that does not show exactly one usable face."""

    code = "enrollment_image_rejected"


class ServiceUnavailableError(ProctorError):
    """A model the request needs is not provisioned or failed to load."""

    code = "model_unavailable"


class RetryLaterError(ProctorError):
    """Refused for now, not for good: the caller should retry after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class OverloadedError(RetryLaterError):
    """Every analysis worker is busy and the waiting line is full: retry after a while."""

    code = "overloaded"


class RateLimitedError(RetryLaterError):
    """This caller (API key, or client address with no keys) made too many requests."""

    code = "rate_limited"


class MissingApiKeyError(ProctorError):
    code = "missing_api_key"


class InvalidApiKeyError(ProctorError):
    code = "invalid_api_key"


class AdminKeyRequiredError(ProctorError):
    """A client key on a route that needs an admin key."""

    code = "admin_key_required"


class LoopbackOnlyError(ProctorError):
    """No key is configured and open access is off: only this machine may call."""

    code = "loopback_only"


class AttemptNotFoundError(ProctorError):
    code = "attempt_not_found"


class IncidentNotFoundError(ProctorError):
    code = "incident_not_found"


class EvidenceNotFoundError(ProctorError):
    code = "evidence_not_found"


class AttemptEndedError(ProctorError):
    """A frame for an attempt that has been ended."""

    code = "attempt_ended"


class AttemptMismatchError(ProctorError):
    """A frame whose exam or student differs from the attempt's first frame."""

    code = "attempt_mismatch"


class InvalidAttemptError(ProctorError):
    """A malformed attempt_id, captured_at or seq."""

    code = "invalid_attempt"


class InvalidTokenError(ProctorError):
    """A liveness token that is malformed or whose signature is not ours."""

    code = "invalid_token"


class TokenExpiredError(ProctorError):
    """A liveness token answered after its expiry: ask for a new challenge."""

    code = "token_expired"


class TokenUsedError(ProctorError):
    """A liveness token answered before: each challenge may be answered once."""

    code = "token_used"


class InvalidBurstError(ProctorError):
    """A liveness burst with too few or too many frames."""

    code = "invalid_burst"


class IdReferenceError(ProctorError):
    """``POST /verify_id`` with neither or both of a live frame and a student to compare the
    card's portrait with."""

    code = "invalid_id_reference"
