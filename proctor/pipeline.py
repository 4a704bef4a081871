"""One way through: image bytes (or a decoded frame), a claim and a gallery in; the verdict out.

``Pipeline.analyze`` is the single entry point for a frame: the API routes, enrollment, the
CLI, the bench and every evaluation call it. It decodes and validates the image once,
downscales it once, runs the enabled analyzers in dependency order, times each stage and
merges their results into the ``AnalyzeResponse``.

The pipeline is built once per process: it loads every enabled analyzer (and so its
models) up front, so ``/health`` tells the truth and the first request is not slow. An
analyzer whose model is missing is reported unavailable, as is anything that requires it;
the rest keep working. At the same time it checks that every response field has exactly
one owner and is declared by the response schema, so a clash fails at startup, not in a
response.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from proctor.accommodations import apply_accommodations
from proctor.analyzers import ANALYZERS
from proctor.analyzers.base import Analyzer, Claim, FrameContext, PerFaceResult
from proctor.errors import ServiceUnavailableError
from proctor.frame import decode_image, exif_horizontal_fov, make_frame
from proctor.gallery import Gallery
from proctor.models.registry import ModelRegistry, ModelUnavailableError
from proctor.schemas import AnalyzeResponse, FaceOut
from proctor.settings import Settings

log = logging.getLogger(__name__)

#: Response fields the pipeline fills itself; analyzers own the rest.
PIPELINE_FIELDS = (
    "exam_id",
    "faces",
    "alerts",
    "accommodations",
    "accommodations_applied",
    "suppressed_alerts",
    "image",
    "analyzers",
    "timings_ms",
)
#: Filled after the pipeline by whoever records the frame in an attempt.
RECORDER_FIELDS = ("attempt",)


class PipelineConfigError(ValueError):
    """The configured analyzers cannot run together (unknown name, missing dependency, or a
    response field claimed twice or missing from the schema)."""


@dataclass(frozen=True)
class AnalyzerStatus:
    name: str
    enabled: bool
    loaded: bool
    requires: tuple[str, ...]
    models: list[str]
    error: str | None = None
    missing_parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Analysis:
    """The verdict and the typed results behind it (for enrollment and evaluation)."""

    response: AnalyzeResponse
    context: FrameContext


def ordered_analyzers(enabled: Collection[str]) -> list[str]:
    """The enabled names in registry (dependency) order; refuses unknown names and gaps."""
    unknown = sorted(set(enabled) - set(ANALYZERS))
    if unknown:
        raise PipelineConfigError(f"unknown analyzers {unknown}; known: {list(ANALYZERS)}")
    for name in enabled:
        missing = [dep for dep in ANALYZERS[name].requires if dep not in enabled]
        if missing:
            raise PipelineConfigError(f"analyzer {name!r} requires {missing}; enable them too")
    return [name for name in ANALYZERS if name in enabled]


def check_field_owners(names: Collection[str]) -> None:
    """Every response field has one owner, and every owned field is in the schema."""
    owners: dict[str, str] = dict.fromkeys(PIPELINE_FIELDS, "the pipeline")
    owners.update(dict.fromkeys(RECORDER_FIELDS, "the attempt recorder"))
    face_owners: dict[str, str] = {}
    for name in names:
        cls = ANALYZERS[name]
        for table, fields, schema in (
            (owners, cls.fields, AnalyzeResponse),
            (face_owners, cls.face_fields, FaceOut),
        ):
            for field_name in fields:
                if field_name not in schema.model_fields:
                    raise PipelineConfigError(
                        f"analyzer {name!r} fills {field_name!r}, which {schema.__name__} lacks"
                    )
                if field_name in table:
                    raise PipelineConfigError(
                        f"{schema.__name__}.{field_name} is claimed by both {table[field_name]!r} "
                        f"and {name!r}"
                    )
                table[field_name] = name


def required_models(settings: Settings) -> list[str]:
    """Manifest names of every model the enabled analyzers load under ``settings``."""
    names = [
        m for a in ordered_analyzers(settings.analyzers) for m in ANALYZERS[a].models(settings)
    ]
    return list(dict.fromkeys(names))


def _needed(only: Collection[str]) -> set[str]:
    """``only`` and everything it requires, transitively."""
    needed, todo = set(), list(only)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(ANALYZERS[name].requires)
    return needed


class Pipeline:
    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.analyzers: dict[str, Analyzer] = {}
        self.status: dict[str, AnalyzerStatus] = {}
        enabled = ordered_analyzers(settings.analyzers)
        check_field_owners(enabled)
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
            analyzer = cls(self.settings, self.registry)
        except ModelUnavailableError as exc:
            log.warning("analyzer %s unavailable: %s", name, exc)
            return AnalyzerStatus(name, True, False, cls.requires, [], str(exc))
        self.analyzers[name] = analyzer
        return AnalyzerStatus(
            name,
            True,
            True,
            cls.requires,
            cls.models(self.settings),
            missing_parts=tuple(analyzer.missing_parts()),
        )

    def get(self, name: str) -> Analyzer | None:
        return self.analyzers.get(name)

    def analyze(
        self,
        image: bytes | np.ndarray,
        claim: Claim,
        gallery: Gallery,
        *,
        only: Collection[str] | None = None,
    ) -> Analysis:
        """The verdict on one frame.

        ``image`` is the encoded upload (decoded and checked here) or a BGR array. ``only``
        runs just those analyzers and what they require (enrollment needs faces and
        identity, nothing else). Raises a ``ProctorError`` for bad input, and
        ``ServiceUnavailableError`` when an analyzer asked for is not loaded.
        """
        started = time.perf_counter()
        chosen = self._chosen(only)
        fov_deg = None  # from the upload's EXIF; an array has none
        if isinstance(image, bytes):
            data = image
            image = decode_image(
                data,
                max_bytes=self.settings.max_upload_bytes,
                max_pixels=self.settings.max_image_pixels,
            )
            fov_deg = exif_horizontal_fov(data)
        frame = make_frame(image, self.settings.analysis_max_side, fov_deg)
        ctx = FrameContext(frame=frame, claim=claim, gallery=gallery)
        ctx.timings_ms["decode"] = _ms_since(started)
        for name in chosen:
            begun = time.perf_counter()
            ctx.results[name] = self.analyzers[name].analyze(ctx)
            ctx.timings_ms[name] = _ms_since(begun)
        response = self._merge(ctx)
        response.timings_ms["total"] = _ms_since(started)
        return Analysis(response, ctx)

    def _chosen(self, only: Collection[str] | None) -> list[str]:
        wanted = set(self.analyzers) if only is None else _needed(only)
        missing = sorted(wanted - set(self.analyzers))
        if missing or not wanted:
            why = "; ".join(f"{n}: {self.status[n].error}" for n in missing if n in self.status)
            raise ServiceUnavailableError(
                f"analyzers {missing or 'all'} are not loaded ({why or 'none enabled'}); "
                "see GET /health"
            )
        return [name for name in self.analyzers if name in wanted]

    def _merge(self, ctx: FrameContext) -> AnalyzeResponse:
        """Each result fills exactly the fields its analyzer owns (checked), per-face fields
        by face index; coordinates come back in original-image pixels. The claimed student's
        accommodations then move the alerts they cover to ``suppressed_alerts``, here, so that
        every caller (attempt recording included) gets the same verdict."""
        fields: dict[str, Any] = {"exam_id": ctx.claim.exam_id}
        faces: list[dict[str, Any]] = []
        alerts = []
        for name, result in ctx.results.items():
            analyzer = self.analyzers[name]
            values = result.response_fields(ctx.frame)
            _check_keys(name, values, analyzer.fields)
            fields.update(values)
            alerts.extend(result.alerts)
            if analyzer.face_fields:
                per_face = cast(PerFaceResult, result).face_values(ctx.frame)
                if not faces:
                    faces = [{} for _ in per_face]
                for face, extra in zip(faces, per_face, strict=False):
                    _check_keys(name, extra, analyzer.face_fields)
                    face.update(extra)
        accommodated = apply_accommodations(
            alerts,
            ctx.claim.accommodations,
            face_count=fields.get("face_count", 0),
            people_count=fields.get("people_count"),
            banned_objects=fields.get("banned_objects", ()),
            reading_aid_classes=self.settings.accommodations.reading_aid_classes,
        )
        return AnalyzeResponse(
            **fields,
            faces=faces,
            alerts=accommodated.kept,
            accommodations=sorted(ctx.claim.accommodations),
            accommodations_applied=accommodated.applied,
            suppressed_alerts=accommodated.suppressed,
            image={"width": ctx.frame.width, "height": ctx.frame.height},
            analyzers=list(ctx.results),
            timings_ms=dict(ctx.timings_ms),
        )


def _check_keys(name: str, values: dict[str, Any], owned: tuple[str, ...]) -> None:
    if set(values) != set(owned):
        raise RuntimeError(f"analyzer {name!r} filled {sorted(values)}, but owns {sorted(owned)}")


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
