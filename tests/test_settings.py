"""Settings: backend resolution, licence policy, environment overrides."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from proctor.settings import Settings


def test_defaults_are_the_permissive_backends_that_tied_with_the_others() -> None:
    for settings in (Settings(), Settings(permissive_only=True)):
        assert (settings.face_detector, settings.face_embedder) == ("yunet", "sface")
        assert settings.object_detector == "nanodet"


def test_permissive_only_refuses_an_explicit_non_permissive_backend() -> None:
    with pytest.raises(ValidationError, match="non-permissive"):
        Settings(permissive_only=True, faces={"detector": "scrfd"})


def test_environment_overrides_nested_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCTOR_IDENTITY__THRESHOLD", "0.5")
    monkeypatch.setenv("PROCTOR_FACES__DETECTOR", "yunet")
    settings = Settings()
    assert settings.identity.threshold == 0.5
    assert settings.face_detector == "yunet"


def test_unknown_section_keys_are_errors() -> None:
    with pytest.raises(ValidationError):
        Settings(faces={"detectr": "yunet"})
