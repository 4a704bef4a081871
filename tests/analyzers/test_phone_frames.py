"""The held-up phone on real frames with the real models: verifier, evidence, health.

Frames are picked by their labels (exam_objects: one person holding up a phone, a black
wallet or an AirPods case; desk: people alone at their desks), never by what a model says.
The figures these tests hold the models to are the measured ones in docs/accuracy.md
("Held-up phone"), with room for the spread between machines.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from proctor.analyzers.base import Claim
from proctor.analyzers.objects import HAND_MODEL, VERIFIER_MODEL, ObjectsAnalyzer
from proctor.api.main import create_app
from proctor.eval.datasets import load_desk, load_exam_objects
from proctor.gallery import Gallery
from proctor.models.objects.verifier import PhoneVerifier
from proctor.models.registry import ModelRegistry
from proctor.pipeline import Pipeline
from proctor.schemas import AnalyzeResponse
from proctor.services import build_pipeline
from tests.conftest import FACE_MODELS, MODELS_DIR, make_settings, require_models
from tests.helpers import local_client

DETECTOR = "object_detection_nanodet"


@pytest.fixture(scope="module")
def verifier() -> PhoneVerifier:
    require_models(VERIFIER_MODEL)
    return PhoneVerifier(ModelRegistry(MODELS_DIR).model(VERIFIER_MODEL))


def boxed(eval_dir: Path, holds: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(image, the held object's box) of every exam_objects frame holding ``holds``."""
    return [
        (cv2.imread(str(image.path)), image.truth(holds))
        for image in load_exam_objects(eval_dir)
        if image.holds == holds
    ]


def test_the_verifier_scores_held_phones_above_held_wallets(
    verifier: PhoneVerifier, eval_dir: Path
) -> None:
    """Crops of the boxed objects: how often a phone outscores a wallet (the AUC)."""
    phones = np.concatenate(
        [verifier.score(img, box) for img, box in boxed(eval_dir, "cell phone")]
    )
    wallets = np.concatenate([verifier.score(img, box) for img, box in boxed(eval_dir, "wallet")])
    assert len(phones) == 56 and len(wallets) == 93
    auc = (phones[:, None] > wallets[None, :]).mean()
    assert auc >= 0.75, auc
    assert np.all((phones >= 0) & (phones <= 1))


def test_the_verifier_scores_a_batch_as_it_scores_one_box_at_a_time(
    verifier: PhoneVerifier, eval_dir: Path
) -> None:
    image, box = boxed(eval_dir, "cell phone")[0]
    boxes = np.concatenate([box, box + 10, box - 10])
    together = verifier.score(image, boxes)
    alone = np.array([verifier.score(image, b[None])[0] for b in boxes])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert verifier.score(image, np.zeros((0, 4), np.float32)).shape == (0,)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    require_models(*FACE_MODELS, DETECTOR, VERIFIER_MODEL, HAND_MODEL)
    settings = make_settings(tmp_path_factory.mktemp("phone"), analyzers=["faces", "objects"])
    return build_pipeline(settings)


def analyze(pipeline: Pipeline, path: Path) -> AnalyzeResponse:
    gallery = Gallery(pipeline.settings.face_embedder, 0)
    return pipeline.analyze(path.read_bytes(), Claim(), gallery).response


def test_no_desk_frame_reports_a_phone(pipeline: Pipeline, eval_dir: Path) -> None:
    """190 frames of 29 people at their desks, nothing banned (measured: none)."""
    called = [
        image.path.name
        for image in load_desk(eval_dir)
        if "cell phone" in analyze(pipeline, image.path).banned_objects
    ]
    assert called == []


def test_a_verified_phone_carries_its_evidence(tmp_path: Path, eval_dir: Path) -> None:
    """With the verifier's threshold at 0 every phone proposal is reported, so the frame
    with the largest held phone shows what the evidence holds."""
    require_models(*FACE_MODELS, DETECTOR, VERIFIER_MODEL, HAND_MODEL)
    settings = make_settings(
        tmp_path,
        analyzers=["faces", "objects"],
        objects={"phone_verifier_threshold": 0.0, "phone_floor": 0.05},
    )
    image, _ = max(
        boxed(eval_dir, "cell phone"), key=lambda pair: np.prod(pair[1][0, 2:] - pair[1][0, :2])
    )
    ok, data = cv2.imencode(".png", image)
    assert ok
    with local_client(create_app(settings)) as client:
        verdict = client.post("/analyze_frame", files={"file": ("f.png", data.tobytes())}).json()
    phones = [o for o in verdict["objects"] if o["label"] == "cell phone"]
    assert phones, verdict["objects"]
    for phone in phones:
        evidence = phone["evidence"]
        assert 0.0 <= phone["verifier_score"] <= 1.0
        assert evidence["verifier_score"] == phone["verifier_score"]
        assert evidence["detector_label"] in ("cell phone", "remote")
        assert evidence["detector_score"] >= 0.05 and evidence["look"] == "frame"
        assert isinstance(evidence["held"], bool)
    # The phone held up in front of the student is touched by a hand.
    best = max(phones, key=lambda p: p["verifier_score"])
    assert best["evidence"]["held"] is True
    assert all(
        "evidence" not in o or o["evidence"] is None
        for o in verdict["objects"]
        if o["label"] != "cell phone"
    )


def test_without_the_verifier_the_detector_decides_and_says_so(
    tmp_path: Path, eval_dir: Path
) -> None:
    require_models(*FACE_MODELS, DETECTOR)
    settings = make_settings(
        tmp_path,
        analyzers=["faces", "objects"],
        objects={"phone_verifier": False, "hands": False, "thresholds": {"cell phone": 0.05}},
    )
    path = next(i.path for i in load_exam_objects(eval_dir) if i.holds == "cell phone")
    with local_client(create_app(settings)) as client:
        verdict = client.post("/analyze_frame", files={"file": ("f.jpg", path.read_bytes())}).json()
        health = client.get("/health").json()
    for phone in (o for o in verdict["objects"] if o["label"] == "cell phone"):
        assert phone["verifier_score"] is None and phone["evidence"]["held"] is None
    objects = next(a for a in health["analyzers"] if a["name"] == "objects")
    assert objects["loaded"] and objects["missing_parts"] == []
    assert VERIFIER_MODEL not in objects["models"]


def test_health_says_when_the_verifier_model_is_missing(tmp_path: Path) -> None:
    """A models folder without the verifier: objects still answers (the detector decides),
    and /health lists the missing part and says degraded."""
    require_models(*FACE_MODELS, DETECTOR)
    models = tmp_path / "models"
    models.mkdir()
    for path in MODELS_DIR.iterdir():
        if path.name != "object_verifier_phone.onnx":
            (models / path.name).symlink_to(path.resolve())
    settings = make_settings(tmp_path, analyzers=["faces", "objects"]).model_copy(
        update={"models_dir": models}
    )
    app = create_app(settings)
    with local_client(app) as client:
        health = client.get("/health").json()
        objects = next(a for a in health["analyzers"] if a["name"] == "objects")
        assert objects["loaded"], objects
        assert any(part.startswith(VERIFIER_MODEL) for part in objects["missing_parts"])
        assert health["status"] == "degraded"
    analyzer = build_pipeline(settings).get("objects")
    assert isinstance(analyzer, ObjectsAnalyzer) and analyzer.rules.phone.verifier_threshold is None
