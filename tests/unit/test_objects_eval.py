"""The objects evaluation's matching, threshold rule and people scores on synthetic data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from proctor.eval.objects import (
    LabelledImage,
    Matching,
    choose_threshold,
    f1_at,
    find_misses,
    match,
    people_scores,
)
from proctor.objects.detections import ObjectDetections

NAMES = ("book", "person")


def image(boxes=None, crowd=None, people=0, dataset="coco", group="a.jpg", weight=1.0):
    return LabelledImage(
        Path(group),
        dataset,
        1,
        {k: np.array(v, np.float32) for k, v in (boxes or {}).items()},
        {k: np.array(v, np.float32) for k, v in (crowd or {}).items()},
        people,
        group,
        weight,
    )


def found(rows: list[tuple[float, float, float, float, float, int]]) -> ObjectDetections:
    array = np.array(rows, np.float32).reshape(-1, 6)
    return ObjectDetections(array[:, :4], array[:, 4], array[:, 5].astype(np.int64), NAMES)


def test_matching_is_greedy_by_score_and_ignores_crowd_regions() -> None:
    truth = image(
        {"book": [[0, 0, 40, 40], [100, 100, 110, 110]]},
        {"book": [[200, 200, 300, 300]]},
    )
    dets = found(
        [
            (0, 0, 40, 40, 0.9, 0),  # true positive
            (2, 2, 42, 42, 0.8, 0),  # duplicate of a matched box: false positive
            (210, 210, 250, 250, 0.7, 0),  # inside a crowd region: ignored
            (0, 0, 40, 40, 0.95, 1),  # another class: not looked at
        ]
    )
    result = Matching()
    match(dets, truth, "book", result)
    assert result.det_scores == pytest.approx([0.9, 0.8])
    assert result.det_true == [True, False]
    assert result.gt_scores == pytest.approx([0.9, 0.0])
    assert result.gt_big == [True, False]  # the 10x10 box is under 32 px
    assert result.at(0.85) == (1, 1, 2, 1, 1)  # TP, detections, boxes, big found, big
    assert result.at(0.5) == (1, 2, 2, 1, 1)
    assert result.at(0.95) == (0, 0, 2, 0, 1)


def test_threshold_rule_maximises_pooled_f1_with_ties_to_the_higher_threshold() -> None:
    coco = Matching([0.9, 0.6, 0.3], [True, False, True], [0.9, 0.3], [True, True])
    assert f1_at([coco], 0.3) == pytest.approx(2 * 2 / (3 + 2))
    assert f1_at([coco], 0.9) == pytest.approx(2 * 1 / (1 + 2))
    assert choose_threshold([coco]) == 0.3
    # Every threshold from 0.05 to 0.3 keeps the same detections: the highest one wins.
    assert choose_threshold([Matching([0.3], [True], [0.3], [True])]) == 0.3
    # A second set with six false alarms at 0.5 pulls it above them: from 0.65 to 0.9 only
    # the 0.9 detection is kept (F1 2/3), and the tie goes to 0.9.
    exam = Matching([0.5] * 6, [False] * 6, [], [])
    assert choose_threshold([coco, exam]) == 0.9


def test_people_scores_weigh_each_webcam_frame_once() -> None:
    coco = [image(people=1), image(people=3), image(people=0)]
    exam = [
        image(dataset="exam", people=1, weight=0.5),
        image(dataset="exam", people=1, weight=0.5),
        image(dataset="exam", people=1, weight=1.0),
    ]
    scores = people_scores(coco, exam, [1, 2, 0], [1, 1, 2])
    assert scores["coco_exact"] == pytest.approx(2 / 3)
    assert scores["coco_multiple"] == 1.0  # 2 and 3 people both raise MULTIPLE_PEOPLE
    assert scores["exam_one"] == pytest.approx(0.5)  # one of two distinct frames


def test_misses_are_the_unmatched_boxes_of_the_sheet_classes() -> None:
    coco = image({"book": [[0, 0, 40, 40], [100, 100, 140, 140]]})
    dets = found([(0, 0, 40, 40, 0.9, 0), (100, 100, 140, 140, 0.1, 0)])
    misses = find_misses([coco], [dets], {"book": 0.5, "person": 0.5})
    assert [m.box.tolist() for m in misses] == [[100, 100, 140, 140]]
    assert len(misses[0].kept) == 1  # only detections above their threshold are drawn
