"""The objects analyzer with the default detector on real labelled images.

Images are picked by their labels, never by what the detector says: for laptop and book the
COCO image where that class's box covers the largest share of the frame (the instance any
detector should find first); for the phone the exam_objects webcam frame with the largest
phone box (COCO's largest phone, held up with another phone's screen in it, is one the
default detector misses: see the README's misses sheet); for the people count the COCO
images with exactly two people who both stand at least half the image tall and barely
overlap; and for "nothing to report" LFW face photos (one person, no object) placed in a
webcam-sized frame.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from proctor.analyzers.base import Claim
from proctor.analyzers.objects import ObjectsAnalyzer, UnknownClassError
from proctor.api.main import create_app
from proctor.gallery import Gallery
from proctor.models.boxes import iou
from proctor.models.objects.backends import DETECTOR_MODELS
from proctor.pipeline import Pipeline
from proctor.schemas import AnalyzeResponse
from proctor.services import build_services
from proctor.settings import Settings
from tests.conftest import FACE_MODELS, MODELS_DIR, make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, local_client

OBJECT_MODELS = DETECTOR_MODELS[Settings().object_detector]


def coco_images(eval_dir: Path) -> Iterator[tuple[Path, int, int, dict[str, list[list[float]]]]]:
    """(path, width, height, {class: non-crowd xyxy boxes, "crowd " + class: crowd boxes})."""
    for split in ("val2017", "train2017"):
        data = json.loads(
            (eval_dir / "coco" / "annotations" / f"instances_{split}.json").read_text()
        )
        names = {c["id"]: c["name"] for c in data["categories"]}
        boxes: dict[int, dict[str, list[list[float]]]] = {}
        for ann in data["annotations"]:
            x, y, w, h = ann["bbox"]
            key = ("crowd " if ann["iscrowd"] else "") + names[ann["category_id"]]
            boxes.setdefault(ann["image_id"], {}).setdefault(key, []).append([x, y, x + w, y + h])
        for info in data["images"]:
            path = eval_dir / "coco" / split / info["file_name"]
            yield path, info["width"], info["height"], boxes.get(info["id"], {})


def largest_instance(eval_dir: Path, label: str) -> tuple[Path, np.ndarray]:
    """The COCO image whose ``label`` box covers the largest share of the frame, and that box."""
    best = max(
        (
            ((b[2] - b[0]) * (b[3] - b[1]) / (width * height), path, b)
            for path, width, height, labels in coco_images(eval_dir)
            for b in labels.get(label, [])
        ),
        key=lambda item: item[0],
    )
    return best[1], np.array(best[2], np.float32)


def largest_exam_phone(eval_dir: Path) -> tuple[Path, np.ndarray]:
    """The exam_objects webcam frame with the largest phone box, and that box."""
    data = json.loads((eval_dir / "exam_objects" / "annotations.json").read_text())
    phone = next(c["id"] for c in data["categories"] if c["name"] == "cell phone")
    best = max(
        (a for a in data["annotations"] if a["category_id"] == phone),
        key=lambda a: a["bbox"][2] * a["bbox"][3],
    )
    name = next(i["file_name"] for i in data["images"] if i["id"] == best["image_id"])
    x, y, w, h = best["bbox"]
    return eval_dir / "exam_objects" / "images" / name, np.array([x, y, x + w, y + h], np.float32)


def two_people_images(eval_dir: Path) -> list[Path]:
    """COCO images with exactly two people, both at least half the image tall, apart."""
    chosen = []
    for path, _, height, labels in coco_images(eval_dir):
        people = np.array(labels.get("person", []), np.float32).reshape(-1, 4)
        if len(people) != 2 or "crowd person" in labels:
            continue
        tall = ((people[:, 3] - people[:, 1]) >= height / 2).all()
        if tall and iou(people[:1], people[1:])[0, 0] < 0.1:
            chosen.append(path)
    return chosen


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The faces and objects analyzers with default settings, loaded once."""
    require_models(*FACE_MODELS, *OBJECT_MODELS)
    settings = make_settings(tmp_path_factory.mktemp("objects"), analyzers=["faces", "objects"])
    pipeline = build_services(settings).pipeline
    assert pipeline.status["objects"].loaded, pipeline.status["objects"].error
    return pipeline


def analyze(pipeline: Pipeline, image: np.ndarray) -> AnalyzeResponse:
    gallery = Gallery(pipeline.settings.face_embedder, 0)
    return pipeline.analyze(image, Claim(), gallery).response


def codes(response: AnalyzeResponse) -> set[str]:
    return {alert.code for alert in response.alerts}


@pytest.mark.parametrize(
    "label",
    [
        "cell phone",
        "laptop",
        pytest.param(
            "book",
            marks=pytest.mark.xfail(
                strict=True,
                reason="the default nanodet scores COCO's largest book 0.15, under its book "
                "threshold 0.20 (every detector scores it 0.15-0.17; docs/accuracy.md)",
            ),
        ),
    ],
)
def test_a_prominent_banned_object_raises_banned_object(
    pipeline: Pipeline, eval_dir: Path, label: str
) -> None:
    if label == "cell phone":
        path, truth = largest_exam_phone(eval_dir)
    else:
        path, truth = largest_instance(eval_dir, label)
    response = analyze(pipeline, cv2.imread(str(path)))
    assert label in response.banned_objects
    alert = next(a for a in response.alerts if a.code == "BANNED_OBJECT")
    assert label in alert.message
    found = [o for o in response.objects if o.label == label]
    boxes = np.array([[o.box.x_min, o.box.y_min, o.box.x_max, o.box.y_max] for o in found])
    assert iou(truth[None], boxes.astype(np.float32)).max() >= 0.5  # original-image pixels


def test_two_people_raise_multiple_people_with_the_right_count(
    pipeline: Pipeline, eval_dir: Path
) -> None:
    paths = two_people_images(eval_dir)
    assert paths, "no COCO image matches the two-people rule"
    for path in paths:
        response = analyze(pipeline, cv2.imread(str(path)))
        assert response.people_count == 2, path.name
        assert "MULTIPLE_PEOPLE" in codes(response), path.name
        assert sum(o.label == "person" for o in response.objects) >= 1


def test_one_person_and_no_object_raises_neither(pipeline: Pipeline, identities_dir: Path) -> None:
    people = sorted(p for p in identities_dir.iterdir() if p.is_dir())[:8]
    for person in people:
        frame = in_webcam_frame(cv2.imread(str(sorted(person.glob("*.jpg"))[0])))
        response = analyze(pipeline, frame)
        assert response.people_count == 1, person.name
        assert response.banned_objects == [], person.name
        assert not codes(response) & {"BANNED_OBJECT", "MULTIPLE_PEOPLE"}, person.name


def test_a_class_the_detector_does_not_know_is_refused_at_startup(tmp_path: Path) -> None:
    require_models(*FACE_MODELS, *OBJECT_MODELS)
    settings = make_settings(
        tmp_path, analyzers=["faces", "objects"], objects={"banned": ["phone"]}
    )
    with pytest.raises(UnknownClassError, match="'phone'"):
        build_services(settings)


def test_a_users_own_yolo_file_runs_behind_the_same_interface(
    tmp_path: Path, eval_dir: Path
) -> None:
    require_models(*FACE_MODELS, *DETECTOR_MODELS["yolo"])
    own_file = MODELS_DIR / "object_detection_yolov8n_int8.onnx"
    settings = Settings(
        models_dir=MODELS_DIR,
        student_db=tmp_path / "s.sqlite3",
        analyzers=["faces", "objects"],
        objects={"yolo_model": own_file},
    )
    pipeline = build_services(settings).pipeline
    analyzer = pipeline.get("objects")
    assert isinstance(analyzer, ObjectsAnalyzer)
    assert analyzer.models(pipeline.settings) == [
        f"user file {own_file}",
        "object_verifier_phone",
        "hand_detection_handdetect",
    ]
    path, _ = largest_instance(eval_dir, "laptop")
    assert "laptop" in analyze(pipeline, cv2.imread(str(path))).banned_objects


def test_objects_run_inside_analyze_frame(tmp_path: Path, eval_dir: Path) -> None:
    require_models(*FACE_MODELS, "face_recognition_mobilefacenet", *OBJECT_MODELS)
    path, _ = largest_instance(eval_dir, "laptop")
    with local_client(create_app(make_settings(tmp_path))) as client:
        response = client.post(
            "/analyze_frame",
            files={"file": ("frame.jpg", jpeg(cv2.imread(str(path))), "image/jpeg")},
        )
        health = client.get("/health").json()
    assert response.status_code == 200, response.text
    result = response.json()
    assert "objects" in result["analyzers"]
    assert result["timings_ms"]["objects"] > 0
    assert "laptop" in result["banned_objects"]
    assert {"label", "confidence", "box"} <= set(result["objects"][0])
    licences = {m["name"]: (m["license"], m["permissive"]) for m in health["models"]}
    assert licences["object_detection_yolov8n"] == ("AGPL-3.0 (Ultralytics)", False)
    assert licences["object_detection_centernet"][1] is True
    objects = next(a for a in health["analyzers"] if a["name"] == "objects")
    assert objects["loaded"] and objects["models"] == [
        *OBJECT_MODELS,
        "object_verifier_phone",
        "hand_detection_handdetect",
    ]
    assert objects["missing_parts"] == []
