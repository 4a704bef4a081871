"""OpenCV YuNet face detector (``cv2.FaceDetectorYN``), MIT/Apache-2.0 licensed weights.

``FaceDetectorYN`` keeps per-instance state (its input size) and OpenCV's DNN is not
safe to call from two threads at once, so calls are serialised with a lock. Its int8 file
does not load in ONNX Runtime, so it reads the verified file's path instead of a session.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from proctor.models.boxes import resize
from proctor.models.detections import FACE_CLASSES, Detections
from proctor.models.registry import ModelFile

#: Upper bound on faces YuNet keeps before its own NMS (OpenCV's top_k).
TOP_K = 5000


class YunetDetector:
    name = "yunet"
    class_names = FACE_CLASSES

    def __init__(
        self, model: ModelFile, *, input_size: int, min_score: float, nms_iou: float
    ) -> None:
        self.input_size = input_size
        self._detector = cv2.FaceDetectorYN.create(
            str(model.path), "", (input_size, input_size), min_score, nms_iou, TOP_K
        )
        self._lock = threading.Lock()

    def detect(self, image_bgr: np.ndarray) -> Detections:
        height, width = image_bgr.shape[:2]
        ratio = min(1.0, self.input_size / max(height, width))
        resized = resize(image_bgr, max(1, round(width * ratio)), max(1, round(height * ratio)))
        with self._lock:
            self._detector.setInputSize((resized.shape[1], resized.shape[0]))
            _, rows = self._detector.detect(resized)
        if rows is None or len(rows) == 0:
            return Detections.empty(FACE_CLASSES, points=5)
        rows = rows.astype(np.float32)
        boxes = np.column_stack([rows[:, :2], rows[:, :2] + rows[:, 2:4]])
        found = Detections.faces(boxes, rows[:, 14], rows[:, 4:14].reshape(-1, 5, 2))
        return found.scaled(1 / ratio, 1 / ratio).clipped(width, height)
