"""Request and response models of the HTTP API that are not analyzer results."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AnalyzeBase64Request(BaseModel):
    image: str = Field(description="Base64 image, or a data URL (data:image/jpeg;base64,...).")
    student_id: str | None = Field(None, description="Claimed student: verify 1:1.")
    exam_id: str | None = Field(None, description="Echoed back; groups frames of one attempt.")


class StudentPublic(BaseModel):
    student_id: str
    name: str
    face_count: int = Field(
        description="Enrolled face embeddings for the current model and others."
    )
    created_at: str
    updated_at: str


class StudentsPublic(BaseModel):
    students: list[StudentPublic]
    count: int


class Message(BaseModel):
    message: str


class AnalyzerHealth(BaseModel):
    name: str
    enabled: bool
    loaded: bool
    requires: list[str]
    models: list[str]
    error: str | None = None


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


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when an enabled analyzer is not loaded.")
    version: str
    face_detector: str
    face_embedder: str
    identity_threshold: float | None
    permissive_only: bool
    students: int
    analyzers: list[AnalyzerHealth]
    models: list[ModelHealth]
