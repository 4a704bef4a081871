"""Banned objects and people count on real labelled images: ``python -m proctor.eval objects``.

Data (``../shared/eval``, see its MANIFESTs):

* ``coco``: 160 COCO 2017 images (train and val subsets, one image per category per split)
  with every instance boxed. All 80 classes are labelled, so any unmatched detection is a
  false positive; detections mostly inside an ``iscrowd`` region are ignored, as COCO does.
* ``exam_objects``: 195 webcam frames (109 distinct ``source_frame``s, augmented copies of
  one frame share it) of one person holding up a phone, a wallet or an AirPods case. Phones
  are boxed; wallet and AirPods frames are hard negatives; book, laptop and tv are judged
  absent on every frame; exactly one person is in every frame (no person boxes). Frame-level
  rates weigh each distinct webcam frame once (each copy weighs 1 / its copies).
* ``faces/identities``: the 240 LFW face photos (one person, nothing banned), each in a
  640x480 grey frame as the faces evaluation places them: how often a student alone at the
  camera raises BANNED_OBJECT or MULTIPLE_PEOPLE (exam_objects has no such empty frames).

Box matching: per image and class, detections best first each take the unmatched ground-truth
box they overlap most, if IoU >= 0.5. Greedy matching in score order means the matches at
any threshold are those of the detections above it, so one matching per detector serves every
threshold. Recall is given for all boxes and for boxes at least 32x32 px. AP@0.5 is
pycocotools' (101-point, at most 100 detections per image) over detections >= 0.05.

Threshold rule (the defaults in ``proctor/objects/backends.py``): per detector and class, the
threshold on the grid 0.05, 0.10, ... 0.95 that maximises F1 over every set labelling the
class (COCO for all; exam_objects too for cell phone, laptop, book and tv), ties to the
higher threshold. The default detector is the one with the best banned mAP: the mean AP@0.5
over the four default banned classes on COCO and the phones of exam_objects; the
permissive-only default is the best of the MIT-licensed ones.

People count: person boxes above the person threshold fused with the default face
detector's faces (``proctor.objects.people``). COCO's count is its non-crowd person boxes (a
crowd region means two or more); "MULTIPLE_PEOPLE right" is whether count >= 2 agrees. The
stricter threshold for a person box without a face is, per detector, the grid value (at
least the person threshold) maximising the mean of COCO MULTIPLE_PEOPLE agreement and the
share of exam frames counted as one person, ties to the higher threshold.

"False images" is the share of COCO images without a class (not even in a crowd region)
where that class is reported anyway. The boxes of cell phone, laptop and book the shipped
detector misses are drawn (ground truth green, passing detections red) in
``docs/objects_misses.jpg``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from proctor.analyzers.faces import FacesAnalyzer
from proctor.eval.common import DEFAULT_EVAL_DIR, ROOT, replace_readme_block
from proctor.eval.faces import in_webcam_frame
from proctor.models.manifest import get_spec
from proctor.models.registry import ModelRegistry, ModelUnavailableError
from proctor.objects.backends import (
    DEFAULT_THRESHOLDS,
    DETECTOR_MODELS,
    FACELESS_PERSON_THRESHOLDS,
    SCORE_FLOOR,
    build_detector,
)
from proctor.objects.boxes import coverage, iou
from proctor.objects.detections import ObjectDetections
from proctor.objects.fusion import FusionDetector, weighted_box_fusion
from proctor.objects.people import count_people
from proctor.services import build_services
from proctor.settings import ObjectsSettings, Settings

DETECTORS = ("yolo", "centernet", "nanodet", "fusion")
DEFAULT_BANNED = tuple(ObjectsSettings().banned)
EXTRAS = ("keyboard", "mouse", "remote")
CLASSES = (*DEFAULT_BANNED, *EXTRAS, "person")
#: Classes exam_objects labels by boxes (phones) or by judged absence (the rest).
EXAM_LABELLED = ("cell phone", "laptop", "book", "tv")
GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))
MATCH_IOU = 0.5
BIG_PX = 32
LATENCY_IMAGES = 30
MISSES_FILE = ROOT / "docs" / "objects_misses.jpg"
MISS_CLASSES = ("cell phone", "laptop", "book")
TILE = 180
LFW_DIR = "identities"
MAX_TILES = 40


@dataclass
class LabelledImage:
    path: Path
    dataset: str  # "coco" or "exam"
    image_id: int
    boxes: dict[str, np.ndarray]  # class name -> (N, 4) xyxy ground truth (non-crowd)
    crowd: dict[str, np.ndarray]  # class name -> (N, 4) crowd regions
    people: int  # ground-truth people count (a crowd region makes it at least 2)
    group: str  # images of one scene: the webcam frame for exam copies, else the file
    weight: float = 1.0  # 1 / copies of the same webcam frame (exam), else 1
    holds: str = ""  # exam: the object in the hand (cell phone, wallet, airpods)


@dataclass
class Matching:
    """Per class and dataset: every detection's score and status, every box's matched score."""

    det_scores: list[float] = field(default_factory=list)
    det_true: list[bool] = field(default_factory=list)
    gt_scores: list[float] = field(default_factory=list)  # 0 when never matched
    gt_big: list[bool] = field(default_factory=list)

    def at(self, threshold: float) -> tuple[int, int, int, int, int]:
        """(true positives, detections, boxes, big boxes found, big boxes) at ``threshold``."""
        scores, true = np.array(self.det_scores), np.array(self.det_true, bool)
        found, big = np.array(self.gt_scores) >= threshold, np.array(self.gt_big, bool)
        kept = scores >= threshold
        return (
            int((kept & true).sum()),
            int(kept.sum()),
            len(self.gt_scores),
            int((found & big).sum()),
            int(big.sum()),
        )


def _xyxy(bbox: list[float]) -> list[float]:
    x, y, w, h = bbox
    return [x, y, x + w, y + h]


def _stack(boxes: list[list[float]]) -> np.ndarray:
    return np.array(boxes, np.float32).reshape(-1, 4)


def quiet_coco(dataset: dict) -> COCO:
    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def load_coco(eval_dir: Path) -> tuple[list[LabelledImage], COCO]:
    """Both COCO subsets as one dataset (their image ids are distinct COCO ids)."""
    merged: dict[str, list] = {"images": [], "annotations": [], "categories": []}
    images = []
    for split in ("val2017", "train2017"):
        data = json.loads(
            (eval_dir / "coco" / "annotations" / f"instances_{split}.json").read_text()
        )
        merged["categories"] = data["categories"]
        names = {c["id"]: c["name"] for c in data["categories"]}
        by_image: dict[int, list[dict]] = {}
        for ann in data["annotations"]:
            by_image.setdefault(ann["image_id"], []).append(ann)
        for info in data["images"]:
            anns = by_image.get(info["id"], [])
            boxes: dict[str, list] = {}
            crowd: dict[str, list] = {}
            for ann in anns:
                target = crowd if ann["iscrowd"] else boxes
                target.setdefault(names[ann["category_id"]], []).append(_xyxy(ann["bbox"]))
            people = len(boxes.get("person", []))
            if "person" in crowd:
                people = max(people, 2)
            images.append(
                LabelledImage(
                    eval_dir / "coco" / split / info["file_name"],
                    "coco",
                    info["id"],
                    {k: _stack(v) for k, v in boxes.items()},
                    {k: _stack(v) for k, v in crowd.items()},
                    people,
                    info["file_name"],
                )
            )
        merged["images"] += data["images"]
        merged["annotations"] += data["annotations"]
    ids = [i["id"] for i in merged["images"]]
    if len(set(ids)) != len(ids):
        raise SystemExit("COCO train and val subsets share image ids; cannot merge them")
    return images, quiet_coco(merged)


def load_exam(eval_dir: Path) -> tuple[list[LabelledImage], COCO]:
    root = eval_dir / "exam_objects"
    data = json.loads((root / "annotations.json").read_text())
    names = {c["id"]: c["name"] for c in data["categories"]}
    copies = Counter(info["source_frame"] for info in data["images"])
    by_image: dict[int, list[dict]] = {}
    for ann in data["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    images = []
    for info in data["images"]:
        boxes: dict[str, list] = {}
        for ann in by_image.get(info["id"], []):
            boxes.setdefault(names[ann["category_id"]], []).append(_xyxy(ann["bbox"]))
        holds = next((n for n in ("cell phone", "wallet", "airpods") if n in boxes), "")
        images.append(
            LabelledImage(
                root / "images" / info["file_name"],
                "exam",
                info["id"],
                {k: _stack(v) for k, v in boxes.items()},
                {},
                1,
                f"frame {info['source_frame']}",
                1 / copies[info["source_frame"]],
                holds,
            )
        )
    data.setdefault("info", {})
    return images, quiet_coco(data)


def match(dets: ObjectDetections, image: LabelledImage, name: str, into: Matching) -> None:
    """Greedy IoU >= 0.5 matching of one class in one image (see the module docstring)."""
    own = dets.of_classes([name]).most_confident_first()
    truth = image.boxes.get(name, np.zeros((0, 4), np.float32))
    crowd = image.crowd.get(name, np.zeros((0, 4), np.float32))
    matched = np.zeros(len(truth))
    overlaps = iou(own.boxes, truth) if len(truth) else np.zeros((len(own), 0))
    in_crowd = coverage(own.boxes, crowd).max(axis=1) >= MATCH_IOU if len(crowd) else None
    for k, score in enumerate(own.scores):
        candidates = np.where(matched > 0, -1.0, overlaps[k])
        best = int(candidates.argmax()) if len(truth) else -1
        if best >= 0 and candidates[best] >= MATCH_IOU:
            matched[best] = score
            into.det_scores.append(float(score))
            into.det_true.append(True)
        elif in_crowd is None or not in_crowd[k]:
            into.det_scores.append(float(score))
            into.det_true.append(False)
    sides = truth[:, 2:] - truth[:, :2]
    into.gt_scores += matched.tolist()
    into.gt_big += ((sides >= BIG_PX).all(axis=1)).tolist()


def f1_at(matchings: list[Matching], threshold: float) -> float:
    tp = det = gt = 0
    for m in matchings:
        t, d, g, _, _ = m.at(threshold)
        tp, det, gt = tp + t, det + d, gt + g
    return 2 * tp / (det + gt) if det + gt else 0.0


def choose_threshold(matchings: list[Matching]) -> float:
    """The grid threshold with the best pooled F1, ties to the higher threshold."""
    return max(GRID, key=lambda t: (round(f1_at(matchings, t), 6), t))


def average_precision(
    coco: COCO, images: list[LabelledImage], dets: list[ObjectDetections], classes: tuple
) -> dict[str, float]:
    """pycocotools AP@0.5 per class name (NaN where the set has no box of it)."""
    ids = {c["name"]: c["id"] for c in coco.dataset["categories"]}
    wanted = [c for c in classes if c in ids]
    results = [
        {
            "image_id": image.image_id,
            "category_id": ids[label],
            "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])],
            "score": float(score),
        }
        for image, found in zip(images, dets, strict=True)
        for label, score, b in zip(found.labels, found.scores, found.boxes, strict=True)
        if label in wanted
    ]
    if not results:
        return dict.fromkeys(wanted, 0.0)
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(coco, coco.loadRes(results), "bbox")
        evaluation.params.iouThrs = np.array([MATCH_IOU])
        evaluation.params.catIds = [ids[c] for c in wanted]
        evaluation.evaluate()
        evaluation.accumulate()
    precision = evaluation.eval["precision"][0, :, :, 0, -1]  # recall x class, all areas
    aps = {}
    for name in wanted:
        column = precision[:, evaluation.params.catIds.index(ids[name])]
        aps[name] = float(column[column > -1].mean()) if (column > -1).any() else float("nan")
    return aps


@dataclass
class DetectorRun:
    name: str
    coco: list[ObjectDetections]
    exam: list[ObjectDetections]


def load_detectors(models_dir: Path) -> tuple[dict, list[str]]:
    registry = ModelRegistry(models_dir)
    settings = ObjectsSettings()
    detectors, notes = {}, []
    for name in ("yolo", "centernet", "nanodet"):
        try:
            detectors[name] = build_detector(name, settings, registry)
        except ModelUnavailableError as exc:
            notes.append(f"{name}: not measured ({exc})")
    if "centernet" in detectors and "nanodet" in detectors:
        detectors["fusion"] = FusionDetector(
            [detectors["centernet"], detectors["nanodet"]],
            iou_threshold=settings.fusion_iou,
            min_score=SCORE_FLOOR,
        )
    return detectors, notes


def read(path: Path) -> np.ndarray:
    """The picture a detector sees: LFW crops are placed in a 640x480 webcam-like frame."""
    image = cv2.imread(str(path))
    return in_webcam_frame(image) if LFW_DIR in path.parts else image


def run_detector(detector, paths: list[Path]) -> list[ObjectDetections]:
    return [detector.detect(read(path)).of_classes(CLASSES) for path in paths]


def fuse(a: list[ObjectDetections], b: list[ObjectDetections]) -> list[ObjectDetections]:
    """The fusion detector's output, from its members' (identical to running it again)."""
    iou_threshold = ObjectsSettings().fusion_iou
    return [
        weighted_box_fusion([x, y], iou_threshold, SCORE_FLOOR) for x, y in zip(a, b, strict=True)
    ]


def lfw_alerts(
    dets: list[ObjectDetections],
    faces: list[np.ndarray],
    thresholds: dict[str, float],
    faceless: float,
) -> dict[str, float]:
    """Share of one-person, nothing-banned frames that raise BANNED_OBJECT / MULTIPLE_PEOPLE."""
    banned = [
        any((found.of_classes([c]).scores >= thresholds[c]).any() for c in DEFAULT_BANNED)
        for found in dets
    ]
    multiple = [
        count >= 2 for count in fused_counts_of(dets, faces, thresholds["person"], faceless)
    ]
    return {"banned": float(np.mean(banned)), "multiple": float(np.mean(multiple))}


def latencies_ms(detectors: dict, images: list[LabelledImage]) -> dict[str, float]:
    """Median ms of one ``detect`` per detector, the detectors taking turns on each image so
    that whatever else loads the machine slows them alike."""
    frames = [cv2.imread(str(image.path)) for image in images[:LATENCY_IMAGES]]
    for detector in detectors.values():
        for frame in frames[:3]:
            detector.detect(frame)  # warm-up: first runs allocate
    times: dict[str, list[float]] = {name: [] for name in detectors}
    for frame in frames:
        for name, detector in detectors.items():
            started = time.perf_counter()
            detector.detect(frame)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def load_faces(models_dir: Path) -> FacesAnalyzer:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            models_dir=models_dir, student_db=Path(tmp) / "eval.sqlite3", analyzers=["faces"]
        )
        faces = build_services(settings).pipeline.get("faces")
    if not isinstance(faces, FacesAnalyzer):
        raise SystemExit("the default face detector is not provisioned: run make models")
    return faces


@dataclass
class Scores:
    """Everything measured for one detector."""

    thresholds: dict[str, float]
    coco: dict[str, Matching]
    exam: dict[str, Matching]
    coco_ap: dict[str, float]
    exam_ap: float
    frames: dict[str, float]  # exam: share of phone / wallet / airpods frames alerted as phone
    absent_alerts: float  # exam: share of frames with a (judged absent) laptop/book/tv alert
    coco_false_images: dict[str, float]  # share of COCO images without the class raising it
    faceless: float  # threshold for a person box without a face
    people: dict[str, float]
    lfw: dict[str, float] = field(default_factory=dict)  # alerts on one-person LFW frames
    latency_ms: float = float("nan")

    @property
    def banned_map(self) -> float:
        return float(np.mean([self.coco_ap[c] for c in DEFAULT_BANNED] + [self.exam_ap]))


def fused_counts(
    images: list[LabelledImage],
    dets: list[ObjectDetections],
    faces: dict[Path, np.ndarray],
    threshold: float,
    faceless: float,
) -> list[int]:
    """The analyzer's people count per image: persons above ``threshold`` fused with faces."""
    return fused_counts_of(dets, [faces[image.path] for image in images], threshold, faceless)


def fused_counts_of(
    dets: list[ObjectDetections], faces: list[np.ndarray], threshold: float, faceless: float
) -> list[int]:
    inside = ObjectsSettings().face_in_person
    counts = []
    for found, face_boxes in zip(dets, faces, strict=True):
        persons = found.of_classes(["person"])
        persons = persons[persons.scores >= threshold]
        people = count_people(
            persons.boxes,
            persons.scores,
            face_boxes,
            min_inside=inside,
            faceless_min_score=faceless,
        )
        counts.append(people.total)
    return counts


def people_scores(
    coco: list[LabelledImage], exam: list[LabelledImage], coco_counts: list, exam_counts: list
) -> dict[str, float]:
    """Exact-count and MULTIPLE_PEOPLE agreement on COCO, exactly-one rate on exam frames."""
    truth = np.array([i.people for i in coco])
    counted = np.array(coco_counts)
    weights = np.array([i.weight for i in exam])
    return {
        "coco_exact": float((counted == truth).mean()),
        "coco_multiple": float(((counted >= 2) == (truth >= 2)).mean()),
        "exam_one": float((weights * (np.array(exam_counts) == 1)).sum() / weights.sum()),
    }


def score_detector(
    name: str,
    coco: list[LabelledImage],
    exam: list[LabelledImage],
    coco_dets: list[ObjectDetections],
    exam_dets: list[ObjectDetections],
    coco_gt: COCO,
    exam_gt: COCO,
    faces: dict[Path, np.ndarray],
) -> Scores:
    coco_m = {c: Matching() for c in CLASSES}
    exam_m = {c: Matching() for c in EXAM_LABELLED}
    for image, found in zip(coco, coco_dets, strict=True):
        for c in CLASSES:
            match(found, image, c, coco_m[c])
    for image, found in zip(exam, exam_dets, strict=True):
        for c in EXAM_LABELLED:
            match(found, image, c, exam_m[c])
    thresholds = {
        c: choose_threshold([coco_m[c], *([exam_m[c]] if c in exam_m else [])]) for c in CLASSES
    }
    weights = np.array([i.weight for i in exam])

    def alerted(classes: tuple[str, ...]) -> np.ndarray:
        return np.array(
            [
                any((found.of_classes([c]).scores >= thresholds[c]).any() for c in classes)
                for found in exam_dets
            ]
        )

    phone = alerted(("cell phone",))
    frames = {}
    for holds in ("cell phone", "wallet", "airpods"):
        mask = np.array([i.holds == holds for i in exam])
        frames[holds] = float((weights * phone)[mask].sum() / weights[mask].sum())
    absent = alerted(("laptop", "book", "tv"))
    false_images = {}
    for c in CLASSES:
        without = [f for i, f in zip(coco, coco_dets, strict=True) if c not in {*i.boxes, *i.crowd}]
        raised = [(f.of_classes([c]).scores >= thresholds[c]).any() for f in without]
        false_images[c] = float(np.mean(raised)) if raised else float("nan")

    def people(faceless: float) -> dict[str, float]:
        person = thresholds["person"]
        return people_scores(
            coco,
            exam,
            fused_counts(coco, coco_dets, faces, person, faceless),
            fused_counts(exam, exam_dets, faces, person, faceless),
        )

    def people_merit(faceless: float) -> tuple[float, float]:
        scores = people(faceless)
        return round((scores["coco_multiple"] + scores["exam_one"]) / 2, 6), faceless

    faceless = max((t for t in GRID if t >= thresholds["person"]), key=people_merit)
    return Scores(
        thresholds,
        coco_m,
        exam_m,
        average_precision(coco_gt, coco, coco_dets, CLASSES),
        average_precision(exam_gt, exam, exam_dets, ("cell phone",))["cell phone"],
        frames,
        float((weights * absent).sum() / weights.sum()),
        false_images,
        faceless,
        people(faceless),
    )


def _ratio(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.2f} ({numerator}/{denominator})" if denominator else "n/a"


def _license(name: str) -> str:
    return get_spec(DETECTOR_MODELS[name][0]).license.split(";")[0].split(" (")[0]


def render(
    scores: dict[str, Scores],
    default: str,
    permissive: str,
    faces_only: dict[str, float],
    faces_only_lfw: float,
    notes: list[str],
    load: float,
) -> str:
    lines = [
        "Command: `python -m proctor.eval objects --write-readme` (also redraws "
        "`docs/objects_misses.jpg`).",
        "",
        f"Default detector: **{default}** (permissive-only default: **{permissive}**). "
        "Banned mAP = mean AP@0.5 of cell phone, laptop, book and tv on COCO and of the "
        "exam_objects phones. Exam frame rates weigh each distinct webcam frame once. LFW "
        "frames: the 240 face photos in a 640x480 frame (one person, nothing banned). "
        f"Latency: median of one `detect` call over {LATENCY_IMAGES} COCO images on "
        f"{os.cpu_count()} CPU cores (load average {load:.1f} when measured).",
        "",
        "| detector | licence | banned mAP@0.5 | person AP@0.5 | exam phone frames "
        "flagged | wallet / AirPods frames flagged as phone | LFW frames with BANNED_OBJECT "
        "| ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in scores.items():
        label = f"**{name}**" if name in (default, permissive) else name
        lines.append(
            f"| {label} | {_license(name)} | {s.banned_map:.3f} | {s.coco_ap['person']:.3f} | "
            f"{s.frames['cell phone']:.0%} | "
            f"{s.frames['wallet']:.0%} / {s.frames['airpods']:.0%} | {s.lfw['banned']:.1%} | "
            f"{s.latency_ms:.0f} |"
        )
    lines += [
        "",
        "People count (persons fused with the default face detector's faces):",
        "",
        "| detector | person thr / faceless person thr | COCO count exact | COCO "
        "MULTIPLE_PEOPLE right | exam frames counted as 1 | LFW frames with MULTIPLE_PEOPLE |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in scores.items():
        lines.append(
            f"| {name} | {s.thresholds['person']:.2f} / {s.faceless:.2f} | "
            f"{s.people['coco_exact']:.0%} | {s.people['coco_multiple']:.0%} | "
            f"{s.people['exam_one']:.0%} | {s.lfw['multiple']:.1%} |"
        )
    lines += [
        f"| faces only (no objects analyzer) | | {faces_only['coco_exact']:.0%} | "
        f"{faces_only['coco_multiple']:.0%} | {faces_only['exam_one']:.0%} | "
        f"{faces_only_lfw:.1%} |",
        "",
        "Per class at each detector's chosen threshold (thr). P = precision, R = recall "
        "(IoU >= 0.5), R32 = recall of boxes at least 32x32 px, false images = COCO images "
        "without the class that raise it; then the 56 exam_objects phone boxes (139 "
        "hard-negative frames):",
        "",
        "| detector | class | thr | COCO boxes (>=32 px) | P | R | R32 | AP@0.5 | false "
        "images | exam P | exam R | exam AP@0.5 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in scores.items():
        for c in CLASSES:
            thr = s.thresholds[c]
            tp, det, gt, big_found, big = s.coco[c].at(thr)
            exam = ["", "", ""]
            if c == "cell phone":
                etp, edet, egt, _, _ = s.exam[c].at(thr)
                exam = [_ratio(etp, edet), _ratio(etp, egt), f"{s.exam_ap:.3f}"]
            lines.append(
                f"| {name} | {c} | {thr:.2f} | {gt} ({big}) | {_ratio(tp, det)} | "
                f"{_ratio(tp, gt)} | {_ratio(big_found, big)} | {s.coco_ap[c]:.3f} | "
                f"{s.coco_false_images[c]:.1%} | " + " | ".join(exam) + " |"
            )
    d = scores[default]
    recalls = []
    for c in MISS_CLASSES:
        tp, _, gt, big_found, big = d.coco[c].at(d.thresholds[c])
        recalls.append(f"{c} {_ratio(tp, gt)} (>=32 px: {_ratio(big_found, big)})")
    exam_tp, _, exam_gt, _, _ = d.exam["cell phone"].at(d.thresholds["cell phone"])
    lines += [
        "",
        f"Recall of the default ({default}) on COCO: {'; '.join(recalls)}. On the "
        f"exam_objects phones: {_ratio(exam_tp, exam_gt)}. Exam frames (no laptop, book or "
        f"tv in them) that raised one of those anyway: {d.absent_alerts:.0%}.",
        *[f"\n{note}" for note in notes],
    ]
    return "\n".join(lines) + "\n"


def chosen_thresholds(scores: dict[str, Scores]) -> tuple[dict, dict]:
    """(per-class thresholds, faceless person threshold) per detector, as the code holds them."""
    per_class = {name: {c: s.thresholds[c] for c in CLASSES} for name, s in scores.items()}
    return per_class, {name: s.faceless for name, s in scores.items()}


@dataclass(frozen=True)
class Miss:
    image: LabelledImage
    label: str
    box: np.ndarray  # the missed ground-truth box
    kept: ObjectDetections  # the detector's detections that passed their thresholds


def find_misses(
    images: list[LabelledImage], dets: list[ObjectDetections], thresholds: dict[str, float]
) -> list[Miss]:
    """Ground-truth boxes of MISS_CLASSES no passing detection of their class matches,
    spread over classes and sets (round-robin), at most two per image and one per webcam
    frame, so the sheet is not one shelf of tiny books."""
    groups: dict[tuple[str, str], list[Miss]] = {}
    per_image: Counter[str] = Counter()
    for image, found in zip(images, dets, strict=True):
        limits = np.array([thresholds.get(label, 1.1) for label in found.labels])
        kept = found[found.scores >= limits] if len(found) else found
        for label in MISS_CLASSES:
            own = kept.of_classes([label])
            for box in image.boxes.get(label, np.zeros((0, 4), np.float32)):
                if len(own) and iou(box[None], own.boxes).max() >= MATCH_IOU:
                    continue
                if per_image[image.group] >= (1 if image.dataset == "exam" else 2):
                    continue
                per_image[image.group] += 1
                groups.setdefault((image.dataset, label), []).append(Miss(image, label, box, kept))
    picked: list[Miss] = []
    queues = list(groups.values())
    while len(picked) < MAX_TILES and any(queues):
        for queue in queues:
            if queue and len(picked) < MAX_TILES:
                picked.append(queue.pop(0))
    return picked


def miss_tile(miss: Miss) -> np.ndarray:
    """A square crop around the missed box: ground truth green, passing detections red."""
    picture = cv2.imread(str(miss.image.path))
    height, width = picture.shape[:2]
    side = max(96.0, 1.8 * float((miss.box[2:] - miss.box[:2]).max()))
    origin = ((miss.box[:2] + miss.box[2:]) / 2 - side / 2).clip(0)
    x0, y0 = origin.astype(int)
    x1, y1 = int(min(width, x0 + side)), int(min(height, y0 + side))
    scale = TILE / max(y1 - y0, x1 - x0)
    crop = cv2.resize(picture[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if miss.image.dataset == "exam":
        crop = pixelate_outside(crop, ((miss.box - (x0, y0, x0, y0)) * scale).astype(int))
    tile = np.full((TILE + 16, TILE, 3), 255, np.uint8)
    tile[: crop.shape[0], : crop.shape[1]] = crop

    def draw(box: np.ndarray, colour: tuple[int, int, int], text: str = "") -> None:
        p = ((box[:2] - (x0, y0)) * scale).astype(int)
        q = ((box[2:] - (x0, y0)) * scale).astype(int)
        cv2.rectangle(tile[:TILE], tuple(p.tolist()), tuple(q.tolist()), colour, 1)
        if text:
            cv2.putText(tile[:TILE], text, (int(p[0]) + 2, max(9, int(p[1]) + 9)), 0, 0.3, colour)

    for box, label, score in zip(miss.kept.boxes, miss.kept.labels, miss.kept.scores, strict=True):
        draw(box, (0, 0, 255), f"{label} {score:.2f}")
    draw(miss.box, (0, 190, 0))
    w, h = (miss.box[2:] - miss.box[:2]).round().astype(int)
    caption = f"{miss.image.dataset}: {miss.label} {w}x{h}px"
    cv2.putText(tile, caption, (3, TILE + 12), 0, 0.36, (0, 0, 0), 1, cv2.LINE_AA)
    return tile


def pixelate_outside(crop: np.ndarray, box: np.ndarray, block: int = 10) -> np.ndarray:
    """Keep only the missed object sharp: the exam_objects webcam frames show an identifiable
    person and may not be redistributed, so everything around the object is pixelated."""
    height, width = crop.shape[:2]
    small = cv2.resize(
        crop, (max(1, width // block), max(1, height // block)), interpolation=cv2.INTER_AREA
    )
    coarse = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)
    x0, y0, x1, y1 = np.clip(box, 0, [width, height, width, height])
    coarse[y0:y1, x0:x1] = crop[y0:y1, x0:x1]
    return coarse


def write_contact_sheet(tiles: list[np.ndarray], path: Path, columns: int = 8) -> int:
    """Tiles in a grid, as a JPEG; returns its size in bytes."""
    blank = np.full_like(tiles[0], 255)
    rows = [
        np.hstack(tiles[i : i + columns] + [blank] * (columns - len(tiles[i : i + columns])))
        for i in range(0, len(tiles), columns)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".jpg", np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 70])
    if not ok:
        raise SystemExit(f"could not encode {path}")
    path.write_bytes(data.tobytes())
    return len(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proctor.eval objects", description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--models-dir", type=Path, default=Settings().models_dir)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args(argv)
    if not (args.eval_dir / "coco").is_dir() or not (args.eval_dir / "exam_objects").is_dir():
        raise SystemExit(f"labelled images not found under {args.eval_dir}")

    coco, coco_gt = load_coco(args.eval_dir)
    exam, exam_gt = load_exam(args.eval_dir)
    lfw = sorted((args.eval_dir / "faces" / LFW_DIR).glob("*/*.jpg"))
    detectors, notes = load_detectors(args.models_dir)
    if not detectors:
        raise SystemExit("no object detector is provisioned: run make models")
    sets = {
        "coco": [i.path for i in coco],
        "exam": [i.path for i in exam],
        "lfw": lfw,
    }
    runs: dict[str, dict[str, list[ObjectDetections]]] = {}
    for name in ("yolo", "centernet", "nanodet"):
        if name in detectors:
            runs[name] = {key: run_detector(detectors[name], paths) for key, paths in sets.items()}
    if "fusion" in detectors:
        runs["fusion"] = {key: fuse(runs["centernet"][key], runs["nanodet"][key]) for key in sets}
    face_analyzer = load_faces(args.models_dir)
    faces = {
        path: face_analyzer.find_faces(read(path)).boxes
        for paths in sets.values()
        for path in paths
    }
    scores = {}
    for name, found in runs.items():
        scores[name] = score_detector(
            name, coco, exam, found["coco"], found["exam"], coco_gt, exam_gt, faces
        )
        scores[name].lfw = lfw_alerts(
            found["lfw"],
            [faces[path] for path in lfw],
            scores[name].thresholds,
            scores[name].faceless,
        )
    load = os.getloadavg()[0]
    for name, ms in latencies_ms(detectors, coco).items():
        scores[name].latency_ms = ms
    faces_only = people_scores(
        coco, exam, [len(faces[i.path]) for i in coco], [len(faces[i.path]) for i in exam]
    )
    faces_only_lfw = float(np.mean([len(faces[path]) >= 2 for path in lfw]))

    default = max(scores, key=lambda n: scores[n].banned_map)
    permissive = max(
        (n for n in scores if get_spec(DETECTOR_MODELS[n][0]).permissive),
        key=lambda n: scores[n].banned_map,
        default=default,
    )
    text = render(scores, default, permissive, faces_only, faces_only_lfw, notes, load)
    print(text)
    per_class, faceless = chosen_thresholds(scores)
    if any(DEFAULT_THRESHOLDS.get(n) != t for n, t in per_class.items()):
        print(f"NOTE: DEFAULT_THRESHOLDS in proctor/objects/backends.py differ: {per_class}")
    if any(FACELESS_PERSON_THRESHOLDS.get(n) != t for n, t in faceless.items()):
        print(f"NOTE: FACELESS_PERSON_THRESHOLDS differ: {faceless}")
    configured = (Settings().object_detector, Settings(permissive_only=True).object_detector)
    if configured != (default, permissive):
        print(f"NOTE: settings default to {configured}; measured best is {(default, permissive)}")

    shipped = configured[0] if configured[0] in runs else default
    misses = find_misses(
        coco + exam, runs[shipped]["coco"] + runs[shipped]["exam"], scores[shipped].thresholds
    )
    if misses:
        size = write_contact_sheet([miss_tile(m) for m in misses], MISSES_FILE)
        print(f"{len(misses)} missed boxes of {shipped} drawn in {MISSES_FILE} ({size} bytes)")
    if args.write_readme:
        replace_readme_block("objects", text)
        print("README.md updated")
    return 0
