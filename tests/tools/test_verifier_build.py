"""The phone verifier is built at setup from CenterNet and this repository's trained head.

The build runs in the build venv (onnx), checks itself against its parts, and is redone
when the head changes; a head that does not match its pin is refused before anything runs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from proctor.models.manifest import DerivedSource, get_spec
from proctor.models.objects.verifier import CROP
from tests.conftest import MODELS_DIR, require_models
from tools.models.build_env import DEFAULT_BUILD_VENV, run_verifier_build
from tools.models.provision import provision
from tools.models.sources import ProvisionError, build_derived

VERIFIER = get_spec("object_verifier_phone")
BASE = get_spec("object_detection_centernet")
SOURCE = VERIFIER.source
HEAD = Path(__file__).resolve().parents[2] / "tools" / "models" / "phone_verifier_head.json"


def test_the_verifier_is_derived_from_centernet_and_a_pinned_head() -> None:
    assert isinstance(SOURCE, DerivedSource)
    assert SOURCE.base == BASE.name and VERIFIER.sha256 is None
    assert SOURCE.head == "tools/models/phone_verifier_head.json"
    head = json.loads(HEAD.read_text())
    assert len(head["coef"]) == len(head["mean"]) == len(head["scale"])
    assert set(head["operating_points"]) == {"frame", "second_look"}


def test_a_head_that_does_not_match_its_pin_is_refused(tmp_path: Path) -> None:
    base = tmp_path / "base.onnx"
    base.write_bytes(b"not used")
    wrong = DerivedSource(SOURCE.base, SOURCE.head, "0" * 64)  # type: ignore[union-attr]
    with pytest.raises(ProvisionError, match="sha256"):
        build_derived(wrong, base, tmp_path / "out.onnx", tmp_path / "no-venv")
    assert not (tmp_path / "out.onnx").exists()


def test_a_missing_base_model_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ProvisionError, match="base model"):
        build_derived(SOURCE, tmp_path / "absent.onnx", tmp_path / "o.onnx", tmp_path / "v")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The verifier built afresh into a folder holding only its base (needs the build venv)."""
    require_models(BASE.name)
    if not DEFAULT_BUILD_VENV.is_dir():
        pytest.skip("no build venv (make models creates it)")
    models = tmp_path_factory.mktemp("models")
    shutil.copy(MODELS_DIR / BASE.file, models / BASE.file)
    shutil.copy(MODELS_DIR / "manifest.json", models / "manifest.json")
    results = {r.name: r for r in provision(models, names=[BASE.name, VERIFIER.name])}
    assert results[VERIFIER.name].ok, results[VERIFIER.name].detail
    assert "checked against its parts" in results[VERIFIER.name].detail
    return models / VERIFIER.file


def test_the_built_verifier_is_the_head_on_the_backbone_features(
    built: Path, tmp_path: Path
) -> None:
    head = json.loads(HEAD.read_text())
    features = tmp_path / "backbone.onnx"
    run_verifier_build(
        ["--features", ",".join(head["features"]), str(MODELS_DIR / BASE.file), str(features)],
        DEFAULT_BUILD_VENV / "bin" / "python",
        "backbone cut",
    )
    crops = np.random.default_rng(1).uniform(0, 255, (4, CROP, CROP, 3)).astype(np.float32)
    pooled = ort.InferenceSession(str(features)).run(None, {"input": crops})[0]
    standard = (pooled - np.asarray(head["mean"])) / np.asarray(head["scale"])
    expected = 1 / (1 + np.exp(-(standard @ np.asarray(head["coef"]) + head["intercept"])))
    got = ort.InferenceSession(str(built)).run(None, {"input": crops})[0][:, 0]
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_a_changed_head_rebuilds_the_verifier(built: Path) -> None:
    models = built.parent
    manifest = json.loads((models / "manifest.json").read_text())
    recorded = manifest[VERIFIER.name]
    assert recorded["source"] == SOURCE.describe()
    # A manifest entry from another head: the file on disk is stale, so it is built again.
    manifest[VERIFIER.name]["source"] = "built from an older head"
    (models / "manifest.json").write_text(json.dumps(manifest))
    results = {r.name: r for r in provision(models, names=[VERIFIER.name])}
    assert results[VERIFIER.name].ok and results[VERIFIER.name].detail.startswith("from built")
