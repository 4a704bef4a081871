"""Request and response models of the HTTP API that are not analyzer results."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from proctor.accommodations import SUMMARY

ATTEMPT_ID_HELP = (
    "Record the frame in this exam attempt (created on its first frame, with the frame's "
    "exam_id and student_id); same characters as a student_id."
)
CAPTURED_AT_HELP = (
    "When the frame was captured: ISO 8601 (with a time zone, or UTC) or Unix seconds. "
    "Default: when it was received. Frames are placed in their attempt by this time, then seq."
)
SEQ_HELP = "The frame's number within its attempt; a repeated seq is not counted twice."
ACCOMMODATIONS_HELP = (
    f"Known accommodations: {SUMMARY}. They apply to frames that claim the student "
    "(student_id): the covered alerts move to suppressed_alerts; a face recognised without a "
    "claim relaxes nothing."
)


class AnalyzeBase64Request(BaseModel):
    image: str = Field(description="Base64 image, or a data URL (data:image/jpeg;base64,...).")
    student_id: str | None = Field(None, description="Claimed student: verify 1:1.")
    exam_id: str | None = Field(None, description="The exam; echoed back.")
    attempt_id: str | None = Field(None, description=ATTEMPT_ID_HELP)
    captured_at: str | float | None = Field(None, description=CAPTURED_AT_HELP)
    seq: int | None = Field(None, ge=0, description=SEQ_HELP)


class Review(BaseModel):
    verdict: Literal["confirmed", "dismissed"]
    note: str | None = Field(None, max_length=2000)
    reviewed_at: str | None = Field(None, description="ISO 8601, set by the service.")


class IncidentOut(BaseModel):
    id: str
    code: str
    severity: Literal["low", "medium", "high"]
    start: str = Field(description="ISO 8601 (UTC): the first frame that raised it.")
    end: str | None = Field(description="Its last raising frame; null while it is open.")
    frames: int = Field(description="Frames that raised it.")
    duration_s: float
    peak_confidence: float
    review: Review | None = None


class CodeTotal(BaseModel):
    incidents: int
    duration_s: float
    frames: int


class AttemptSummaryOut(BaseModel):
    attempt_id: str
    exam_id: str | None
    student_id: str | None
    status: Literal["active", "ended"]
    frames: int
    started_at: str = Field(description="ISO 8601 (UTC): the earliest frame's capture time.")
    last_frame_at: str
    ended_at: str | None = None
    risk_score: float = Field(description="0-100, from every incident (the automatic view).")
    reviewed_risk_score: float = Field(description="The same without dismissed incidents.")


class AttemptReport(AttemptSummaryOut):
    incidents: list[IncidentOut]
    totals: dict[str, CodeTotal] = Field(description="Per alert code, over all incidents.")
    risk_breakdown: dict[str, float] = Field(
        description="Points per alert code; they add up to risk_score."
    )
    reviewed_risk_breakdown: dict[str, float]


class AttemptsPage(BaseModel):
    attempts: list[AttemptSummaryOut]
    count: int = Field(description="Attempts on this page.")
    total: int = Field(description="Attempts matching the query.")
    limit: int
    offset: int


class ReviewRequest(BaseModel):
    verdict: Literal["confirmed", "dismissed"]
    note: str | None = Field(None, max_length=2000)


class EvidenceOut(BaseModel):
    kind: Literal["open", "peak"]
    frame_id: int
    created_at: str
    url: str


class StudentPublic(BaseModel):
    student_id: str
    name: str
    face_count: int = Field(
        description="Enrolled face embeddings for the current model and others."
    )
    created_at: str
    updated_at: str
    accommodations: list[str] = Field(
        description="Accommodations applied to frames claiming this student (sorted); "
        "see AccommodationsRequest."
    )


class StudentsPublic(BaseModel):
    students: list[StudentPublic]
    count: int


class AccommodationsRequest(BaseModel):
    """The student's whole set of accommodations, replacing the previous one ([] clears it)."""

    accommodations: list[str] = Field(
        max_length=20,
        examples=[["no_head_pose_alerts", "extra_person_allowed"]],
        description=f"{ACCOMMODATIONS_HELP} Duplicates count once; an unknown name is refused "
        "(422 invalid_accommodation).",
    )


class Message(BaseModel):
    message: str


class AnalyzerHealth(BaseModel):
    name: str
    enabled: bool
    loaded: bool
    requires: list[str]
    models: list[str]
    error: str | None = None
    missing_parts: list[str] = Field(
        default_factory=list,
        description="Optional parts running without their model (e.g. the phone verifier): "
        "the analyzer answers with less than configured; the status is then degraded.",
    )


class ModelHealth(BaseModel):
    name: str
    file: str
    task: str
    license: str
    permissive: bool
    source: str
    present: bool
    loaded: bool
    sha256: str | None = Field(None, description="First 12 hex digits of the verified file.")
    error: str | None = None


class AdmissionHealth(BaseModel):
    workers: int = Field(description="Frames analysed at once (PROCTOR_ANALYSIS_WORKERS).")
    queue: int = Field(description="Frames that may wait (PROCTOR_ANALYSIS_QUEUE).")
    admitted: int = Field(
        description="Frames being analysed or waiting now; at workers + queue, new frames are "
        "refused with 503 overloaded."
    )


class AccessHealth(BaseModel):
    mode: Literal["keys", "loopback", "open"] = Field(
        description="keys: an API key is required; loopback: no key configured, only this "
        "machine is served (the default); open: no key, every host (PROCTOR_OPEN_ACCESS)."
    )
    description: str
    admin_keys: int = Field(description="How many admin keys are configured (never the keys).")
    client_keys: int = Field(description="How many client keys are configured.")
    rate_limit_per_minute: int = Field(description="Per key or client address; 0: no limit.")
    cors_origins: list[str]


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when an enabled analyzer is not loaded.")
    version: str
    face_detector: str
    face_detector_reason: str = Field(
        description="Why this detector: configured, the measured default, or a fallback from "
        "the chosen one, whose model is unavailable (the other backend's is here)."
    )
    face_embedder: str
    face_embedder_reason: str = Field(
        description="Why this embedder: configured, the measured default, kept from the store "
        "(every enrolled student uses it), or a fallback from the chosen one, whose model is "
        "unavailable (only while nobody is enrolled under it)."
    )
    identity_threshold: float | None
    identify_threshold: float | None = Field(
        description="The 1:N threshold (frames without student_id) for the gallery enrolled "
        "now: it grows with the enrolled photos (identity.identify_target_fpir)."
    )
    permissive_only: bool
    students: int
    admission: AdmissionHealth
    access: AccessHealth
    analyzers: list[AnalyzerHealth]
    models: list[ModelHealth]


class IdStageOut(BaseModel):
    stage: Literal["card", "portrait", "live_face", "match"] = Field(
        description="card: the card's outline found and flattened; portrait: a face found on "
        "it; live_face: a face found in the live frame; match: the portrait compared with the "
        "live face or the enrolled student."
    )
    passed: bool
    detail: str


class VerifyIdResponse(BaseModel):
    """``POST /verify_id``: the four contract fields, then each stage and the reason."""

    card_found: bool = Field(
        description="A card outline (ID-1 proportions) was found and perspective-corrected. "
        "False with portrait_found true: no outline, the whole image was used as the card."
    )
    portrait_found: bool = Field(description="A face was found on the card (the largest).")
    match_score: float | None = Field(
        description="Cosine similarity of the portrait to the live face or to the student's "
        "best enrolled photo; null when either face is missing."
    )
    verified: bool = Field(description="match_score is at or above threshold.")
    threshold: float | None = Field(description="The identity threshold the match is held to.")
    stages: list[IdStageOut]
    reason: str | None = Field(description="Where it failed: the first failed stage's detail.")
