"""Ultralytics YOLO (v8/11 detect head) exported to ONNX, any class list.

Input: the frame letterboxed into the model's square input (640 for the pinned YOLOv8n):
resized to fit, centred on grey 114 padding, RGB / 255, NCHW. Output ``(1, 4 + C, N)``:
box centre x, y, width, height in input pixels, then C class scores (no objectness, no NMS
inside). The class names come from the export's ``names`` metadata, so a user's own model
trained on other classes (``objects.yolo_model``) works through the same interface.
"""

from __future__ import annotations

import ast

import cv2
import numpy as np

from proctor.models.boxes import nms, resize
from proctor.models.detections import Detections
from proctor.models.registry import ModelFile

PAD_VALUE = (114, 114, 114)
DEFAULT_INPUT = 640


class NotAYoloExportError(ValueError):
    """The ONNX file lacks what an Ultralytics detect export has (names, a (4+C, N) output)."""


def class_names_from_metadata(metadata: dict[str, str]) -> tuple[str, ...]:
    """Class names in index order from Ultralytics' ``names`` metadata (a Python dict literal)."""
    raw = metadata.get("names")
    if raw is None:
        raise NotAYoloExportError("ONNX metadata has no 'names' (not an Ultralytics export?)")
    try:
        names = ast.literal_eval(raw)
    except (ValueError, SyntaxError) as exc:
        raise NotAYoloExportError(f"ONNX metadata 'names' is not a dict literal: {exc}") from None
    if not isinstance(names, dict) or sorted(names) != list(range(len(names))):
        raise NotAYoloExportError("ONNX metadata 'names' must map 0..C-1 to class names")
    return tuple(str(names[i]) for i in range(len(names)))


def letterbox(image_bgr: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    """The image fitted into ``size`` x ``size`` and centred; returns (canvas, ratio, dx, dy)."""
    height, width = image_bgr.shape[:2]
    ratio = min(size / height, size / width)
    new_w, new_h = max(1, round(width * ratio)), max(1, round(height * ratio))
    resized = resize(image_bgr, new_w, new_h)
    dx, dy = (size - new_w) / 2, (size - new_h) / 2
    left, top = round(dx - 0.1), round(dy - 0.1)
    canvas = cv2.copyMakeBorder(
        resized,
        top,
        size - new_h - top,
        left,
        size - new_w - left,
        cv2.BORDER_CONSTANT,
        value=PAD_VALUE,
    )
    return canvas, ratio, float(left), float(top)


def decode_yolo(
    predictions: np.ndarray, class_names: tuple[str, ...], min_score: float, nms_iou: float
) -> Detections:
    """Detections of ``(N, 4 + C)`` rows (cx, cy, w, h, scores…), in the model's input pixels.

    Every (box, class) pair scoring at least ``min_score`` is a candidate, so an object the
    model is unsure about (phone or remote) keeps both readings until the per-class
    thresholds decide.
    """
    class_scores = predictions[:, 4:]
    rows, class_ids = np.nonzero(class_scores >= min_score)
    scores = class_scores[rows, class_ids]
    centre, size = predictions[rows, :2], predictions[rows, 2:4]
    boxes = np.column_stack([centre - size / 2, centre + size / 2]).astype(np.float32)
    scores = scores.astype(np.float32)
    class_ids = class_ids.astype(np.int64)
    keep = nms(boxes, scores, nms_iou, class_ids)
    return Detections(boxes[keep], scores[keep], class_ids[keep], class_names)


class YoloDetector:
    name = "yolo"

    def __init__(self, model: ModelFile, *, min_score: float, nms_iou: float) -> None:
        self.session = model.onnx_session()
        self.class_names = class_names_from_metadata(
            self.session.get_modelmeta().custom_metadata_map
        )
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        side = model_input.shape[2]
        self.input_size = side if isinstance(side, int) else DEFAULT_INPUT
        outputs = self.session.get_outputs()
        if len(outputs) != 1 or len(outputs[0].shape) != 3:
            raise NotAYoloExportError("expected one (1, 4 + classes, boxes) output")
        self.min_score = min_score
        self.nms_iou = nms_iou

    def detect(self, image_bgr: np.ndarray) -> Detections:
        height, width = image_bgr.shape[:2]
        canvas, ratio, dx, dy = letterbox(image_bgr, self.input_size)
        blob = cv2.dnn.blobFromImage(canvas, 1 / 255, swapRB=True)
        output = self.session.run(None, {self.input_name: blob})[0][0]
        channels = 4 + len(self.class_names)
        if output.shape[0] == channels:
            output = output.T
        elif output.shape[1] != channels:
            raise NotAYoloExportError(
                f"output {output.shape} does not have 4 + {len(self.class_names)} channels"
            )
        found = decode_yolo(output, self.class_names, self.min_score, self.nms_iou)
        return found.shifted(-dx, -dy).scaled(1 / ratio, 1 / ratio).clipped(width, height)
