"""``POST /analyze_frame`` (multipart) and ``/analyze_frame_base64`` (JSON): one frame in,
one verdict out. Both are a few lines around ``Pipeline.analyze``; with an ``attempt_id`` the
verdict is then recorded in that attempt and the response says what it did there."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from proctor.analyzers.base import Claim
from proctor.api.access import ACCESS_RESPONSES, ClientAccess
from proctor.api.deps import GalleryDep, MetricsDep, ServicesDep
from proctor.api.metrics import Metrics
from proctor.api.schemas import (
    ATTEMPT_ID_HELP,
    CAPTURED_AT_HELP,
    SEQ_HELP,
    AnalyzeBase64Request,
)
from proctor.attempts.recorder import FrameMeta
from proctor.errors import InvalidAttemptError, NotEnrolledForModelError, StudentNotFoundError
from proctor.frame import check_content_type, decode_base64_image
from proctor.gallery import Gallery
from proctor.schemas import AnalyzeResponse, AttemptFrame, IncidentChange
from proctor.services import Services
from proctor.store.schema import BIGINT_MAX

router = APIRouter(tags=["analyze"], dependencies=[ClientAccess], responses=ACCESS_RESPONSES)

ERROR_RESPONSES: dict[int | str, dict[str, str]] = {
    400: {"description": "Empty, undecodable or truncated image, or bad base64"},
    404: {"description": "student_id is not enrolled"},
    409: {
        "description": "student_id is enrolled under another face embedder; the attempt has "
        "ended or belongs to another exam or student"
    },
    413: {"description": "Image over the byte or pixel limit"},
    415: {"description": "Upload is not an image"},
    422: {"description": "Missing or malformed field (code invalid_attempt for attempt fields)"},
    503: {
        "description": "No analyzer is loaded (model_unavailable), or every worker is busy and "
        "the waiting line is full (overloaded, with Retry-After)"
    },
}


#: The last second of the year 9999, the latest time a Python ``datetime`` can write.
LATEST_TIME = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()


def _blank(value: str | None) -> str | None:
    return (value or "").strip() or None


def claim_for(
    services: Services, gallery: Gallery, student_id: str | None, exam_id: str | None
) -> Claim:
    """The request's claim, blanks as absent, with the claimed student's accommodations; an
    unknown student is a 404, one enrolled only under another embedder a 409, before any work
    is done. Without a student_id no accommodation applies: a face the identity analyzer
    recognises 1:N is a guess, and a guess must not relax the rules."""
    student_id, exam_id = _blank(student_id), _blank(exam_id)
    if student_id is None:
        return Claim(None, exam_id)
    if student_id not in gallery:
        if not services.students.exists(student_id):
            raise StudentNotFoundError(f"student {student_id!r} is not enrolled")
        raise NotEnrolledForModelError(
            f"student {student_id!r} has no face embeddings for the current model "
            f"{gallery.model!r}; re-enroll them (POST /students/{student_id}/faces)"
        )
    return Claim(student_id, exam_id, frozenset(services.students.accommodations(student_id)))


def parse_captured_at(value: str | float | None) -> float | None:
    """Unix seconds of an ISO 8601 time (naive means UTC) or of a number of Unix seconds,
    between 1970 and the year 9999: the attempt's report writes every time as an ISO 8601 date,
    so a time outside them, once stored, would break the report and the attempts list."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = iso_seconds(text)
    if not 0 <= seconds <= LATEST_TIME:  # NaN fails both comparisons
        raise InvalidAttemptError(f"captured_at {text!r} is not a time between 1970 and 9999")
    return seconds


def iso_seconds(text: str) -> float:
    """Unix seconds of an ISO 8601 time; a time without a zone is UTC."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidAttemptError(
            f"captured_at {text!r} is neither ISO 8601 nor Unix seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def frame_meta(
    services: Services, attempt_id: str | None, captured_at: str | float | None, seq: int | None
) -> FrameMeta | None:
    """Where to record the frame, checked before any work is done; None without attempt_id."""
    attempt_id = _blank(attempt_id)
    if attempt_id is None:
        return None
    if not re.fullmatch(services.settings.student_id_pattern, attempt_id):
        raise InvalidAttemptError(
            f"attempt_id {attempt_id!r} does not match {services.settings.student_id_pattern}"
        )
    if seq is not None and seq > BIGINT_MAX:
        raise InvalidAttemptError(f"seq {seq} is larger than {BIGINT_MAX}")
    return FrameMeta(attempt_id, parse_captured_at(captured_at), seq)


def verdict(
    services: Services,
    metrics: Metrics,
    data: bytes,
    claim: Claim,
    gallery: Gallery,
    meta: FrameMeta | None,
) -> AnalyzeResponse:
    if meta is not None:  # judged from the student's own neutral pose in this attempt
        claim = replace(claim, neutral=services.attempts.neutral(meta.attempt_id))
    with services.admission.slot():
        analysis = services.pipeline.analyze(data, claim, gallery)
    metrics.observe_analysis(analysis.response.timings_ms)
    if meta is None:
        return analysis.response
    recorded = services.attempts.record(meta, analysis)
    analysis.response.attempt = AttemptFrame(
        attempt_id=recorded.attempt_id,
        frames=recorded.frames,
        recorded=recorded.frame_id is not None,
        incidents=[
            IncidentChange(id=c.incident.id, code=c.incident.code, state=c.state)
            for c in recorded.changes
        ],
    )
    return analysis.response


@router.post("/analyze_frame", response_model=AnalyzeResponse, responses=ERROR_RESPONSES)
def analyze_frame(
    services: ServicesDep,
    metrics: MetricsDep,
    gallery: GalleryDep,
    file: Annotated[UploadFile, File(description="The webcam frame (JPEG, PNG, WebP, BMP).")],
    student_id: Annotated[str | None, Form(description="Claimed student: verify 1:1.")] = None,
    exam_id: Annotated[str | None, Form(description="The exam; echoed back.")] = None,
    attempt_id: Annotated[str | None, Form(description=ATTEMPT_ID_HELP)] = None,
    captured_at: Annotated[str | None, Form(description=CAPTURED_AT_HELP)] = None,
    seq: Annotated[int | None, Form(ge=0, description=SEQ_HELP)] = None,
) -> AnalyzeResponse:
    check_content_type(file.content_type)
    claim = claim_for(services, gallery, student_id, exam_id)
    meta = frame_meta(services, attempt_id, captured_at, seq)
    data = file.file.read(services.settings.max_upload_bytes + 1)
    return verdict(services, metrics, data, claim, gallery, meta)


@router.post("/analyze_frame_base64", response_model=AnalyzeResponse, responses=ERROR_RESPONSES)
def analyze_frame_base64(
    services: ServicesDep, metrics: MetricsDep, gallery: GalleryDep, body: AnalyzeBase64Request
) -> AnalyzeResponse:
    claim = claim_for(services, gallery, body.student_id, body.exam_id)
    meta = frame_meta(services, body.attempt_id, body.captured_at, body.seq)
    data = decode_base64_image(body.image, services.settings.max_upload_bytes)
    return verdict(services, metrics, data, claim, gallery, meta)
