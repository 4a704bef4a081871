"""Exam attempts: the ranked list, one attempt's report, ending, deleting, reviewing incidents
and their evidence (the review pages that show them are in ``ui``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from proctor.api.access import ACCESS_RESPONSES, AdminAccess
from proctor.api.deps import ServicesDep
from proctor.api.schemas import (
    AttemptReport,
    AttemptsPage,
    AttemptSummaryOut,
    CodeTotal,
    EvidenceOut,
    IncidentOut,
    Message,
    Review,
    ReviewRequest,
)
from proctor.errors import EvidenceNotFoundError
from proctor.store.attempts import AttemptSummary, AttemptView, IncidentView
from proctor.store.schema import BIGINT_MAX

router = APIRouter(
    prefix="/attempts", tags=["attempts"], dependencies=[AdminAccess], responses=ACCESS_RESPONSES
)

NOT_FOUND = {404: {"description": "No such attempt (or incident)"}}


def iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def incident_out(view: IncidentView) -> IncidentOut:
    incident = view.incident
    return IncidentOut(
        id=incident.id,
        code=incident.code,
        severity=incident.severity,
        start=iso(incident.start) or "",
        end=iso(incident.end),
        frames=incident.frames,
        duration_s=round(incident.duration_s, 3),
        peak_confidence=round(incident.peak_confidence, 4),
        review=None
        if view.verdict is None
        else Review(verdict=view.verdict, note=view.note, reviewed_at=iso(view.reviewed_at)),
    )


def summary_out(summary: AttemptSummary) -> AttemptSummaryOut:
    return AttemptSummaryOut(
        attempt_id=summary.attempt_id,
        exam_id=summary.exam_id,
        student_id=summary.student_id,
        status=summary.status,  # type: ignore[arg-type]
        frames=summary.frames,
        started_at=iso(summary.started_at) or "",
        last_frame_at=iso(summary.last_frame_at) or "",
        ended_at=iso(summary.ended_at),
        risk_score=summary.risk_score,
        reviewed_risk_score=summary.reviewed_risk_score,
    )


def report(view: AttemptView) -> AttemptReport:
    totals: dict[str, CodeTotal] = {}
    for item in view.incidents:
        incident = item.incident
        total = totals.setdefault(incident.code, CodeTotal(incidents=0, duration_s=0, frames=0))
        total.incidents += 1
        total.duration_s = round(total.duration_s + incident.duration_s, 3)
        total.frames += incident.frames
    return AttemptReport(
        **summary_out(view.summary).model_dump(),
        incidents=[incident_out(i) for i in view.incidents],
        totals=totals,
        risk_breakdown=view.risk.breakdown,
        reviewed_risk_breakdown=view.reviewed_risk.breakdown,
    )


@router.get("", response_model=AttemptsPage)
def list_attempts(
    services: ServicesDep,
    exam_id: str | None = None,
    order: Literal["risk", "recent", "started"] = "risk",
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
) -> AttemptsPage:
    """Attempts, highest risk first by default (``order=recent``: latest frame first;
    ``order=started``: oldest first), a page at a time."""
    limit = limit or services.settings.attempts.page_size
    rows, total = services.attempts.store.list(exam_id, order, limit, offset)
    attempts = [summary_out(row) for row in rows]
    return AttemptsPage(
        attempts=attempts, count=len(attempts), total=total, limit=limit, offset=offset
    )


@router.get("/{attempt_id}", response_model=AttemptReport, responses=NOT_FOUND)
def get_attempt(services: ServicesDep, attempt_id: str) -> AttemptReport:
    return report(services.attempts.store.get(attempt_id))


@router.post("/{attempt_id}/end", response_model=AttemptReport, responses=NOT_FOUND)
def end_attempt(services: ServicesDep, attempt_id: str) -> AttemptReport:
    """Close the attempt and its open incidents; later frames for it are refused (409)."""
    services.attempts.end(attempt_id)
    return report(services.attempts.store.get(attempt_id))


@router.delete("/{attempt_id}", response_model=Message, responses=NOT_FOUND)
def delete_attempt(services: ServicesDep, attempt_id: str) -> Message:
    """Everything about the attempt: frames, incidents, reviews, evidence files."""
    services.attempts.delete(attempt_id)
    return Message(message=f"attempt {attempt_id!r} deleted")


@router.post(
    "/{attempt_id}/incidents/{incident_id}/review",
    response_model=IncidentOut,
    responses=NOT_FOUND,
)
def review_incident(
    services: ServicesDep, attempt_id: str, incident_id: str, body: ReviewRequest
) -> IncidentOut:
    """A reviewer's verdict; dismissed incidents leave the reviewed risk score."""
    return incident_out(
        services.attempts.store.review(
            attempt_id,
            incident_id,
            body.verdict,
            body.note,
            datetime.now(UTC).timestamp(),
        )
    )


@router.get(
    "/{attempt_id}/incidents/{incident_id}/evidence",
    response_model=list[EvidenceOut],
    responses=NOT_FOUND,
)
def list_evidence(services: ServicesDep, attempt_id: str, incident_id: str) -> list[EvidenceOut]:
    """The stored frames of an incident (empty unless evidence is switched on)."""
    return [
        EvidenceOut(
            kind=item.kind,  # type: ignore[arg-type]
            frame_id=item.frame_id,
            created_at=iso(item.created_at) or "",
            url=f"/attempts/{attempt_id}/incidents/{incident_id}/evidence/{item.kind}",
        )
        for item in services.attempts.store.evidence(attempt_id, incident_id)
    ]


@router.get(
    "/{attempt_id}/incidents/{incident_id}/evidence/{kind}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}, **NOT_FOUND},
)
def evidence_image(
    services: ServicesDep, attempt_id: str, incident_id: str, kind: Literal["open", "peak"]
) -> FileResponse:
    for item in services.attempts.store.evidence(attempt_id, incident_id):
        path = services.attempts.evidence.path(item.path)
        if item.kind == kind and path.is_file():
            return FileResponse(path, media_type="image/jpeg")
    raise EvidenceNotFoundError(f"incident {incident_id!r} has no {kind!r} evidence")
