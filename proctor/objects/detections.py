"""``ObjectDetections``: parallel arrays of boxes, scores and class ids, plus the class names.

Every detector backend returns one in the pixels of the image it was given (the layout of
supervision's ``Detections``), so the analyzer, the fusion and the evaluation never see a
model's own output format, and a detector with other classes needs no index mapping.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class ObjectDetections:
    boxes: np.ndarray  # (N, 4) float32 x_min, y_min, x_max, y_max
    scores: np.ndarray  # (N,) float32, 0..1
    class_ids: np.ndarray  # (N,) int64 indices into class_names
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.boxes)
        if self.boxes.shape != (n, 4) or self.scores.shape != (n,) or self.class_ids.shape != (n,):
            raise ValueError(
                f"inconsistent shapes {self.boxes.shape}, {self.scores.shape}, "
                f"{self.class_ids.shape}"
            )
        if n and (self.class_ids.min() < 0 or self.class_ids.max() >= len(self.class_names)):
            raise ValueError(f"class ids outside 0..{len(self.class_names) - 1}")

    @classmethod
    def empty(cls, class_names: tuple[str, ...]) -> ObjectDetections:
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.int64),
            class_names,
        )

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index: np.ndarray | slice) -> ObjectDetections:
        return ObjectDetections(
            self.boxes[index], self.scores[index], self.class_ids[index], self.class_names
        )

    @property
    def labels(self) -> list[str]:
        return [self.class_names[i] for i in self.class_ids]

    def of_classes(self, names: Iterable[str]) -> ObjectDetections:
        """Only the detections whose class is one of ``names`` (unknown names match nothing)."""
        keep = set(names)
        wanted = [i for i, name in enumerate(self.class_names) if name in keep]
        return self[np.isin(self.class_ids, wanted)]

    def above(self, thresholds: np.ndarray) -> ObjectDetections:
        """Only the detections scoring at least their class's entry of ``thresholds``."""
        return self[self.scores >= thresholds[self.class_ids]]

    def most_confident_first(self) -> ObjectDetections:
        return self[np.argsort(-self.scores, kind="stable")]

    def shifted(self, dx: float, dy: float) -> ObjectDetections:
        offset = np.array([dx, dy, dx, dy], np.float32)
        return ObjectDetections(self.boxes + offset, self.scores, self.class_ids, self.class_names)

    def scaled(self, fx: float, fy: float) -> ObjectDetections:
        factors = np.array([fx, fy, fx, fy], np.float32)
        return ObjectDetections(self.boxes * factors, self.scores, self.class_ids, self.class_names)

    def clipped(self, width: int, height: int) -> ObjectDetections:
        limits = np.array([width, height, width, height], np.float32)
        return ObjectDetections(
            np.clip(self.boxes, 0, limits), self.scores, self.class_ids, self.class_names
        )


class ObjectDetector(Protocol):
    """What every backend (and the fusion of several) offers the analyzer and the evaluation."""

    name: str
    class_names: tuple[str, ...]

    def detect(self, image_bgr: np.ndarray) -> ObjectDetections: ...
