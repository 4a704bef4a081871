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

from proctor.frame import make_frame
from proctor.pipeline import Pipeline, build_response
from proctor.schemas import AnalyzeResponse
from proctor.services import build_services
from tests.conftest import make_settings, require_models

ANALYZERS = ["faces", "face_mesh", "head_pose", "gaze", "mouth", "distance"]
MODELS = ("face_detection_scrfd", "face_landmarks_facemesh", "eye_landmarks_iris")


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
    return build_services(settings).pipeline


def analyze(pipeline: Pipeline, image: np.ndarray) -> AnalyzeResponse:
    return build_response(pipeline.run(make_frame(image, 1280)))


def codes(response: AnalyzeResponse) -> set[str]:
    return {alert.code for alert in response.alerts}


def read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, f"missing eval image {path}"
    return image


def headpose_image(eval_dir: Path, name: str) -> np.ndarray:
    return read(eval_dir / "headpose" / "images" / name)


def headpose_label(eval_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((eval_dir / "headpose" / "labels.json").read_text())[name]
