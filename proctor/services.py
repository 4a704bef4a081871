"""The long-lived objects of one process, built once: registry, store, pipeline, gallery.

Shared by the web app (in its lifespan), the CLI and the evaluations, so all of them run
exactly the same configured models. Nothing here is reached for from below: the routes
take what they need from ``Services`` and pass the gallery into the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

from proctor.admission import AdmissionGate
from proctor.attempts.evidence import EvidenceFolder
from proctor.attempts.incidents import CodeRule
from proctor.attempts.recorder import AttemptRecorder
from proctor.attempts.risk import CodeWeight
from proctor.attempts.webhook import WebhookSender
from proctor.enrollment import Enroller
from proctor.idcard import IdCardReader
from proctor.liveness.service import LivenessService, signer_for
from proctor.models.faces.selection import choose_face_backends
from proctor.models.registry import ModelRegistry
from proctor.pipeline import Pipeline
from proctor.settings import Settings
from proctor.store.attempts import AttemptStore, Scoring
from proctor.store.db import Database
from proctor.store.liveness import LivenessStore
from proctor.store.students import GalleryCache, StudentRules, StudentStore


@dataclass(frozen=True)
class Services:
    settings: Settings
    registry: ModelRegistry
    database: Database
    students: StudentStore
    galleries: GalleryCache
    pipeline: Pipeline
    enroller: Enroller
    id_cards: IdCardReader  # the card finder behind /verify_id and ID-card enrollment
    liveness: LivenessService  # signed challenges and the burst judge behind /liveness
    attempts: AttemptRecorder
    admission: AdmissionGate  # bounds the frames analysed at once (503 beyond)
    detector_reason: str  # why this face detector (for /health)
    embedder_reason: str  # why this face embedder (for /health)

    def close(self) -> None:
        if self.attempts.webhook is not None:
            self.attempts.webhook.close()
        self.database.dispose()


def build_pipeline(settings: Settings) -> Pipeline:
    """The pipeline alone (evaluations and tools that need no store)."""
    return Pipeline(settings, ModelRegistry(settings.models_dir, settings.onnx_threads))


def build_services(settings: Settings) -> Services:
    registry = ModelRegistry(settings.models_dir, settings.onnx_threads)
    database = Database(settings.store_url, settings.database_pool_size)
    database.migrate()
    students = StudentStore(
        database, StudentRules(settings.student_id_pattern, settings.max_name_length)
    )
    faces = choose_face_backends(settings, registry, students.embedding_models())
    settings = faces.settings
    pipeline = Pipeline(settings, registry)
    id_cards = IdCardReader(pipeline)
    liveness_store = LivenessStore(database)
    liveness = LivenessService(
        settings, signer_for(settings, liveness_store), liveness_store, pipeline
    )
    return Services(
        settings,
        registry,
        database,
        students,
        GalleryCache(students, settings.face_embedder),
        pipeline,
        Enroller(pipeline, id_cards),
        id_cards,
        liveness,
        build_recorder(settings, database),
        AdmissionGate(settings.analysis_workers, settings.analysis_queue, settings.retry_after_s),
        faces.detector_reason,
        faces.embedder_reason,
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
        options.neutral_frames,
        options.neutral_max_offset_deg,
    )
