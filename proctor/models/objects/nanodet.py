"""NanoDet (Human's ``nanodet``, converted to ONNX), COCO-80, standard NanoDet decoding.

Input: the frame resized (stretched) to 416x416, BGR, ``(x - mean) / std`` with the ImageNet
statistics in BGR order, NCHW. Outputs come in pairs per stride (8, 16, 32): class scores
``(cells, 80)``, already sigmoid, and box distances ``(cells, 4 * 11)``, a distribution over
11 bins (0..10) for each side (left, top, right, bottom). The distance is the softmax-weighted
bin index times the stride, measured from the cell centre ``((col + 0.5), (row + 0.5)) *
stride``. Heads are matched to strides by their cell counts, not by output order.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from proctor.models.boxes import nms, resize
from proctor.models.detections import Detections
from proctor.models.objects.labels import COCO80
from proctor.models.registry import ModelFile

MEAN_BGR = (103.53, 116.28, 123.675)
STD_BGR = (57.375, 57.12, 58.395)
SIDES = 4


class Head(NamedTuple):
    """One stride's pair of outputs, by name, and its grid."""

    scores: str
    boxes: str
    stride: int
    grid_w: int


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def decode_level(
    class_scores: np.ndarray, box_bins: np.ndarray, stride: int, grid_w: int, min_score: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes, scores and class ids of one stride's heads: every (cell, class) pair scoring at
    least ``min_score`` is a candidate, as in NanoDet's own multi-class NMS."""
    cells, class_ids = np.nonzero(class_scores >= min_score)
    bins = box_bins[cells].reshape(len(cells), SIDES, box_bins.shape[1] // SIDES)
    distances = (softmax(bins) * np.arange(bins.shape[-1])).sum(axis=-1) * stride
    centres = np.column_stack([cells % grid_w + 0.5, cells // grid_w + 0.5]) * stride
    boxes = np.column_stack([centres - distances[:, :2], centres + distances[:, 2:]])
    scores = class_scores[cells, class_ids]
    return boxes.astype(np.float32), scores.astype(np.float32), class_ids


def decode_nanodet(
    levels: list[tuple[np.ndarray, np.ndarray, int, int]], min_score: float, nms_iou: float
) -> Detections:
    """Detections of ``(class_scores, box_bins, stride, grid_w)`` per level, input pixels."""
    parts = [decode_level(*level, min_score) for level in levels]
    boxes = np.concatenate([p[0] for p in parts]).reshape(-1, 4)
    scores = np.concatenate([p[1] for p in parts])
    class_ids = np.concatenate([p[2] for p in parts]).astype(np.int64)
    keep = nms(boxes, scores, nms_iou, class_ids)
    return Detections(boxes[keep], scores[keep], class_ids[keep], COCO80)


class NanoDetDetector:
    name = "nanodet"
    class_names = COCO80

    def __init__(self, model: ModelFile, *, min_score: float, nms_iou: float) -> None:
        self.session = model.onnx_session()
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.input_h, self.input_w = int(model_input.shape[2]), int(model_input.shape[3])
        outputs = self.session.get_outputs()
        scores = {out.shape[1]: out.name for out in outputs if out.shape[-1] == len(COCO80)}
        bins = {out.shape[1]: out.name for out in outputs if out.shape[-1] != len(COCO80)}
        if not scores or set(scores) != set(bins):
            raise ValueError("NanoDet model outputs do not pair up into class and box heads")
        self.heads = []
        for cells in sorted(scores, reverse=True):  # finest grid (stride 8) first
            stride = round((self.input_h * self.input_w / cells) ** 0.5)
            self.heads.append(Head(scores[cells], bins[cells], stride, self.input_w // stride))
        self.min_score = min_score
        self.nms_iou = nms_iou

    def detect(self, image_bgr: np.ndarray) -> Detections:
        height, width = image_bgr.shape[:2]
        resized = resize(image_bgr, self.input_w, self.input_h)
        blob = ((resized.astype(np.float32) - MEAN_BGR) / STD_BGR).astype(np.float32)
        blob = blob.transpose(2, 0, 1)[None]
        names = [name for head in self.heads for name in (head.scores, head.boxes)]
        values = dict(zip(names, self.session.run(names, {self.input_name: blob}), strict=True))
        levels = [
            (values[head.scores][0], values[head.boxes][0], head.stride, head.grid_w)
            for head in self.heads
        ]
        found = decode_nanodet(levels, self.min_score, self.nms_iou)
        return found.scaled(width / self.input_w, height / self.input_h).clipped(width, height)
