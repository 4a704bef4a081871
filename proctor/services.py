"""The long-lived objects of one process, built once: registry, store, pipeline, gallery.

Shared by the web app (in its lifespan), the CLI and the evaluations, so all of them run
exactly the same configured models. Nothing here is reached for from below: the routes
take what they need from ``Services`` and pass the gallery into the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

from proctor.enrollment import Enroller
from proctor.models.registry import ModelRegistry
from proctor.pipeline import Pipeline
from proctor.settings import Settings
from proctor.store.db import Database
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

    def close(self) -> None:
        self.database.dispose()


def build_pipeline(settings: Settings) -> Pipeline:
    """The pipeline alone (evaluations and tools that need no store)."""
    return Pipeline(settings, ModelRegistry(settings.models_dir, settings.onnx_threads))


def build_services(settings: Settings) -> Services:
    registry = ModelRegistry(settings.models_dir, settings.onnx_threads)
    database = Database(settings.store_url)
    database.migrate()
    students = StudentStore(
        database, StudentRules(settings.student_id_pattern, settings.max_name_length)
    )
    pipeline = Pipeline(settings, registry)
    return Services(
        settings,
        registry,
        database,
        students,
        GalleryCache(students, settings.face_embedder),
        pipeline,
        Enroller(pipeline),
    )
