"""Run the enabled analyzers on one frame, in dependency order, and merge their results.

The pipeline is built once per process: it loads every enabled analyzer (and so its
models) up front, so ``/health`` tells the truth and the first request is not slow.
An analyzer whose model is missing is reported unavailable, as is anything that
requires it; the rest keep working.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from proctor.analyzers import ANALYZERS
from proctor.analyzers.base import Analyzer, AnalyzerDeps, FrameContext
from proctor.frame import Frame
from proctor.models.registry import ModelUnavailableError
from proctor.schemas import AnalyzeResponse

log = logging.getLogger(__name__)


class PipelineConfigError(ValueError):
    """The configured analyzer list cannot run (unknown name or missing dependency)."""


@dataclass(frozen=True)
class AnalyzerStatus:
    name: str
    enabled: bool
    loaded: bool
    requires: tuple[str, ...]
    models: list[str]
    error: str | None = None


def ordered_analyzers(enabled: list[str]) -> list[str]:
    """The enabled names in registry (dependency) order; refuses unknown names and gaps."""
    unknown = sorted(set(enabled) - set(ANALYZERS))
    if unknown:
        raise PipelineConfigError(f"unknown analyzers {unknown}; known: {list(ANALYZERS)}")
    for name in enabled:
        missing = [dep for dep in ANALYZERS[name].requires if dep not in enabled]
        if missing:
            raise PipelineConfigError(f"analyzer {name!r} requires {missing}; enable them too")
    return [name for name in ANALYZERS if name in enabled]


class Pipeline:
    def __init__(self, deps: AnalyzerDeps) -> None:
        self.deps = deps
        self.analyzers: dict[str, Analyzer] = {}
        self.status: dict[str, AnalyzerStatus] = {}
        enabled = ordered_analyzers(deps.settings.analyzers)
        for name, cls in ANALYZERS.items():
            if name not in enabled:
                self.status[name] = AnalyzerStatus(name, False, False, cls.requires, [])
                continue
            self.status[name] = self._load(name, cls)

    def _load(self, name: str, cls: type[Analyzer]) -> AnalyzerStatus:
        unavailable = [dep for dep in cls.requires if dep not in self.analyzers]
        if unavailable:
            return AnalyzerStatus(
                name,
                True,
                False,
                cls.requires,
                [],
                f"requires unavailable analyzer(s) {unavailable}",
            )
        try:
            analyzer = cls(self.deps)
        except ModelUnavailableError as exc:
            log.warning("analyzer %s unavailable: %s", name, exc)
            return AnalyzerStatus(name, True, False, cls.requires, [], str(exc))
        self.analyzers[name] = analyzer
        return AnalyzerStatus(name, True, True, cls.requires, analyzer.model_names())

    def get(self, name: str) -> Analyzer | None:
        return self.analyzers.get(name)

    def run(
        self, frame: Frame, *, student_id: str | None = None, exam_id: str | None = None
    ) -> FrameContext:
        ctx = FrameContext(frame=frame, student_id=student_id, exam_id=exam_id)
        for name, analyzer in self.analyzers.items():
            started = time.perf_counter()
            ctx.results[name] = analyzer.analyze(ctx)
            ctx.timings_ms[name] = round((time.perf_counter() - started) * 1000, 2)
        return ctx


def build_response(ctx: FrameContext) -> AnalyzeResponse:
    """Merge every result into the response: fields in analyzer order, per-face extras by index."""
    fields: dict[str, Any] = {"exam_id": ctx.exam_id, "student_id": ctx.student_id}
    alerts = []
    for result in ctx.results.values():
        fields.update(result.response_fields(ctx.frame))
        alerts.extend(result.alerts)
    faces = fields.get("faces", [])
    for result in ctx.results.values():
        per_face = getattr(result, "face_fields", None)
        if per_face is not None:
            for face, extra in zip(faces, per_face(), strict=False):
                face.update(extra)
    return AnalyzeResponse(
        **fields,
        alerts=alerts,
        image={"width": ctx.frame.width, "height": ctx.frame.height},
        analyzers=list(ctx.results),
        timings_ms=ctx.timings_ms,
    )
