"""The registry: one way to get a verified model file, one place that makes sessions, and
health figures that never call a failed model loaded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from proctor.models.faces.scrfd import ScrfdDetector
from proctor.models.manifest import MANIFEST_FILE, MODELS, get_spec
from proctor.models.registry import ModelRegistry, ModelUnavailableError, sha256_file
from tests.conftest import MODELS_DIR, require_models


def test_a_file_that_verifies_but_does_not_load_is_not_loaded(tmp_path: Path) -> None:
    """A converted model is checked against the digest recorded at provisioning; if the bytes
    match that record but are not a model, the registry reports the error and not 'loaded'."""
    spec = next(spec for spec in MODELS if spec.sha256 is None)  # a converted model
    path = tmp_path / spec.file
    path.write_bytes(b"not an onnx model")
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({spec.name: {"sha256": sha256_file(path)}}))
    registry = ModelRegistry(tmp_path)
    model = registry.model(spec.name)
    with pytest.raises(ModelUnavailableError, match="failed to load"):
        model.onnx_session()
    assert spec.name not in registry.loaded()
    assert "failed to load" in registry.errors()[spec.name]


def test_wrappers_share_one_session_per_file(tmp_path: Path) -> None:
    require_models("face_detection_scrfd")
    registry = ModelRegistry(MODELS_DIR)
    first = ScrfdDetector(
        registry.model("face_detection_scrfd"), input_size=640, min_score=0.5, nms_iou=0.4
    )
    second = ScrfdDetector(
        registry.model("face_detection_scrfd"), input_size=320, min_score=0.5, nms_iou=0.4
    )
    assert first.session is second.session
    assert (
        registry.loaded()["face_detection_scrfd"].sha256 == get_spec("face_detection_scrfd").sha256
    )


def test_a_users_own_file_must_exist(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        registry.user_model(tmp_path / "mine.onnx")
    require_models("face_detection_scrfd")
    own = tmp_path / "mine.onnx"
    shutil.copyfile(MODELS_DIR / get_spec("face_detection_scrfd").file, own)
    model = registry.user_model(own)
    assert model.sha256 is None and model.name == f"user file {own.resolve()}"
    assert model.onnx_session().get_inputs()
