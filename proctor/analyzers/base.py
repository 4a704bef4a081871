"""What an analyzer is, and the per-frame context analyzers share.

An analyzer has a ``name`` (its slug everywhere), the analyzers it ``requires``, the
response ``fields`` it owns (and the per-face ``face_fields``), loads its models in
``__init__`` through the registry, and answers ``analyze(ctx)`` with a result. A result
fills exactly the fields its analyzer owns (``response_fields`` / ``face_values``) and
lists its alerts. The pipeline refuses two analyzers owning one field at startup. No
analyzer edits another's result; nothing outlives the request; analyzers know nothing of
HTTP or of the store: the caller passes the gallery in with the frame.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from proctor.frame import Frame
from proctor.gallery import Gallery
from proctor.geometry.neutral import Neutral
from proctor.models.registry import ModelRegistry
from proctor.schemas import Alert
from proctor.settings import Settings

ResultT = TypeVar("ResultT")


class AnalyzerResult(Protocol):
    alerts: list[Alert]

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        """Values of the analyzer's ``fields``; coordinates in original-image pixels."""
        ...


class PerFaceResult(AnalyzerResult, Protocol):
    def face_values(self, frame: Frame) -> list[dict[str, Any]]:
        """Values of the analyzer's ``face_fields``, one dict per detected face."""
        ...


@dataclass(frozen=True)
class Claim:
    """Who the caller says is in front of the camera, and for which exam; with a student, the
    accommodations an admin set for them (the pipeline applies them to the merged alerts)."""

    student_id: str | None = None
    exam_id: str | None = None
    accommodations: frozenset[str] = frozenset()
    #: In an attempt, the student's neutral pose from its first frames: head pose and gaze
    #: alerts are judged from it (``proctor.geometry.neutral``).
    neutral: Neutral | None = None


@dataclass
class FrameContext:
    """Everything known about one frame while the pipeline runs."""

    frame: Frame
    claim: Claim
    gallery: Gallery
    results: dict[str, AnalyzerResult] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def result(self, name: str, kind: type[ResultT]) -> ResultT:
        """The result of a required analyzer, typed (the pipeline guarantees it ran)."""
        value = self.results[name]
        if not isinstance(value, kind):
            raise TypeError(f"result of {name!r} is {type(value).__name__}, not {kind.__name__}")
        return value


class Analyzer(ABC):
    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    #: Top-level response fields this analyzer fills (``AnalyzeResponse``).
    fields: ClassVar[tuple[str, ...]] = ()
    #: Fields it fills on each face (``FaceOut``).
    face_fields: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        """Load models (raising ``ModelUnavailableError`` when one is missing)."""

    @classmethod
    def models(cls, settings: Settings) -> list[str]:
        """Manifest names of the models this analyzer loads under ``settings`` (known before
        loading anything: ``/health`` lists them and provisioning fetches them)."""
        return []

    def missing_parts(self) -> list[str]:
        """Optional parts running without their model (``/health`` lists them and says
        degraded): the analyzer answers, with less than the configured set."""
        return []

    @abstractmethod
    def analyze(self, ctx: FrameContext) -> AnalyzerResult:
        """Read the context (and the results of ``requires``); return this analyzer's result."""
