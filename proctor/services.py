"""The long-lived objects of one process, built once: registry, store, pipeline, gallery.

Shared by the web app (in its lifespan), the CLI and the evaluations, so all of them run
exactly the same configured models. Nothing here is reached for from below: the routes
take what they need from ``Services`` and pass the gallery into the pipeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from proctor.admission import AdmissionGate
from proctor.attempts.evidence import EvidenceFolder
from proctor.attempts.incidents import CodeRule
from proctor.attempts.recorder import AttemptRecorder
from proctor.attempts.risk import CodeWeight
from proctor.attempts.webhook import WebhookSender
from proctor.enrollment import Enroller
from proctor.models.faces.backends import EMBEDDER_MODELS
from proctor.models.registry import ModelRegistry
from proctor.pipeline import Pipeline
from proctor.settings import NON_PERMISSIVE_BACKENDS, Settings
from proctor.store.attempts import AttemptStore, Scoring
from proctor.store.db import Database
from proctor.store.students import GalleryCache, StudentRules, StudentStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    registry: ModelRegistry
    database: Database
    students: StudentStore
    galleries: GalleryCache
    pipeline: Pipeline
    enroller: Enroller
    attempts: AttemptRecorder
    admission: AdmissionGate  # bounds the frames analysed at once (503 beyond)
    embedder_reason: str  # why this face embedder (for /health)

    def close(self) -> None:
        if self.attempts.webhook is not None:
            self.attempts.webhook.close()
        self.database.dispose()


def build_pipeline(settings: Settings) -> Pipeline:
    """The pipeline alone (evaluations and tools that need no store)."""
    return Pipeline(settings, ModelRegistry(settings.models_dir, settings.onnx_threads))


def embedder_for_store(settings: Settings, students: StudentStore) -> tuple[Settings, str]:
    """The settings with the embedder the store needs, and why it was chosen.

    An unconfigured embedder defaults to the measured choice, unless every enrolled embedding is
    another backend's (a store enrolled before the default changed): then that backend stays,
    because embeddings cannot be converted and nobody could be verified until re-enrolled."""
    chosen = settings.face_embedder
    if not settings.identity._defaulted:
        return settings, "configured (PROCTOR_IDENTITY__EMBEDDER)"
    enrolled = students.embedding_models()
    if len(enrolled) != 1 or chosen in enrolled:
        return settings, "the measured default"
    (kept,) = enrolled
    if kept not in EMBEDDER_MODELS or (
        settings.permissive_only and kept in NON_PERMISSIVE_BACKENDS
    ):
        return settings, "the measured default (the store's embedder is not allowed)"
    log.warning(
        "keeping the %s embedder: all %d enrolled students use it (set PROCTOR_IDENTITY__EMBEDDER "
        "and re-enroll to switch to the default %s)",
        kept,
        enrolled[kept],
        chosen,
    )
    identity = settings.identity.model_copy(update={"embedder": kept})
    return settings.model_copy(update={"identity": identity}), (
        f"kept from the store: all {enrolled[kept]} enrolled students use it"
    )


def build_services(settings: Settings) -> Services:
    registry = ModelRegistry(settings.models_dir, settings.onnx_threads)
    database = Database(settings.store_url, settings.database_pool_size)
    database.migrate()
    students = StudentStore(
        database, StudentRules(settings.student_id_pattern, settings.max_name_length)
    )
    settings, embedder_reason = embedder_for_store(settings, students)
    pipeline = Pipeline(settings, registry)
    return Services(
        settings,
        registry,
        database,
        students,
        GalleryCache(students, settings.face_embedder),
        pipeline,
        Enroller(pipeline),
        build_recorder(settings, database),
        AdmissionGate(settings.analysis_workers, settings.analysis_queue, settings.retry_after_s),
        embedder_reason,
    )


def scoring(settings: Settings) -> Scoring:
    """Incident rules and risk weights per alert code, from the settings."""
    rules = settings.attempts.incident_rules()
    return Scoring(
        {
            code: CodeRule(r.votes_to_open, r.window, r.hold_s, r.clear_s, r.full_confidence)
            for code, r in rules.items()
        },
        {code: CodeWeight(r.weight, r.tau_s) for code, r in rules.items()},
    )


def build_recorder(settings: Settings, database: Database) -> AttemptRecorder:
    options = settings.attempts
    webhook = None
    if settings.webhook_url:
        assert settings.webhook_secret is not None  # checked by the settings
        webhook = WebhookSender(
            settings.webhook_url,
            settings.webhook_secret,
            queue_size=settings.webhook_queue_size,
            attempts=settings.webhook_attempts,
            timeout_s=settings.webhook_timeout_s,
        )
    return AttemptRecorder(
        AttemptStore(database, scoring(settings)),
        EvidenceFolder(options.evidence_dir, options.evidence_max_side),
        options.evidence,
        webhook,
        settings.webhook_min_severity,
    )
