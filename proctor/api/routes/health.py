"""``GET /health``: what is loaded, from where, under which licence."""

from __future__ import annotations

from fastapi import APIRouter

from proctor import __version__
from proctor.analyzers.identity import IdentityAnalyzer
from proctor.api.access import ACCESS_MODES
from proctor.api.deps import GalleryDep, ServicesDep
from proctor.api.schemas import (
    AccessHealth,
    AdmissionHealth,
    AnalyzerHealth,
    Health,
    ModelHealth,
)
from proctor.models.manifest import MODELS

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(services: ServicesDep, gallery: GalleryDep) -> Health:
    pipeline = services.pipeline
    loaded = services.registry.loaded()
    errors = services.registry.errors()
    models = [
        ModelHealth(
            name=spec.name,
            file=spec.file,
            task=spec.task,
            license=spec.license,
            permissive=spec.permissive,
            source=spec.source.describe(),
            present=(services.settings.models_dir / spec.file).is_file(),
            loaded=spec.name in loaded,
            sha256=loaded[spec.name].sha256[:12] if spec.name in loaded else None,
            error=errors.get(spec.name),
        )
        for spec in MODELS
    ]
    analyzers = [
        AnalyzerHealth(
            name=s.name,
            enabled=s.enabled,
            loaded=s.loaded,
            requires=list(s.requires),
            models=s.models,
            error=s.error,
            missing_parts=list(s.missing_parts),
        )
        for s in pipeline.status.values()
    ]
    identity = pipeline.get("identity")
    degraded = any(a.enabled and (not a.loaded or a.missing_parts) for a in analyzers)
    gate = services.admission
    settings = services.settings
    return Health(
        status="degraded" if degraded else "ok",
        version=__version__,
        face_detector=services.settings.face_detector,
        face_detector_reason=services.detector_reason,
        face_embedder=services.settings.face_embedder,
        face_embedder_reason=services.embedder_reason,
        identity_threshold=identity.threshold if isinstance(identity, IdentityAnalyzer) else None,
        identify_threshold=(
            identity.identify_threshold(gallery) if isinstance(identity, IdentityAnalyzer) else None
        ),
        permissive_only=services.settings.permissive_only,
        students=services.students.count(),
        admission=AdmissionHealth(workers=gate.workers, queue=gate.queue, admitted=gate.admitted),
        access=AccessHealth(
            mode=settings.access_mode,
            description=ACCESS_MODES[settings.access_mode],
            admin_keys=len(settings.admin_keys),
            client_keys=len(settings.client_keys),
            rate_limit_per_minute=settings.rate_limit_per_minute,
            cors_origins=settings.cors_origins,
        ),
        analyzers=analyzers,
        models=models,
    )
