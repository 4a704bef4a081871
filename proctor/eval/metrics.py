"""Box matching, precision/recall, the F1 threshold rule, AP@0.5 and rates over units.

Box matching, per image and class: detections best first each take the unmatched
ground-truth box they overlap most, if IoU >= 0.5; a detection that matches none but lies
mostly (>= 0.5 of its area) inside a crowd region is dropped, as COCO does. Greedy matching
in score order means the matches at any threshold are those of the detections above it, so
one matching serves every threshold.

AP@0.5 is COCO's (pycocotools): detections of all images pooled best first, precision made
non-increasing, read at 101 recall points. Each detection and each box carries a weight:
1 except for augmented copies of one webcam frame, which share one frame's weight, so a
frame counts once however many copies of it the set holds. Like pycocotools, AP reads only
the 100 best detections per image and class (NanoDet returns up to 200 persons above the
score floor); precision, recall and the threshold rule read them all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

import numpy as np

from proctor.eval.stats import Rate
from proctor.models.boxes import coverage, iou

MATCH_IOU = 0.5
#: Boxes at least this many pixels on both sides are "big" (COCO calls smaller ones small).
BIG_PX = 32
#: Candidate thresholds of the F1 rule.
GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
#: Detections per image and class that AP reads (COCO's maxDets).
AP_MAX_DETECTIONS = 100


@dataclass(frozen=True)
class ClassMatch:
    """One class on one or more images: every detection's score, whether it matched a box, its
    weight and its rank by score on its image; every box's matched score (0 when never
    matched), size and weight."""

    det_scores: np.ndarray
    det_true: np.ndarray
    det_weights: np.ndarray
    det_ranks: np.ndarray
    gt_scores: np.ndarray
    gt_big: np.ndarray
    gt_weights: np.ndarray


@dataclass(frozen=True)
class Counts:
    """Weighted counts at one threshold (whole numbers when every weight is 1)."""

    true_positives: float
    detections: float
    boxes: float
    big_found: float
    big: float

    @property
    def f1(self) -> float:
        total = self.detections + self.boxes
        return 2 * self.true_positives / total if total else 0.0


def match_boxes(
    boxes: np.ndarray,
    scores: np.ndarray,
    truth: np.ndarray,
    crowd: np.ndarray,
    weight: float = 1.0,
) -> ClassMatch:
    """Greedy IoU >= 0.5 matching of one class's detections to its boxes on one image."""
    order = np.argsort(-scores, kind="stable")
    boxes, scores = boxes[order], scores[order]
    matched = np.zeros(len(truth), bool)
    matched_scores = np.zeros(len(truth), np.float64)
    overlaps = iou(boxes, truth)
    in_crowd = np.zeros(len(boxes), bool)
    if len(crowd):
        in_crowd = coverage(boxes, crowd).max(axis=1) >= MATCH_IOU
    kept, true = [], []
    for k, score in enumerate(scores):
        if len(truth):
            free = np.where(matched, -1.0, overlaps[k])
            best = int(free.argmax())
            if free[best] >= MATCH_IOU:
                matched[best] = True
                matched_scores[best] = score
                kept.append(k)
                true.append(True)
                continue
        if not in_crowd[k]:
            kept.append(k)
            true.append(False)
    sides = truth[:, 2:] - truth[:, :2]
    return ClassMatch(
        scores[kept].astype(np.float64),
        np.array(true, bool),
        np.full(len(kept), weight),
        np.array(kept, np.int64),
        matched_scores,
        (sides >= BIG_PX).all(axis=1),
        np.full(len(truth), weight),
    )


def concat(matches: Iterable[ClassMatch]) -> ClassMatch:
    """Several images' matches of one class as one."""
    parts = list(matches)
    if not parts:
        none, no = np.zeros(0), np.zeros(0, bool)
        return ClassMatch(none, no, none, np.zeros(0, np.int64), none, no, none)
    return ClassMatch(
        *(np.concatenate([getattr(m, f.name) for m in parts]) for f in fields(ClassMatch))
    )


def counts_at(match: ClassMatch, threshold: float) -> Counts:
    kept = match.det_scores >= threshold
    found = match.gt_scores >= threshold
    return Counts(
        float(match.det_weights[kept & match.det_true].sum()),
        float(match.det_weights[kept].sum()),
        float(match.gt_weights.sum()),
        float(match.gt_weights[found & match.gt_big].sum()),
        float(match.gt_weights[match.gt_big].sum()),
    )


def choose_threshold(match: ClassMatch, grid: Sequence[float] = GRID) -> float:
    """The grid threshold with the best F1, ties to the higher threshold (fewer alarms)."""
    return max(grid, key=lambda t: (round(counts_at(match, t).f1, 6), t))


def average_precision(match: ClassMatch) -> float:
    """COCO's AP at IoU 0.5 (101 recall points), weighted; NaN when there is no box."""
    total = float(match.gt_weights.sum())
    if total <= 0:
        return float("nan")
    best = match.det_ranks < AP_MAX_DETECTIONS
    order = np.argsort(-match.det_scores[best], kind="mergesort")
    weights, true = match.det_weights[best][order], match.det_true[best][order]
    tp = np.cumsum(weights * true)
    fp = np.cumsum(weights * ~true)
    if not len(tp):
        return 0.0
    recall = tp / total
    precision = np.maximum.accumulate((tp / np.maximum(tp + fp, np.spacing(1)))[::-1])[::-1]
    at = np.searchsorted(recall, RECALL_POINTS, side="left")
    read = np.where(at < len(precision), precision[np.minimum(at, len(precision) - 1)], 0.0)
    return float(read.mean())


@dataclass(frozen=True)
class UnitRate(Rate):
    """A rate whose trials are units holding one or more images (a webcam frame and its
    augmented copies, a person's burst of near-duplicate frames): each unit adds the share of
    its images that hit, so ``k`` may be fractional and ``n`` counts units, not images. The
    Wilson interval then rests on the independent units, not on the copies."""

    k: float


def unit_rate(hits: Sequence[bool], units: Sequence[str]) -> UnitRate:
    """Share of units hit, each unit weighing one, split evenly over its images."""
    shares: dict[str, list[bool]] = defaultdict(list)
    for hit, unit in zip(hits, units, strict=True):
        shares[unit].append(bool(hit))
    k = round(float(sum(np.mean(v) for v in shares.values())), 2)
    return UnitRate(int(k) if k.is_integer() else k, len(shares))
