"""Objects settings: default detector, licence policy, the user's own YOLO file, overrides."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from proctor.models.manifest import get_spec
from proctor.models.objects.backends import (
    DEFAULT_THRESHOLDS,
    DETECTOR_MODELS,
    FACELESS_PERSON_THRESHOLDS,
    class_thresholds,
)
from proctor.settings import Settings


def test_default_detector_is_the_rules_choice_and_permissive() -> None:
    """The eval's rule (tied banned mAP, then licence, speed, simplicity) picks nanodet."""
    assert Settings().object_detector == "nanodet"
    assert Settings(permissive_only=True).object_detector == "nanodet"
    assert all(get_spec(m).permissive for m in DETECTOR_MODELS[Settings().object_detector])
    assert "objects" in Settings().analyzers


def test_permissive_only_refuses_yolo() -> None:
    with pytest.raises(ValidationError, match="non-permissive"):
        Settings(permissive_only=True, objects={"detector": "yolo"})


def test_a_user_yolo_file_selects_yolo_and_is_refused_under_permissive_only() -> None:
    assert Settings(objects={"yolo_model": "my.onnx"}).object_detector == "yolo"
    with pytest.raises(ValidationError, match="non-permissive"):
        Settings(permissive_only=True, objects={"yolo_model": "my.onnx"})
    with pytest.raises(ValidationError, match="only used by the yolo detector"):
        Settings(objects={"detector": "centernet", "yolo_model": "my.onnx"})


def test_environment_overrides_objects_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCTOR_OBJECTS__DETECTOR", "nanodet")
    monkeypatch.setenv("PROCTOR_OBJECTS__BANNED", '["cell phone", "remote"]')
    monkeypatch.setenv("PROCTOR_OBJECTS__THRESHOLDS", '{"cell phone": 0.4}')
    monkeypatch.setenv("PROCTOR_OBJECTS__YOLO_MODEL", "")
    settings = Settings()
    assert settings.object_detector == "nanodet"
    assert settings.objects.banned == ["cell phone", "remote"]
    thresholds = class_thresholds("nanodet", settings.objects)
    assert thresholds["cell phone"] == 0.4
    assert thresholds["laptop"] == DEFAULT_THRESHOLDS["nanodet"]["laptop"]


def test_thresholds_outside_0_1_and_unknown_keys_are_errors() -> None:
    with pytest.raises(ValidationError):
        Settings(objects={"thresholds": {"book": 1.5}})
    with pytest.raises(ValidationError):
        Settings(objects={"detectr": "yolo"})


def test_every_detector_has_a_threshold_for_every_measured_class() -> None:
    classes = {"cell phone", "laptop", "book", "tv", "keyboard", "mouse", "remote", "person"}
    for name in ("yolo", "centernet", "nanodet", "fusion"):
        assert set(DEFAULT_THRESHOLDS[name]) == classes
        # The people-count rule only searches at or above the person threshold.
        assert FACELESS_PERSON_THRESHOLDS[name] >= DEFAULT_THRESHOLDS[name]["person"]
