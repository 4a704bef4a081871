"""What an analyzer is, and the per-frame context analyzers share.

An analyzer has a ``name`` (its slug everywhere), the analyzers it ``requires``, loads its
models in ``__init__`` through the registry, and answers ``analyze(ctx)`` with a result.
A result says which response fields it fills (``response_fields``), optionally adds
fields to each face (``face_fields``), and lists its alerts. No analyzer edits another's
result, and nothing outlives the request.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from proctor.frame import Frame
from proctor.models.registry import ModelRegistry
from proctor.schemas import Alert
from proctor.settings import Settings
from proctor.store.students import StudentStore

ResultT = TypeVar("ResultT")


class AnalyzerResult(Protocol):
    alerts: list[Alert]

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        """Top-level response fields, coordinates in original-image pixels."""
        ...


@dataclass(frozen=True)
class AnalyzerDeps:
    """What analyzers may use besides the frame: built once per process."""

    settings: Settings
    registry: ModelRegistry
    students: StudentStore


@dataclass
class FrameContext:
    """Everything known about one frame while the pipeline runs."""

    frame: Frame
    student_id: str | None = None
    exam_id: str | None = None
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

    @abstractmethod
    def __init__(self, deps: AnalyzerDeps) -> None:
        """Load models (raising ``ModelUnavailableError`` when one is missing)."""

    @abstractmethod
    def model_names(self) -> list[str]:
        """Manifest names of the models this analyzer uses, for ``/health``."""

    @abstractmethod
    def analyze(self, ctx: FrameContext) -> AnalyzerResult:
        """Read the context (and the results of ``requires``); return this analyzer's result."""
