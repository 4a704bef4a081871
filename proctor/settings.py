"""Every knob of the service in one place, overridable by environment variables.

Nested sections map to ``PROCTOR_<SECTION>__<FIELD>`` (for example
``PROCTOR_IDENTITY__THRESHOLD=0.4``). ``get_settings()`` is cached so the app, the
CLI and the tests share one parsed copy; tests override it through FastAPI's
``dependency_overrides`` or by building ``Settings(...)`` directly.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

FaceDetectorName = Literal["scrfd", "yunet"]
FaceEmbedderName = Literal["mobilefacenet", "sface"]

#: Backends whose weights are under a non-permissive licence (non-commercial or unknown).
NON_PERMISSIVE_BACKENDS = frozenset({"scrfd", "mobilefacenet"})


class Section(BaseModel):
    """Base of every settings section: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class FacesSettings(Section):
    detector: FaceDetectorName | None = Field(
        None,
        description="Face detector backend. Default: scrfd (best measured), or yunet when "
        "permissive_only is set.",
    )
    min_score: float = Field(0.5, ge=0.0, le=1.0, description="Minimum face detection score.")
    nms_iou: float = Field(0.4, ge=0.0, le=1.0, description="IoU above which boxes merge.")
    input_size: int = Field(
        640, ge=160, le=1920, description="Longest side of the detector input, in pixels."
    )
    min_face_px: int = Field(
        24, ge=0, description="Faces whose shorter box side is smaller than this are ignored."
    )
    retry_with_border: bool = Field(
        True,
        description="When no face is found, retry once on the frame padded with a 50% border, "
        "so faces that fill the whole frame (close-ups, ID photos) fall inside the detector's "
        "anchor sizes.",
    )


class IdentitySettings(Section):
    embedder: FaceEmbedderName | None = Field(
        None,
        description="Face embedding backend. Default: mobilefacenet (best measured), or sface "
        "when permissive_only is set. Embeddings of one backend cannot be compared with "
        "another's: switching means re-enrolling.",
    )
    threshold: float | None = Field(
        None,
        ge=-1.0,
        le=1.0,
        description="Cosine similarity at or above which two faces are the same person. "
        "Default: the backend's threshold chosen by `python -m proctor.eval faces`.",
    )
    max_faces: int = Field(5, ge=1, le=50, description="At most this many faces are embedded.")


class Settings(BaseSettings):
    """The service configuration (environment variables prefixed ``PROCTOR_``)."""

    model_config = SettingsConfigDict(
        env_prefix="PROCTOR_",
        env_nested_delimiter="__",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
    )

    models_dir: Path = Field(Path("models"), description="Where provisioned model files live.")
    model_mirror: Path | None = Field(
        None,
        description="Folder holding the pinned model files under their manifest paths; "
        "checked before downloading from the pinned URL.",
    )
    permissive_only: bool = Field(
        False,
        description="Use only models under permissive licences (MIT/Apache-2.0). Selects "
        "yunet + sface and refuses non-permissive backends.",
    )
    student_db: Path = Field(
        Path("student_db/students.sqlite3"), description="SQLite file of enrolled students."
    )
    analyzers: list[str] = Field(
        default_factory=lambda: ["faces", "identity"],
        description="Analyzers to run, by name; dependencies must be listed too.",
    )
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest accepted image file, in bytes."
    )
    max_image_pixels: int = Field(
        40_000_000, ge=1, description="Largest accepted image, in pixels (decompression bombs)."
    )
    analysis_max_side: int = Field(
        1280,
        ge=160,
        description="Frames whose longest side exceeds this are downscaled once for analysis; "
        "response coordinates stay in the original image's pixels.",
    )
    onnx_threads: int = Field(
        0, ge=0, description="Threads per ONNX Runtime session (0 = ONNX Runtime's default)."
    )
    cors_origins: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Origins allowed to call the API from a browser ('*' also allows pages "
        "opened from disk).",
    )
    faces: FacesSettings = Field(default_factory=FacesSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)

    @model_validator(mode="after")
    def _resolve_backends(self) -> Settings:
        """Fill unset backends from the licence policy and refuse contradictions at startup."""
        if self.faces.detector is None:
            self.faces.detector = "yunet" if self.permissive_only else "scrfd"
        if self.identity.embedder is None:
            self.identity.embedder = "sface" if self.permissive_only else "mobilefacenet"
        if self.permissive_only:
            chosen = {self.faces.detector, self.identity.embedder}
            bad = sorted(chosen & NON_PERMISSIVE_BACKENDS)
            if bad:
                raise ValueError(
                    f"permissive_only is set but non-permissive backends were chosen: {bad}"
                )
        return self

    @property
    def face_detector(self) -> FaceDetectorName:
        assert self.faces.detector is not None  # resolved by the validator
        return self.faces.detector

    @property
    def face_embedder(self) -> FaceEmbedderName:
        assert self.identity.embedder is not None  # resolved by the validator
        return self.identity.embedder


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, parsed once from the environment."""
    return Settings()
