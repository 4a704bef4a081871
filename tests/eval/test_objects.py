"""The objects evaluation: box matching, AP, the threshold and default-detector rules, the
splits and frame weighting on hand-made data, and on real models that its decision for a
frame is the one ``/analyze_frame`` returns."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from proctor.api.main import create_app
from proctor.eval.datasets import (
    LabelledImage,
    load_coco,
    load_desk,
    load_exam_objects,
    load_lfw_frames,
    sides,
    weights,
)
from proctor.eval.metrics import (
    ClassMatch,
    average_precision,
    choose_threshold,
    concat,
    counts_at,
    match_boxes,
    unit_rate,
)
from proctor.eval.misses import find_misses
from proctor.eval.objects import (
    Contender,
    choose_default,
    decide,
    eval_pipeline,
    observe,
    rules,
)
from proctor.eval.stats import Estimate
from proctor.models.boxes import areas
from proctor.models.detections import Detections
from proctor.models.objects.backends import (
    DEFAULT_THRESHOLDS,
    DETECTOR_MODELS,
    FACELESS_PERSON_THRESHOLDS,
)
from proctor.settings import Settings
from tests.conftest import FACE_MODELS, MODELS_DIR, make_settings, require_models
from tests.helpers import local_client

NAMES = ("book", "person")


def boxes(*rows: tuple[float, float, float, float]) -> np.ndarray:
    return np.array(rows, np.float32).reshape(-1, 4)


def test_matching_is_greedy_by_score_and_ignores_crowd_regions() -> None:
    match = match_boxes(
        boxes((0, 0, 40, 40), (2, 2, 42, 42), (210, 210, 250, 250), (0, 0, 30, 30)),
        np.array([0.9, 0.8, 0.7, 0.95], np.float32),
        boxes((0, 0, 40, 40), (100, 100, 110, 110)),
        boxes((200, 200, 300, 300)),
    )
    # Best first: 0.95 (IoU 0.56 with the big box) takes it; 0.9 then finds it taken and
    # matches nothing; 0.8 likewise; 0.7 lies inside the crowd region: dropped.
    assert match.det_scores.tolist() == pytest.approx([0.95, 0.9, 0.8])
    assert match.det_true.tolist() == [True, False, False]
    assert match.gt_scores.tolist() == pytest.approx([0.95, 0.0])
    assert match.gt_big.tolist() == [True, False]  # the 10x10 box is under 32 px
    at = counts_at(match, 0.92)
    assert (at.true_positives, at.detections, at.boxes, at.big_found, at.big) == (1, 1, 2, 1, 1)
    at = counts_at(match, 0.5)
    assert (at.true_positives, at.detections) == (1, 3)


def hand_made(det: list[tuple[float, bool]], gt: list[float], weight: float = 1.0) -> ClassMatch:
    return ClassMatch(
        np.array([s for s, _ in det], float),
        np.array([t for _, t in det], bool),
        np.full(len(det), weight),
        np.arange(len(det)),  # as if all on one image, best first
        np.array(gt, float),
        np.ones(len(gt), bool),
        np.full(len(gt), weight),
    )


def test_threshold_rule_maximises_pooled_f1_with_ties_to_the_higher_threshold() -> None:
    coco = hand_made([(0.9, True), (0.6, False), (0.3, True)], [0.9, 0.3])
    assert counts_at(coco, 0.3).f1 == pytest.approx(2 * 2 / (3 + 2))
    assert counts_at(coco, 0.9).f1 == pytest.approx(2 * 1 / (1 + 2))
    assert choose_threshold(coco) == 0.3
    # Every threshold from 0.05 to 0.3 keeps the same detections: the highest one wins.
    assert choose_threshold(hand_made([(0.3, True)], [0.3])) == 0.3
    # A second set with six false alarms at 0.5 pulls it above them: from 0.65 to 0.9 only
    # the 0.9 detection is kept (F1 2/3), and the tie goes to 0.9.
    exam = hand_made([(0.5, False)] * 6, [])
    assert choose_threshold(concat([coco, exam])) == 0.9


def test_average_precision_on_tiny_cases() -> None:
    assert average_precision(hand_made([(0.9, True), (0.8, True)], [0.9, 0.8])) == 1.0
    # A false alarm ranked above the only true positive: precision 1/2 at every recall.
    assert average_precision(hand_made([(0.9, False), (0.8, True)], [0.8])) == pytest.approx(0.5)
    # Half the boxes never found: precision 1 up to recall 0.5 (51 of 101 points), then 0.
    assert average_precision(hand_made([(0.9, True)], [0.9, 0.0])) == pytest.approx(51 / 101)
    assert average_precision(hand_made([], [0.0])) == 0.0
    assert np.isnan(average_precision(hand_made([(0.9, False)], [])))


def test_average_precision_equals_pycocotools() -> None:
    """Random images with jittered, duplicate and stray detections and crowd regions; on
    image 13, 120 confident strays push the true detections beyond COCO's 100 per image."""
    rng = np.random.default_rng(7)
    images, annotations, results, matches = [], [], [], []
    for image_id in range(1, 14):
        strays = 120 if image_id == 13 else 3
        truth = rng.uniform(0, 300, (int(rng.integers(0, 5)), 2))
        truth = np.hstack([truth, truth + rng.uniform(20, 120, truth.shape)])
        crowd = boxes((400, 400, 500, 500)) if image_id % 4 == 0 else boxes()
        found = np.vstack(
            [
                truth + rng.normal(0, 6, truth.shape),
                truth[: len(truth) // 2] + rng.normal(0, 3, (len(truth) // 2, 4)),
                np.hstack(
                    [xy := rng.uniform(0, 450, (strays, 2)), xy + rng.uniform(10, 60, (strays, 2))]
                ),
                crowd + np.array([10, 10, -40, -40]),  # inside the crowd region: ignored
            ]
        ).astype(np.float32)
        scores = rng.uniform(0.05, 1.0, len(found)).astype(np.float32)
        if image_id == 13:
            scores = np.where(np.arange(len(found)) < len(truth) * 3 // 2, 0.1, 0.5 + scores / 2)
        matches.append(match_boxes(found, scores, truth.astype(np.float32), crowd))
        images.append({"id": image_id, "width": 640, "height": 640})
        for box, is_crowd in [(b, 0) for b in truth] + [(b, 1) for b in crowd]:
            x0, y0, x1, y1 = (float(v) for v in box)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "area": (x1 - x0) * (y1 - y0),
                    "iscrowd": is_crowd,
                }
            )
        results += [
            {
                "image_id": image_id,
                "category_id": 1,
                "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])],
                "score": float(s),
            }
            for b, s in zip(found, scores, strict=True)
        ]
    with contextlib.redirect_stdout(io.StringIO()):
        truth_set = COCO()
        truth_set.dataset = {
            "images": images,
            "annotations": annotations,
            "categories": [{"id": 1, "name": "book"}],
        }
        truth_set.createIndex()
        evaluation = COCOeval(truth_set, truth_set.loadRes(results), "bbox")
        evaluation.params.iouThrs = np.array([0.5])
        evaluation.evaluate()
        evaluation.accumulate()
    precision = evaluation.eval["precision"][0, :, 0, 0, -1]
    assert average_precision(concat(matches)) == pytest.approx(float(precision.mean()), abs=1e-9)


def test_augmented_copies_weigh_as_one_frame() -> None:
    once = hand_made([(0.9, True), (0.6, False)], [0.9])
    copy = hand_made([(0.9, True), (0.6, False)], [0.9], weight=0.5)
    other = hand_made([(0.7, False), (0.4, True)], [0.4])
    assert average_precision(concat([copy, copy, other])) == pytest.approx(
        average_precision(concat([once, other]))
    )
    assert counts_at(concat([copy, copy, other]), 0.5).true_positives == 1.0
    # Frame a: two copies, one flagged; frame b: flagged. 1.5 of 2 frames.
    rate = unit_rate([True, False, True], ["a", "a", "b"])
    assert (rate.k, rate.n) == (1.5, 2)
    assert str(rate).startswith("75.0% (1.5/2;")
    assert unit_rate([True, True], ["a", "b"]).k == 2


def write_exam_set(root: Path, frames: list[int]) -> None:
    """A tiny exam_objects folder: one image per entry of ``frames`` (repeats are copies)."""
    (root / "exam_objects" / "images").mkdir(parents=True)
    names = ["cell phone", "wallet", "airpods"]
    data = {
        "categories": [{"id": i + 1, "name": n} for i, n in enumerate(names)],
        "images": [
            {"id": i + 1, "file_name": f"{i}.jpg", "source_frame": frame}
            for i, frame in enumerate(frames)
        ],
        "annotations": [
            {"id": i + 1, "image_id": i + 1, "category_id": frame % 3 + 1, "bbox": [0, 0, 9, 9]}
            for i, frame in enumerate(frames)
        ],
    }
    (root / "exam_objects" / "annotations.json").write_text(json.dumps(data))


def test_exam_frames_split_by_block_of_ten_and_copies_share_a_frame(tmp_path: Path) -> None:
    frames = [3, 3, 9, 10, 19, 25, 25, 41, 57, 68, 72, 80, 95]  # frame % 3 == 0: a phone
    write_exam_set(tmp_path, frames)
    images = load_exam_objects(tmp_path)
    assert [i.unit for i in images[:5]] == [f"exam:block {b}" for b in (0, 0, 0, 1, 1)]
    assert images[0].sample == images[1].sample != images[2].sample
    assert weights(images)[:3] == [0.5, 0.5, 1.0]
    assert images[0].holds == "cell phone" and images[0].labelled >= {"cell phone", "book"}
    side = sides(images)
    assert set(side) == {i.unit for i in images}  # one side per block, so per copy
    phones = {side[i.unit] for i in images if i.holds == "cell phone"}
    assert phones == {"tune", "report"}  # blocks with a phone are dealt apart


def test_real_splits_keep_units_on_one_side_and_phones_on_both(eval_dir: Path) -> None:
    for images in (load_exam_objects(eval_dir), load_coco(eval_dir), load_desk(eval_dir)):
        side = sides(images)
        halves = {s: [i for i in images if side[i.unit] == s] for s in ("tune", "report")}
        tune = {i.unit for i in halves["tune"]}
        report = {i.unit for i in halves["report"]}
        assert tune and report and not tune & report
        assert not {i.sample for i in halves["tune"]} & {i.sample for i in halves["report"]}
        assert abs(len(tune) - len(report)) <= 2  # at most one per stratum
    exam = load_exam_objects(eval_dir)
    side = sides(exam)
    assert {side[i.unit] for i in exam if i.holds == "cell phone"} == {"tune", "report"}


def contender(name: str, mean: float, ms: float, permissive: bool, models: int) -> Contender:
    return Contender(
        name,
        Estimate(mean, mean - 0.1, mean + 0.1, 50),
        Estimate(ms, ms - 5, ms + 5, 50),
        permissive,
        models,
    )


def test_default_detector_rule_breaks_ties_by_licence_then_speed_then_simplicity() -> None:
    agpl = contender("yolo", 0.40, 50, False, 1)
    fused = contender("fusion", 0.38, 110, True, 2)
    slow = contender("centernet", 0.35, 60, True, 1)
    fast = contender("nanodet", 0.33, 45, True, 1)
    # All tie with the best (yolo); licence drops yolo; nanodet is the fastest.
    assert choose_default([agpl, fused, slow, fast])[0] == "nanodet"
    # A clear winner is kept whatever its licence.
    clear = contender("yolo", 0.60, 50, False, 1)
    assert choose_default([clear, fused, slow, fast])[0] == "yolo"
    # Licence comes before speed: the AGPL model loses although faster.
    assert choose_default([contender("yolo", 0.4, 10, False, 1), fused])[0] == "fusion"
    # Speeds that tie go to the simpler (one model), even if its mAP is lower.
    twin = contender("fusion", 0.38, 52, True, 2)
    chosen, why = choose_default([twin, contender("nanodet", 0.33, 50, True, 1)])
    assert chosen == "nanodet" and "simplicity keeps nanodet" in why


def test_misses_are_the_unmatched_boxes_of_the_sheet_classes() -> None:
    image = LabelledImage(
        Path("a.jpg"),
        "coco",
        "coco:a",
        "coco:a",
        0,
        {"book": boxes((0, 0, 40, 40), (100, 100, 140, 140))},
        labelled=frozenset(NAMES),
    )
    kept = Detections(boxes((0, 0, 40, 40)), np.array([0.9], np.float32), np.zeros(1, int), NAMES)
    misses = find_misses([image], [kept], ["book"])
    assert [m.box.tolist() for m in misses] == [[100, 100, 140, 140]]
    assert misses[0].kept is kept


def frames_to_compare(eval_dir: Path) -> list[LabelledImage]:
    """Frames chosen by their labels: the exam frame with the largest phone, the COCO image with
    the most people, the first COCO images with a laptop and with a book, a desk frame and an
    LFW photo in a webcam frame."""
    exam = load_exam_objects(eval_dir)
    coco = load_coco(eval_dir)
    return [
        max(exam, key=lambda i: float(areas(i.truth("cell phone")).sum())),
        max(coco, key=lambda i: i.people),
        *(next(i for i in coco if len(i.truth(c))) for c in ("laptop", "book")),
        load_desk(eval_dir)[0],
        load_lfw_frames(eval_dir)[0],
    ]


def upload(image: LabelledImage) -> bytes:
    """The bytes a client would send: the file, or a lossless PNG of a composed frame."""
    picture = image.picture()
    if isinstance(picture, bytes):
        return picture
    ok, png = cv2.imencode(".png", picture)
    assert ok
    return png.tobytes()


def test_the_eval_decides_a_frame_as_analyze_frame_does(eval_dir: Path, tmp_path: Path) -> None:
    default = Settings().object_detector
    require_models(*FACE_MODELS)
    require_models(*DETECTOR_MODELS[default])
    images = frames_to_compare(eval_dir)
    seen = observe({default: eval_pipeline(default, MODELS_DIR)}, images)[default]
    shipped = rules(DEFAULT_THRESHOLDS[default], FACELESS_PERSON_THRESHOLDS[default])
    decided = [decide(frame, shipped) for frame in seen]
    watched = {"BANNED_OBJECT", "MULTIPLE_PEOPLE"}
    # This part measures the detectors alone: the service with the phone verifier off.
    alone = make_settings(tmp_path, objects={"phone_verifier": False, "hands": False})
    with local_client(create_app(alone)) as client:
        for image, result in zip(images, decided, strict=True):
            response = client.post("/analyze_frame", files={"file": ("frame", upload(image))})
            assert response.status_code == 200, response.text
            api = response.json()
            assert result.banned == api["banned_objects"], image.path
            assert result.people_count == api["people_count"], image.path
            assert [a.model_dump() for a in result.alerts] == [
                a for a in api["alerts"] if a["code"] in watched
            ], image.path
    assert any(result.alerts for result in decided)  # the comparison has teeth
