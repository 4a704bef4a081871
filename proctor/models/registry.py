"""Load model files once per process, verified against their pinned digests.

The registry is the only place that turns a manifest name into a path or an ONNX
Runtime session, so provider and thread options live in one place and every analyzer
shares the same loaded session (``InferenceSession.run`` is safe to call concurrently).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from proctor.models.manifest import ModelSpec, get_spec
from proctor.models.provision import read_manifest
from proctor.models.sources import sha256_file

FETCH_HINT = "run `python -m proctor.models fetch` (or `make models`)"


class ModelUnavailableError(RuntimeError):
    """A model file is missing, corrupt or failed to load; the message says what to run."""


@dataclass(frozen=True)
class LoadedModel:
    spec: ModelSpec
    path: Path
    sha256: str


class ModelRegistry:
    """Resolves, verifies and caches models from ``models_dir``."""

    def __init__(self, models_dir: Path, onnx_threads: int = 0) -> None:
        self.models_dir = models_dir
        self.onnx_threads = onnx_threads
        self._lock = threading.Lock()
        self._verified: dict[str, LoadedModel] = {}
        self._sessions: dict[str, ort.InferenceSession] = {}
        self._user_sessions: dict[Path, ort.InferenceSession] = {}
        self._errors: dict[str, str] = {}

    def resolve(self, name: str) -> LoadedModel:
        """The verified file of ``name``; digest checked once per process."""
        with self._lock:
            if name not in self._verified:
                try:
                    self._verified[name] = self._verify(get_spec(name))
                except ModelUnavailableError as exc:
                    self._errors[name] = str(exc)
                    raise
                self._errors.pop(name, None)
            return self._verified[name]

    def onnx_session(self, name: str) -> ort.InferenceSession:
        """One shared CPU ``InferenceSession`` per model."""
        loaded = self.resolve(name)
        with self._lock:
            if name not in self._sessions:
                try:
                    self._sessions[name] = self._new_session(loaded.path)
                except Exception as exc:  # onnxruntime raises its own untyped errors
                    message = f"model {name!r} failed to load in ONNX Runtime: {exc}"
                    self._errors[name] = message
                    raise ModelUnavailableError(message) from exc
            return self._sessions[name]

    def user_onnx_session(self, path: Path) -> ort.InferenceSession:
        """A session for a model file the user supplies (not in the manifest: no digest to
        check, so it is only required to exist and to load)."""
        path = path.expanduser().resolve()
        with self._lock:
            if path not in self._user_sessions:
                if not path.is_file():
                    raise ModelUnavailableError(f"user model file {path} does not exist")
                try:
                    self._user_sessions[path] = self._new_session(path)
                except Exception as exc:  # onnxruntime raises its own untyped errors
                    raise ModelUnavailableError(
                        f"user model file {path} failed to load in ONNX Runtime: {exc}"
                    ) from exc
            return self._user_sessions[path]

    def _new_session(self, path: Path) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.onnx_threads
        options.log_severity_level = 3
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def loaded(self) -> dict[str, LoadedModel]:
        with self._lock:
            return dict(self._verified)

    def errors(self) -> dict[str, str]:
        with self._lock:
            return dict(self._errors)

    def _verify(self, spec: ModelSpec) -> LoadedModel:
        path = self.models_dir / spec.file
        if not path.is_file():
            raise ModelUnavailableError(f"model {spec.name!r} is missing ({path}): {FETCH_HINT}")
        expected = spec.sha256 or read_manifest(self.models_dir).get(spec.name, {}).get("sha256")
        if expected is None:
            raise ModelUnavailableError(
                f"model {spec.name!r} has no recorded digest in {self.models_dir}: {FETCH_HINT}"
            )
        actual = sha256_file(path)
        if actual != expected:
            raise ModelUnavailableError(
                f"model {spec.name!r} is corrupt ({path}: sha256 {actual[:12]}…, expected "
                f"{expected[:12]}…): {FETCH_HINT} --force"
            )
        return LoadedModel(spec, path, actual)
