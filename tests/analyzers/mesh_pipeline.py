"""A pipeline of the face-mesh analyzers on real models, built once per settings variant, and
the real images the tests in this folder read."""

from __future__ import annotations

import json
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from proctor.analyzers.base import Claim, FrameContext
from proctor.eval.data import headpose_images, headpose_split
from proctor.gallery import Gallery
from proctor.pipeline import Pipeline
from proctor.schemas import AnalyzeResponse
from proctor.services import build_pipeline
from tests.conftest import FACE_MODELS, make_settings, require_models

ANALYZERS = ["faces", "face_mesh", "head_pose", "gaze", "mouth", "distance"]
MODELS = (FACE_MODELS[0], "face_landmarks_facemesh", "eye_landmarks_iris")


def mesh_pipeline(**overrides: Any) -> Pipeline:
    """The pipeline for these settings overrides (skips when a model is not provisioned)."""
    require_models(*MODELS)
    return _build(json.dumps(overrides, sort_keys=True))


@lru_cache
def _build(overrides_json: str) -> Pipeline:
    settings = make_settings(
        Path(tempfile.mkdtemp(prefix="proctor-mesh-")),
        analyzers=ANALYZERS,
        **json.loads(overrides_json),
    )
    return build_pipeline(settings)


def run(pipeline: Pipeline, image: np.ndarray) -> FrameContext:
    """The typed results of the pipeline's one entry point on ``image``."""
    empty = Gallery(pipeline.settings.face_embedder, 0)
    return pipeline.analyze(image, Claim(), empty).context


def analyze(pipeline: Pipeline, image: np.ndarray) -> AnalyzeResponse:
    empty = Gallery(pipeline.settings.face_embedder, 0)
    return pipeline.analyze(image, Claim(), empty).response


def codes(response: AnalyzeResponse) -> set[str]:
    return {alert.code for alert in response.alerts}


def read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, f"missing eval image {path}"
    return image


def headpose_image(eval_dir: Path, name: str) -> np.ndarray:
    return read(eval_dir / "headpose" / "images" / name)


def report_units(eval_dir: Path) -> set[str]:
    """Persons (Pointing'04) and images (AFLW2000-3D) of the pose evaluation's report split:
    the tests read these, never what the limits and the reference face were chosen on."""
    return {x.unit for x in headpose_split(headpose_images(eval_dir))["report"]}


def headpose_label(eval_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((eval_dir / "headpose" / "labels.json").read_text())[name]
