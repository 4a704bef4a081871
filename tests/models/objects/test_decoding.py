"""Object detector decoding, NMS and fusion on tiny synthetic arrays (no model files)."""

from __future__ import annotations

import numpy as np
import pytest

from proctor.models.boxes import coverage, iou, nms
from proctor.models.detections import Detections
from proctor.models.objects.centernet import decode_centernet
from proctor.models.objects.fusion import weighted_box_fusion
from proctor.models.objects.labels import COCO80
from proctor.models.objects.nanodet import decode_level, decode_nanodet
from proctor.models.objects.yolo import (
    NotAYoloExportError,
    class_names_from_metadata,
    decode_yolo,
    letterbox,
)

PHONE, REMOTE, PERSON = COCO80.index("cell phone"), COCO80.index("remote"), COCO80.index("person")


def detections(rows: list[tuple[float, float, float, float, float, int]], names=("a", "b")):
    array = np.array(rows, np.float32).reshape(-1, 6)
    return Detections(array[:, :4], array[:, 4], array[:, 5].astype(np.int64), names)


def test_iou_and_coverage_of_known_boxes() -> None:
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    assert iou(a, b) == pytest.approx(np.array([[50 / 150, 0.0]]))
    assert coverage(np.array([[0, 0, 4, 10]], np.float32), a) == pytest.approx(np.array([[1.0]]))
    assert coverage(np.array([[5, 0, 15, 10]], np.float32), a) == pytest.approx(np.array([[0.5]]))


def test_class_nms_suppresses_within_a_class_only() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.6, 0.9, 0.5], np.float32)
    keep = nms(boxes, scores, 0.5, np.array([0, 0, 1]))
    assert keep.tolist() == [1, 2]  # best first; box 0 lost to box 1 of its own class


def test_centernet_rows_are_filtered_and_deduplicated() -> None:
    rows = np.zeros((100, 6), np.float32)
    rows[0] = (10, 10, 50, 50, 0.9, PHONE)
    rows[1] = (12, 12, 52, 52, 0.8, PHONE)  # the same phone again: suppressed
    rows[2] = (10, 10, 50, 50, 0.7, REMOTE)  # another class on the same spot: kept
    rows[3] = (0, 0, 5, 5, 0.2, PERSON)  # below min_score
    found = decode_centernet(rows, min_score=0.3, nms_iou=0.5)
    assert found.labels == ["cell phone", "remote"]
    assert found.scores == pytest.approx([0.9, 0.7])
    assert found.boxes[0] == pytest.approx([10, 10, 50, 50])


def peaked_bins(sides: tuple[int, int, int, int], bins: int = 11) -> np.ndarray:
    """Box-bin logits whose softmax is (almost) one-hot at the given bin for each side."""
    logits = np.full((4, bins), -50.0, np.float32)
    logits[np.arange(4), sides] = 50.0
    return logits.reshape(-1)


def test_nanodet_cell_decodes_to_distances_times_stride_from_the_cell_centre() -> None:
    scores = np.zeros((4, 80), np.float32)  # a 2x2 grid
    scores[3, PERSON] = 0.9  # cell 3 = row 1, col 1: centre (12, 12) at stride 8
    bins = np.zeros((4, 44), np.float32)
    bins[3] = peaked_bins((2, 1, 3, 0))  # left 2, top 1, right 3, bottom 0 bins
    boxes, found_scores, class_ids = decode_level(scores, bins, 8, 2, 0.5)
    assert class_ids.tolist() == [PERSON]
    assert found_scores == pytest.approx([0.9])
    assert boxes[0] == pytest.approx([12 - 16, 12 - 8, 12 + 24, 12 + 0], abs=1e-3)


def test_nanodet_keeps_every_class_above_min_score_and_merges_levels() -> None:
    fine = np.zeros((4, 80), np.float32)  # 2x2 grid at stride 8
    fine[0, PHONE], fine[0, REMOTE] = 0.6, 0.4  # one cell, two plausible classes
    fine_bins = np.tile(peaked_bins((2, 2, 2, 2)), (4, 1))  # 16 px each side of (4, 4)
    coarse = np.zeros((1, 80), np.float32)  # 1x1 grid at stride 16
    coarse[0, PHONE] = 0.3  # the same phone seen by the coarser level, weaker
    coarse_bins = peaked_bins((1, 1, 1, 1))[None]  # 16 px each side of (8, 8)
    found = decode_nanodet(
        [(fine, fine_bins, 8, 2), (coarse, coarse_bins, 16, 1)], min_score=0.2, nms_iou=0.5
    )
    assert found.labels == ["cell phone", "remote"]  # the weaker duplicate phone is gone
    assert found.boxes[0] == pytest.approx([-12, -12, 20, 20], abs=1e-3)


def test_nanodet_with_nothing_above_min_score_is_empty() -> None:
    found = decode_nanodet(
        [(np.zeros((4, 80), np.float32), np.zeros((4, 44), np.float32), 8, 2)], 0.5, 0.5
    )
    assert len(found) == 0 and found.boxes.shape == (0, 4)


def test_yolo_rows_decode_per_class_with_nms() -> None:
    rows = np.array(
        [
            [50, 50, 20, 10, 0.1, 0.8, 0.0],  # class b
            [51, 50, 20, 10, 0.0, 0.6, 0.0],  # the same b again: suppressed
            [50, 50, 20, 10, 0.5, 0.0, 0.0],  # class a on the same spot: kept
            [10, 10, 4, 4, 0.0, 0.0, 0.2],  # below min_score
        ],
        np.float32,
    )
    found = decode_yolo(rows, ("a", "b", "c"), min_score=0.25, nms_iou=0.5)
    assert found.labels == ["b", "a"]
    assert found.boxes[0] == pytest.approx([40, 45, 60, 55])


def test_yolo_class_names_come_from_the_export_metadata() -> None:
    names = class_names_from_metadata({"names": "{0: 'person', 1: 'cell phone'}"})
    assert names == ("person", "cell phone")
    with pytest.raises(NotAYoloExportError):
        class_names_from_metadata({})
    with pytest.raises(NotAYoloExportError):
        class_names_from_metadata({"names": "{1: 'person'}"})
    with pytest.raises(NotAYoloExportError):
        class_names_from_metadata({"names": "__import__('os')"})


def test_letterbox_centres_the_image_on_grey_padding() -> None:
    image = np.zeros((160, 320, 3), np.uint8)
    image[:, :] = (10, 20, 30)
    canvas, ratio, dx, dy = letterbox(image, 640)
    assert canvas.shape == (640, 640, 3)
    assert (ratio, dx, dy) == (2.0, 0.0, 160.0)
    assert canvas[0, 0].tolist() == [114, 114, 114]
    assert canvas[320, 320].tolist() == [10, 20, 30]


def test_weighted_box_fusion_averages_agreement_and_halves_a_lone_box() -> None:
    first = detections([(0, 0, 10, 10, 0.8, 0), (0, 0, 10, 10, 0.9, 1)])
    second = detections([(1, 1, 11, 11, 0.6, 0), (50, 50, 60, 60, 0.4, 0)])
    fused = weighted_box_fusion([first, second], iou_threshold=0.55)
    by_score = {
        round(float(s), 4): (label, box)
        for s, label, box in zip(fused.scores, fused.labels, fused.boxes, strict=True)
    }
    assert sorted(by_score) == [0.2, 0.45, 0.7]
    label, box = by_score[0.7]  # both models saw this "a": mean score, score-weighted box
    assert label == "a"
    assert box == pytest.approx([0.6 / 1.4, 0.6 / 1.4, 10 + 0.6 / 1.4, 10 + 0.6 / 1.4], abs=1e-4)
    assert by_score[0.45][0] == "b"  # another class never fuses with "a"
    assert by_score[0.2][0] == "a"  # seen by one model of two: half its score


def test_weighted_box_fusion_refuses_mismatched_class_lists() -> None:
    with pytest.raises(ValueError, match="class list"):
        weighted_box_fusion([detections([], ("a",)), detections([], ("b",))], 0.5)
