"""The long-lived objects of one process, built once: registry, store, pipeline, enroller.

Shared by the web app (in its lifespan), the CLI and the eval scripts, so all three run
exactly the same configured models.
"""

from __future__ import annotations

from dataclasses import dataclass

from proctor.analyzers.base import AnalyzerDeps
from proctor.enrollment import Enroller
from proctor.models.registry import ModelRegistry
from proctor.pipeline import Pipeline
from proctor.settings import Settings
from proctor.store.students import StudentStore


@dataclass(frozen=True)
class Services:
    settings: Settings
    registry: ModelRegistry
    students: StudentStore
    pipeline: Pipeline
    enroller: Enroller


def build_services(settings: Settings) -> Services:
    registry = ModelRegistry(settings.models_dir, settings.onnx_threads)
    students = StudentStore(settings.student_db)
    pipeline = Pipeline(AnalyzerDeps(settings=settings, registry=registry, students=students))
    return Services(settings, registry, students, pipeline, Enroller(pipeline, settings))
