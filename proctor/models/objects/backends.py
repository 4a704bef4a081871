"""Build the configured object detector from the model registry (one place).

``DEFAULT_THRESHOLDS`` hold each detector's per-class operating points, chosen by
``python -m proctor.eval objects`` with the rule written in docs/accuracy.md: per class, the
threshold on a 0.05 grid that maximises F1 (IoU >= 0.5) over the tune split of every labelled
set that labels that class, ties going to the higher threshold. Every detector returns all
detections scoring at least ``SCORE_FLOOR`` (the lowest threshold the rule may pick); the analyzer
applies the per-class thresholds on top, exactly as the evaluation does.
"""

from __future__ import annotations

from proctor.models.detections import Detector
from proctor.models.objects.centernet import CenterNetDetector
from proctor.models.objects.fusion import FusionDetector
from proctor.models.objects.nanodet import NanoDetDetector
from proctor.models.objects.yolo import YoloDetector
from proctor.models.registry import ModelRegistry
from proctor.settings import ObjectDetectorName, ObjectsSettings

DETECTOR_MODELS: dict[str, tuple[str, ...]] = {
    "yolo": ("object_detection_yolov8n",),
    "centernet": ("object_detection_centernet",),
    "nanodet": ("object_detection_nanodet",),
    "fusion": ("object_detection_centernet", "object_detection_nanodet"),
}
SCORE_FLOOR = 0.05
#: Threshold of a class no measurement covers (e.g. a custom YOLO model's own classes).
FALLBACK_THRESHOLD = 0.5
DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {
    "yolo": {
        "cell phone": 0.05,
        "laptop": 0.75,
        "book": 0.15,
        "tv": 0.65,
        "keyboard": 0.15,
        "mouse": 0.7,
        "remote": 0.05,
        "person": 0.2,
    },
    "centernet": {
        "cell phone": 0.15,
        "laptop": 0.35,
        "book": 0.15,
        "tv": 0.3,
        "keyboard": 0.6,
        "mouse": 0.65,
        "remote": 0.55,
        "person": 0.3,
    },
    "nanodet": {
        "cell phone": 0.25,
        "laptop": 0.3,
        "book": 0.2,
        "tv": 0.35,
        "keyboard": 0.25,
        "mouse": 0.65,
        "remote": 0.2,
        "person": 0.35,
    },
    "fusion": {
        "cell phone": 0.2,
        "laptop": 0.25,
        "book": 0.15,
        "tv": 0.3,
        "keyboard": 0.15,
        "mouse": 0.65,
        "remote": 0.15,
        "person": 0.25,
    },
}
#: The phone verifier's operating points, chosen on the tune split's out-of-fold scores by
#: ``python -m tools.train_phone_verifier`` (rule in its docstring), one without and one
#: with the second look: the detector score a phone or remote box needs to be verified, and
#: the verifier score that makes it a cell phone.
PHONE_OPERATING_POINTS: dict[bool, tuple[float, float]] = {
    False: (0.25, 0.6),
    True: (0.25, 0.7),
}
#: Per detector, the stricter threshold a person box without a face must reach to count:
#: the grid value (at least the person threshold) maximising the mean of COCO
#: MULTIPLE_PEOPLE agreement and exam_objects frames counted as one person (tune split).
FACELESS_PERSON_THRESHOLDS: dict[str, float] = {
    "yolo": 0.7,
    "centernet": 0.35,
    "nanodet": 0.5,
    "fusion": 0.4,
}


def build_detector(
    name: ObjectDetectorName, settings: ObjectsSettings, registry: ModelRegistry
) -> Detector:
    options = {"min_score": SCORE_FLOOR, "nms_iou": settings.nms_iou}
    if name == "fusion":
        members = [build_detector(m, settings, registry) for m in ("centernet", "nanodet")]
        return FusionDetector(members, iou_threshold=settings.fusion_iou, min_score=SCORE_FLOOR)
    if name == "yolo" and settings.yolo_model is not None:
        return YoloDetector(registry.user_model(settings.yolo_model), **options)
    backend = {"yolo": YoloDetector, "centernet": CenterNetDetector, "nanodet": NanoDetDetector}
    return backend[name](registry.model(DETECTOR_MODELS[name][0]), **options)


def model_names(name: ObjectDetectorName, settings: ObjectsSettings) -> list[str]:
    """Manifest names of the models behind ``name`` (or the user's own YOLO file)."""
    if name == "yolo" and settings.yolo_model is not None:
        return [f"user file {settings.yolo_model}"]
    return list(DETECTOR_MODELS[name])


def class_thresholds(name: ObjectDetectorName, settings: ObjectsSettings) -> dict[str, float]:
    """Measured defaults of ``name`` overridden by the configured ones, by class name."""
    return DEFAULT_THRESHOLDS[name] | settings.thresholds


def phone_rules(settings: ObjectsSettings) -> tuple[float, float]:
    """The phone floor and verifier threshold: the configured ones, else the measured."""
    floor, threshold = PHONE_OPERATING_POINTS[settings.second_look]
    if settings.phone_floor is not None:
        floor = settings.phone_floor
    if settings.phone_verifier_threshold is not None:
        threshold = settings.phone_verifier_threshold
    return floor, threshold


def faceless_person_threshold(name: ObjectDetectorName, settings: ObjectsSettings) -> float:
    if settings.faceless_person_threshold is not None:
        return settings.faceless_person_threshold
    return FACELESS_PERSON_THRESHOLDS[name]
