"""OpenCV YuNet face detector (``cv2.FaceDetectorYN``), MIT/Apache-2.0 licensed weights.

``FaceDetectorYN`` keeps per-instance state (its input size) and OpenCV's DNN is not
safe to call from two threads at once, so calls are serialised with a lock.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from proctor.faces.detections import FaceDetections


class YunetDetector:
    name = "yunet"

    def __init__(
        self, model_path: Path, *, input_size: int, min_score: float, nms_iou: float
    ) -> None:
        self.input_size = input_size
        self._detector = cv2.FaceDetectorYN.create(
            str(model_path), "", (input_size, input_size), min_score, nms_iou, 5000
        )
        self._lock = threading.Lock()

    def detect(self, image_bgr: np.ndarray) -> FaceDetections:
        height, width = image_bgr.shape[:2]
        ratio = min(1.0, self.input_size / max(height, width))
        resized = (
            image_bgr
            if ratio == 1.0
            else cv2.resize(
                image_bgr,
                (max(1, round(width * ratio)), max(1, round(height * ratio))),
                interpolation=cv2.INTER_AREA,
            )
        )
        with self._lock:
            self._detector.setInputSize((resized.shape[1], resized.shape[0]))
            _, rows = self._detector.detect(resized)
        if rows is None or len(rows) == 0:
            return FaceDetections.empty()
        rows = rows.astype(np.float32)
        boxes = np.column_stack([rows[:, :2], rows[:, :2] + rows[:, 2:4]])
        found = FaceDetections(boxes, rows[:, 14], rows[:, 4:14].reshape(-1, 5, 2))
        return found.scaled(1 / ratio).clipped(width, height)
