"""Box geometry on ``(N, 4)`` xyxy arrays: areas, overlap measures, NMS, and the one resize.

Kept apart from the detectors so decoding, fusion, people counting, face filtering and the
evaluation all measure boxes the same way.
"""

from __future__ import annotations

import cv2
import numpy as np

#: At most this many candidates (best first) enter NMS, which bounds the work on busy frames.
MAX_CANDIDATES = 3000


def resize(image_bgr: np.ndarray, width: int, height: int) -> np.ndarray:
    """The image at ``width`` x ``height``: area averaging when shrinking (no aliasing on
    large frames), bilinear when enlarging, as every detector's preprocessing needs."""
    if (width, height) == (image_bgr.shape[1], image_bgr.shape[0]):
        return image_bgr
    shrinking = width * height < image_bgr.shape[0] * image_bgr.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image_bgr, (width, height), interpolation=interpolation)


def areas(boxes: np.ndarray) -> np.ndarray:
    """Area of each box (zero for inverted boxes)."""
    sides = np.clip(boxes[:, 2:4] - boxes[:, 0:2], 0, None)
    return sides[:, 0] * sides[:, 1]


def shorter_sides(boxes: np.ndarray) -> np.ndarray:
    """The shorter of each box's width and height."""
    return np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])


def intersections(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) areas of pairwise intersection."""
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    sides = np.clip(bottom_right - top_left, 0, None)
    return sides[..., 0] * sides[..., 1]


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) intersection over union."""
    inter = intersections(a, b)
    union = areas(a)[:, None] + areas(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def coverage(inner: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """(len(inner), len(outer)) fraction of each inner box's area inside each outer box."""
    inter = intersections(inner, outer)
    own = areas(inner)[:, None]
    return np.where(own > 0, inter / np.maximum(own, 1e-9), 0.0)


def nms(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, class_ids: np.ndarray | None = None
) -> np.ndarray:
    """Indices kept by NMS, best score first. With ``class_ids`` boxes of different classes
    never suppress each other. Only the ``MAX_CANDIDATES`` best boxes are considered."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    if class_ids is None:
        class_ids = np.zeros(len(boxes), np.int64)
    candidates = np.argsort(-scores, kind="stable")[:MAX_CANDIDATES]
    boxes, scores, class_ids = boxes[candidates], scores[candidates], class_ids[candidates]
    xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]]).astype(float).tolist()
    keep = cv2.dnn.NMSBoxesBatched(
        xywh,
        scores.astype(float).tolist(),
        class_ids.astype(np.int32).tolist(),
        0.0,
        iou_threshold,
    )
    keep = np.asarray(keep, np.int64).reshape(-1)
    return candidates[keep[np.argsort(-scores[keep], kind="stable")]]
