"""Pydantic models of what the API returns, shared by analyzers and routes.

Seed field names (``face_detected``, ``face_verified``, ``banned_objects``,
``headpose_alert``, ``spoofing_alert``…) are kept as they were for existing callers; new
fields carry their unit in the name. Coordinates are original-image pixels.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["low", "medium", "high"]


class Alert(BaseModel):
    """One finding a proctor should see. ``code`` values never change once published."""

    code: str = Field(examples=["NO_FACE"])
    severity: Severity
    message: str


class Box(BaseModel):
    x_min: float
    y_min: float
    x_max: float
    y_max: float


class Point(BaseModel):
    x: float
    y: float


class FaceOut(BaseModel):
    """One detected face, largest (nearest) first; analyzers add their per-face fields."""

    box: Box
    score: float = Field(description="Detector confidence, 0..1.")
    landmarks: list[Point] = Field(
        description="Eye (image left), eye (image right), nose tip, mouth corner (image left), "
        "mouth corner (image right)."
    )
    student_id: str | None = Field(None, description="Enrolled student this face matched.")
    person_name: str | None = None
    match_score: float | None = Field(
        None, description="Cosine similarity to the best-matching (or claimed) student."
    )


class ImageInfo(BaseModel):
    width: int
    height: int


class AnalyzeResponse(BaseModel):
    """The verdict on one frame."""

    model_config = ConfigDict(json_schema_extra={"description": __doc__})

    face_detected: bool = False
    face_count: int = 0
    people_count: int = Field(
        0,
        description="People in the frame (faces until the objects "
        "analyzer adds person detections).",
    )
    faces: list[FaceOut] = Field(default_factory=list)
    face_verified: bool | None = Field(
        None,
        description="With student_id: whether the primary face is that student. Without: true "
        "when it matched an enrolled student, null otherwise.",
    )
    person_name: str | None = None
    student_id: str | None = Field(None, description="Claimed student, or the one identified.")
    match_score: float | None = None
    exam_id: str | None = None
    banned_objects: list[str] = Field(default_factory=list)
    headpose_alert: bool = False
    spoofing_alert: bool = False
    alerts: list[Alert] = Field(default_factory=list)
    image: ImageInfo
    analyzers: list[str] = Field(default_factory=list, description="Analyzers that ran.")
    timings_ms: dict[str, float] = Field(default_factory=dict)
