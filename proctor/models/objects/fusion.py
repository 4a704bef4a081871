"""Weighted box fusion of several detectors that share one class list (CenterNet + NanoDet).

Each member runs on the whole frame. Per class, boxes from all members are taken best score
first; a box joins the cluster whose fused box it overlaps most, if that IoU is at least
``iou_threshold``, else it starts a new cluster. A cluster's box is the score-weighted mean
of its boxes; its score is the mean score times ``min(boxes, members) / members``. So an
object both models see keeps their average confidence and tighter coordinates, while a box
only one model reports is halved: agreement is what lets a low-confidence detection through.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from proctor.models.boxes import iou
from proctor.models.detections import Detections, Detector


def _fuse_class(
    boxes: np.ndarray, scores: np.ndarray, members: int, iou_threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Fused boxes and scores of one class's boxes from all members."""
    order = np.argsort(-scores, kind="stable")
    clusters: list[list[int]] = []
    fused: list[np.ndarray] = []
    for index in order:
        if fused:
            overlaps = iou(boxes[index : index + 1], np.stack(fused))[0]
            best = int(overlaps.argmax())
            if overlaps[best] >= iou_threshold:
                clusters[best].append(index)
                weights = scores[clusters[best]]
                fused[best] = (boxes[clusters[best]] * weights[:, None]).sum(0) / weights.sum()
                continue
        clusters.append([index])
        fused.append(boxes[index])
    fused_scores = [
        scores[cluster].mean() * min(len(cluster), members) / members for cluster in clusters
    ]
    return np.array(fused, np.float32).reshape(-1, 4), np.array(fused_scores, np.float32)


def weighted_box_fusion(
    results: Sequence[Detections], iou_threshold: float, min_score: float = 0.0
) -> Detections:
    """One set of detections from every member's, fused per class (see the module docstring)."""
    class_names = results[0].class_names
    if any(r.class_names != class_names for r in results):
        raise ValueError("fused detectors must share one class list")
    boxes = np.concatenate([r.boxes for r in results]).reshape(-1, 4)
    scores = np.concatenate([r.scores for r in results])
    class_ids = np.concatenate([r.class_ids for r in results])
    out_boxes, out_scores, out_ids = [], [], []
    for class_id in np.unique(class_ids):
        mask = class_ids == class_id
        fused_boxes, fused_scores = _fuse_class(
            boxes[mask], scores[mask], len(results), iou_threshold
        )
        out_boxes.append(fused_boxes)
        out_scores.append(fused_scores)
        out_ids.append(np.full(len(fused_scores), class_id, np.int64))
    if not out_boxes:
        return Detections.empty(class_names)
    fused = Detections(
        np.concatenate(out_boxes), np.concatenate(out_scores), np.concatenate(out_ids), class_names
    )
    return fused[fused.scores >= min_score].most_confident_first()


class FusionDetector:
    name = "fusion"

    def __init__(
        self, members: Sequence[Detector], *, iou_threshold: float, min_score: float
    ) -> None:
        if len({m.class_names for m in members}) != 1:
            raise ValueError("fused detectors must share one class list")
        self.members = list(members)
        self.class_names = self.members[0].class_names
        self.iou_threshold = iou_threshold
        self.min_score = min_score

    def detect(self, image_bgr: np.ndarray) -> Detections:
        return weighted_box_fusion(
            [member.detect(image_bgr) for member in self.members],
            self.iou_threshold,
            self.min_score,
        )
