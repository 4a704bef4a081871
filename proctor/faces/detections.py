"""``FaceDetections``: parallel arrays of face boxes, scores and 5-point landmarks.

Landmark order (image left to right as seen on screen): eye on the image's left, eye on
the image's right, nose tip, mouth corner on the left, mouth corner on the right. Both
detector backends are mapped to it, and ArcFace alignment expects it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class FaceDetections:
    boxes: np.ndarray  # (N, 4) float32 x_min, y_min, x_max, y_max
    scores: np.ndarray  # (N,) float32
    landmarks: np.ndarray  # (N, 5, 2) float32

    def __post_init__(self) -> None:
        n = len(self.boxes)
        if (
            self.boxes.shape != (n, 4)
            or self.scores.shape != (n,)
            or self.landmarks.shape != (n, 5, 2)
        ):
            raise ValueError(
                f"inconsistent shapes {self.boxes.shape}, {self.scores.shape}, "
                f"{self.landmarks.shape}"
            )

    @classmethod
    def empty(cls) -> FaceDetections:
        return cls(
            np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32)
        )

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index: np.ndarray | slice) -> FaceDetections:
        return FaceDetections(self.boxes[index], self.scores[index], self.landmarks[index])

    @property
    def areas(self) -> np.ndarray:
        return (self.boxes[:, 2] - self.boxes[:, 0]) * (self.boxes[:, 3] - self.boxes[:, 1])

    def largest_first(self) -> FaceDetections:
        """Sorted by box area, largest first: index 0 is the primary (nearest) face."""
        return self[np.argsort(-self.areas, kind="stable")]

    def shifted(self, dx: float, dy: float) -> FaceDetections:
        offset = np.array([dx, dy], np.float32)
        return FaceDetections(self.boxes + np.tile(offset, 2), self.scores, self.landmarks + offset)

    def scaled(self, factor: float) -> FaceDetections:
        return FaceDetections(self.boxes * factor, self.scores, self.landmarks * factor)

    def clipped(self, width: int, height: int) -> FaceDetections:
        limits = np.array([width, height, width, height], np.float32)
        return FaceDetections(np.clip(self.boxes, 0, limits), self.scores, self.landmarks)


def nms(
    boxes: np.ndarray, scores: np.ndarray, score_threshold: float, iou_threshold: float
) -> np.ndarray:
    """Indices kept by OpenCV's NMS over xyxy boxes, best score first."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]]).tolist()
    keep = cv2.dnn.NMSBoxes(xywh, scores.astype(float).tolist(), score_threshold, iou_threshold)
    return np.asarray(keep, np.int64).reshape(-1)
