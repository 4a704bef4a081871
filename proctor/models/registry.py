"""Load model files once per process, verified against their pinned digests.

The registry is the only place that turns a manifest name (or a user's own file) into a
``ModelFile``, and the only place that creates ONNX Runtime sessions, so provider and thread
options live in one place and every wrapper shares the same session
(``InferenceSession.run`` is safe to call concurrently). Every model wrapper is built the
same way: ``Wrapper(registry.model(NAME), **options)``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from proctor.models.manifest import MANIFEST_FILE, get_spec

FETCH_HINT = "run `make models` (python -m tools.models fetch)"


class ModelUnavailableError(RuntimeError):
    """A model file is missing, corrupt or failed to load; the message says what to run."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(models_dir: Path) -> dict[str, dict[str, str]]:
    """The ``models/manifest.json`` written by provisioning (empty when absent or unreadable)."""
    try:
        return json.loads((models_dir / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return {}


@dataclass(frozen=True)
class ModelFile:
    """A verified model file; ``onnx_session()`` gives the process-wide session for it."""

    name: str  # manifest name, or "user file <path>"
    path: Path
    sha256: str | None  # None for a user's own file (nothing pinned to check it against)
    sessions: Callable[[ModelFile], ort.InferenceSession]

    def onnx_session(self) -> ort.InferenceSession:
        return self.sessions(self)


class ModelRegistry:
    """Resolves, verifies and caches models from ``models_dir``."""

    def __init__(self, models_dir: Path, onnx_threads: int = 0) -> None:
        self.models_dir = models_dir
        self.onnx_threads = onnx_threads
        self._lock = threading.RLock()
        self._verified: dict[str, ModelFile] = {}
        self._sessions: dict[Path, ort.InferenceSession] = {}
        self._errors: dict[str, str] = {}

    def model(self, name: str) -> ModelFile:
        """The verified file of manifest model ``name``; its digest is checked once per process."""
        with self._lock:
            if name not in self._verified:
                try:
                    self._verified[name] = self._verify(name)
                except ModelUnavailableError as exc:
                    self._errors[name] = str(exc)
                    raise
            return self._verified[name]

    def user_model(self, path: Path) -> ModelFile:
        """A model file the user supplies (not in the manifest: no digest to check, so it is
        only required to exist and to load)."""
        path = path.expanduser().resolve()
        if not path.is_file():
            raise ModelUnavailableError(f"user model file {path} does not exist")
        return ModelFile(f"user file {path}", path, None, self._session)

    def _session(self, model: ModelFile) -> ort.InferenceSession:
        with self._lock:
            if model.path not in self._sessions:
                options = ort.SessionOptions()
                options.intra_op_num_threads = self.onnx_threads
                options.log_severity_level = 3
                # Idle ORT threads would otherwise spin for a while after each run, taking the
                # cores from the OpenCV models and the next session of the same frame (a frame's
                # total fell from 226 to 148 ms with spinning off: tools/bench.py, 2 cores).
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                try:
                    self._sessions[model.path] = ort.InferenceSession(
                        str(model.path), options, providers=["CPUExecutionProvider"]
                    )
                except Exception as exc:  # onnxruntime raises its own untyped errors
                    message = f"model {model.name!r} failed to load in ONNX Runtime: {exc}"
                    self._errors[model.name] = message
                    raise ModelUnavailableError(message) from exc
            return self._sessions[model.path]

    def loaded(self) -> dict[str, ModelFile]:
        """Manifest models verified and (where a session was asked for) loaded without error."""
        with self._lock:
            return {n: m for n, m in self._verified.items() if n not in self._errors}

    def errors(self) -> dict[str, str]:
        with self._lock:
            return dict(self._errors)

    def _verify(self, name: str) -> ModelFile:
        spec = get_spec(name)
        path = self.models_dir / spec.file
        if not path.is_file():
            raise ModelUnavailableError(f"model {name!r} is missing ({path}): {FETCH_HINT}")
        expected = spec.sha256 or read_manifest(self.models_dir).get(name, {}).get("sha256")
        if expected is None:
            raise ModelUnavailableError(
                f"model {name!r} has no recorded digest in {self.models_dir}: {FETCH_HINT}"
            )
        actual = sha256_file(path)
        if actual != expected:
            raise ModelUnavailableError(
                f"model {name!r} is corrupt ({path}: sha256 {actual[:12]}…, expected "
                f"{expected[:12]}…): {FETCH_HINT} --force"
            )
        return ModelFile(name, path, actual, self._session)
