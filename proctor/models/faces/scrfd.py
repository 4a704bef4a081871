"""InsightFace SCRFD face detector (ONNX Runtime), decoded from its per-stride heads.

The model outputs, for strides 8, 16 and 32 and two anchors per grid cell, a score, four
box distances and five landmark offsets, all in units of the stride. Input: RGB,
(x - 127.5) / 128, any size that is a multiple of 32.
"""

from __future__ import annotations

import cv2
import numpy as np

from proctor.models.boxes import nms, resize
from proctor.models.detections import FACE_CLASSES, Detections
from proctor.models.registry import ModelFile

STRIDES = (8, 16, 32)
ANCHORS_PER_CELL = 2


class ScrfdDetector:
    name = "scrfd"
    class_names = FACE_CLASSES

    def __init__(
        self, model: ModelFile, *, input_size: int, min_score: float, nms_iou: float
    ) -> None:
        self.session = model.onnx_session()
        self.input_name = self.session.get_inputs()[0].name
        self.input_size = input_size
        self.min_score = min_score
        self.nms_iou = nms_iou
        self._centers: dict[tuple[int, int, int], np.ndarray] = {}

    def detect(self, image_bgr: np.ndarray) -> Detections:
        height, width = image_bgr.shape[:2]
        ratio = self.input_size / max(height, width)
        new_w, new_h = max(1, round(width * ratio)), max(1, round(height * ratio))
        pad_w, pad_h = -(-new_w // 32) * 32, -(-new_h // 32) * 32
        canvas = np.zeros((pad_h, pad_w, 3), np.uint8)
        canvas[:new_h, :new_w] = resize(image_bgr, new_w, new_h)
        blob = cv2.dnn.blobFromImage(
            canvas, 1 / 128, (pad_w, pad_h), (127.5, 127.5, 127.5), swapRB=True
        )
        outputs = self.session.run(None, {self.input_name: blob})
        boxes, scores, landmarks = self._decode(outputs, pad_h, pad_w)
        keep = nms(boxes, scores, self.nms_iou)
        found = Detections.faces(boxes[keep], scores[keep], landmarks[keep])
        return found.scaled(1 / ratio, 1 / ratio).clipped(width, height)

    def _decode(
        self, outputs: list[np.ndarray], height: int, width: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        by_kind: dict[int, list[np.ndarray]] = {1: [], 4: [], 10: []}
        for out in outputs:
            by_kind[out.shape[-1]].append(out.reshape(-1, out.shape[-1]))
        all_boxes, all_scores, all_kps = [], [], []
        for level, stride in enumerate(STRIDES):
            # Heads come largest grid first within each kind (stride 8, 16, 32).
            scores = sorted(by_kind[1], key=len, reverse=True)[level][:, 0]
            dists = sorted(by_kind[4], key=len, reverse=True)[level] * stride
            kps = sorted(by_kind[10], key=len, reverse=True)[level] * stride
            centers = self._anchor_centers(height // stride, width // stride, stride)
            mask = scores >= self.min_score
            c = centers[mask]
            d = dists[mask]
            all_boxes.append(np.column_stack([c - d[:, :2], c + d[:, 2:]]))
            all_scores.append(scores[mask])
            all_kps.append(kps[mask].reshape(-1, 5, 2) + c[:, None, :])
        return (
            np.concatenate(all_boxes).astype(np.float32),
            np.concatenate(all_scores).astype(np.float32),
            np.concatenate(all_kps).astype(np.float32),
        )

    def _anchor_centers(self, rows: int, cols: int, stride: int) -> np.ndarray:
        key = (rows, cols, stride)
        if key not in self._centers:
            ys, xs = np.mgrid[:rows, :cols]
            centers = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32) * stride
            self._centers[key] = np.repeat(centers, ANCHORS_PER_CELL, axis=0)
        return self._centers[key]
