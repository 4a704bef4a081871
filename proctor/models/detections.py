"""``Detections``: what every detector returns, faces and objects alike.

Parallel arrays (the layout of supervision's ``Detections``): xyxy ``boxes``, ``scores``,
``class_ids`` into ``class_names``, and optional per-box ``landmarks`` (a face detector's five
points: eye on the image's left, eye on the image's right, nose tip, mouth corner left,
mouth corner right). Every backend returns them in the pixels of the image it was given, so
analyzers, the fusion and the evaluation never see a model's own output format, and a
detector with other classes needs no index mapping.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from proctor.models.boxes import areas

FACE_CLASSES: tuple[str, ...] = ("face",)


@dataclass(frozen=True)
class Detections:
    boxes: np.ndarray  # (N, 4) float32 x_min, y_min, x_max, y_max
    scores: np.ndarray  # (N,) float32, 0..1
    class_ids: np.ndarray  # (N,) int64 indices into class_names
    class_names: tuple[str, ...]
    landmarks: np.ndarray | None = None  # (N, K, 2) float32, or None

    def __post_init__(self) -> None:
        n = len(self.boxes)
        if self.boxes.shape != (n, 4) or self.scores.shape != (n,) or self.class_ids.shape != (n,):
            raise ValueError(
                f"inconsistent shapes {self.boxes.shape}, {self.scores.shape}, "
                f"{self.class_ids.shape}"
            )
        if self.landmarks is not None and (
            self.landmarks.ndim != 3 or len(self.landmarks) != n or self.landmarks.shape[2] != 2
        ):
            raise ValueError(f"landmarks of shape {self.landmarks.shape} for {n} boxes")
        if n and (self.class_ids.min() < 0 or self.class_ids.max() >= len(self.class_names)):
            raise ValueError(f"class ids outside 0..{len(self.class_names) - 1}")

    @classmethod
    def empty(cls, class_names: tuple[str, ...], points: int | None = None) -> Detections:
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.int64),
            class_names,
            None if points is None else np.zeros((0, points, 2), np.float32),
        )

    @classmethod
    def faces(cls, boxes: np.ndarray, scores: np.ndarray, landmarks: np.ndarray) -> Detections:
        """Face detections: one class, five landmarks per box."""
        n = len(boxes)
        return cls(
            np.asarray(boxes, np.float32).reshape(n, 4),
            np.asarray(scores, np.float32).reshape(n),
            np.zeros(n, np.int64),
            FACE_CLASSES,
            np.asarray(landmarks, np.float32).reshape(n, 5, 2),
        )

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index: np.ndarray | slice) -> Detections:
        return Detections(
            self.boxes[index],
            self.scores[index],
            self.class_ids[index],
            self.class_names,
            None if self.landmarks is None else self.landmarks[index],
        )

    @property
    def labels(self) -> list[str]:
        return [self.class_names[i] for i in self.class_ids]

    @property
    def areas(self) -> np.ndarray:
        return areas(self.boxes)

    def of_classes(self, names: Iterable[str]) -> Detections:
        """Only the detections whose class is one of ``names`` (unknown names match nothing)."""
        keep = set(names)
        wanted = [i for i, name in enumerate(self.class_names) if name in keep]
        return self[np.isin(self.class_ids, wanted)]

    def above(self, thresholds: np.ndarray) -> Detections:
        """Only the detections scoring at least their class's entry of ``thresholds``."""
        return self[self.scores >= thresholds[self.class_ids]]

    def most_confident_first(self) -> Detections:
        return self[np.argsort(-self.scores, kind="stable")]

    def largest_first(self) -> Detections:
        """Sorted by box area, largest first: for faces, index 0 is the primary (nearest)."""
        return self[np.argsort(-self.areas, kind="stable")]

    def _mapped(self, offset: tuple[float, float], factor: tuple[float, float]) -> Detections:
        shift, scale = np.array(offset, np.float32), np.array(factor, np.float32)
        return Detections(
            (self.boxes + np.tile(shift, 2)) * np.tile(scale, 2),
            self.scores,
            self.class_ids,
            self.class_names,
            None if self.landmarks is None else (self.landmarks + shift) * scale,
        )

    def shifted(self, dx: float, dy: float) -> Detections:
        return self._mapped((dx, dy), (1.0, 1.0))

    def scaled(self, fx: float, fy: float) -> Detections:
        return self._mapped((0.0, 0.0), (fx, fy))

    def clipped(self, width: int, height: int) -> Detections:
        """Boxes clipped to the image (landmarks may lie outside it, as the face does)."""
        limits = np.array([width, height, width, height], np.float32)
        return Detections(
            np.clip(self.boxes, 0, limits),
            self.scores,
            self.class_ids,
            self.class_names,
            self.landmarks,
        )


class Detector(Protocol):
    """What every detector backend (and the fusion of several) offers its analyzer."""

    name: str
    class_names: tuple[str, ...]

    def detect(self, image_bgr: np.ndarray) -> Detections: ...
