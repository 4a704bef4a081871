"""MobileNetV3 CenterNet (Human's ``centernet``, converted to ONNX), COCO-80.

Input: the whole frame resized (stretched, as Human feeds it) to 512x512, RGB 0..255, NHWC.
Of its three outputs only the last is read: the graph already extracts the heatmap peaks
and returns the top 100 rows of ``x1, y1, x2, y2, score, class`` in 512-pixel space, class
a 0-based COCO-80 index. Peaks of different classes can share one object, and adjacent
peaks of one class can duplicate it, so a per-class NMS still runs.
"""

from __future__ import annotations

import cv2
import numpy as np

from proctor.models.boxes import nms, resize
from proctor.models.detections import Detections
from proctor.models.objects.labels import COCO80
from proctor.models.registry import ModelFile

ROW_WIDTH = 6  # x1, y1, x2, y2, score, class


def decode_centernet(rows: np.ndarray, min_score: float, nms_iou: float) -> Detections:
    """Detections of the decoded ``(100, 6)`` rows, in the model's input pixels."""
    rows = rows[rows[:, 4] >= min_score]
    boxes = rows[:, :4].astype(np.float32)
    scores = rows[:, 4].astype(np.float32)
    class_ids = np.rint(rows[:, 5]).astype(np.int64)
    keep = nms(boxes, scores, nms_iou, class_ids)
    return Detections(boxes[keep], scores[keep], class_ids[keep], COCO80)


class CenterNetDetector:
    name = "centernet"
    class_names = COCO80

    def __init__(self, model: ModelFile, *, min_score: float, nms_iou: float) -> None:
        self.session = model.onnx_session()
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.input_h, self.input_w = int(model_input.shape[1]), int(model_input.shape[2])
        decoded = [out.name for out in self.session.get_outputs() if out.shape[-1] == ROW_WIDTH]
        if len(decoded) != 1:
            raise ValueError("CenterNet model has no single decoded (…, 6) output")
        self.output_name = decoded[0]
        self.min_score = min_score
        self.nms_iou = nms_iou

    def detect(self, image_bgr: np.ndarray) -> Detections:
        height, width = image_bgr.shape[:2]
        resized = resize(image_bgr, self.input_w, self.input_h)
        blob = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).astype(np.float32)[None]
        rows = self.session.run([self.output_name], {self.input_name: blob})[0][0]
        found = decode_centernet(rows, self.min_score, self.nms_iou)
        return found.scaled(width / self.input_w, height / self.input_h).clipped(width, height)
