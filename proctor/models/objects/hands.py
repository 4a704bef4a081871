"""Hand (palm) detector: MediaPipe palm detection (Human's ``handdetect``, converted to ONNX).

Input: the whole frame resized (stretched, as Human feeds it) to 256x256, RGB, scaled to
``x / 127.5 - 1`` (range -1..1), NHWC. One output ``(2944, 19)``, one row per SSD anchor:
a score logit (sigmoid gives the palm confidence), the box ``dx, dy, w, h`` in input
pixels (centre offset from the anchor's centre, full width and height), then 7 palm
keypoints as ``dx, dy`` offsets from the anchor's centre (read here only to give each box
its keypoints). The anchors are MediaPipe's fixed-size SSD anchors for a 256x256 input:
strides 8, 16, 32 (32x32, 16x16 and 8x8 grids) with 2, 2 and 6 anchors per cell, centres
at ``(col + 0.5, row + 0.5) * stride``, rows in that order (stride, then row, column,
anchor), as in Human's ``handposeanchors.ts``. The graph has no NMS: boxes are filtered by
score and NMS runs here. The box is the palm's (the fingers are mostly outside it).

The other hand detector in the package, ``handtrack`` (an SSD MobileNetV2-FPN from the
TF Object Detection API), does not convert: tf2onnx fails on the preprocessing loop
(``map/while``) that feeds its first convolution.
"""

from __future__ import annotations

import cv2
import numpy as np

from proctor.models.boxes import nms, resize
from proctor.models.detections import Detections
from proctor.models.registry import ModelFile

HAND_CLASSES: tuple[str, ...] = ("hand",)
#: Row layout of the raw output.
SCORE, BOX, KEYPOINTS = 0, slice(1, 5), slice(5, 19)
PALM_KEYPOINTS = 7
#: (stride, anchors per cell) of each feature map, in output order.
ANCHOR_LAYERS: tuple[tuple[int, int], ...] = ((8, 2), (16, 2), (32, 6))


def palm_anchors(input_size: int) -> np.ndarray:
    """``(N, 2)`` anchor centres in input pixels, in the model's output order."""
    centres = []
    for stride, per_cell in ANCHOR_LAYERS:
        cells = input_size // stride
        rows, cols = np.mgrid[0:cells, 0:cells]
        grid = np.column_stack([cols.ravel() + 0.5, rows.ravel() + 0.5]) * stride
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def decode_palms(
    rows: np.ndarray, anchors: np.ndarray, min_score: float, nms_iou: float
) -> Detections:
    """Detections (with 7 palm keypoints each) of the raw ``(N, 19)`` rows, input pixels."""
    logits = rows[:, SCORE].astype(np.float64)
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -80, 80)))
    kept = np.nonzero(scores >= min_score)[0]
    centres = anchors[kept] + rows[kept, 1:3]
    half = rows[kept, 3:5] / 2
    boxes = np.column_stack([centres - half, centres + half]).astype(np.float32)
    points = rows[kept, KEYPOINTS].reshape(len(kept), PALM_KEYPOINTS, 2) + anchors[kept, None]
    scores = scores[kept].astype(np.float32)
    keep = nms(boxes, scores, nms_iou)
    return Detections(
        boxes[keep],
        scores[keep],
        np.zeros(len(keep), np.int64),
        HAND_CLASSES,
        points[keep].astype(np.float32),
    )


class HandDetector:
    """Palm boxes labelled ``"hand"`` (with 7 palm keypoints) in the given image's pixels."""

    name = "handdetect"
    class_names = HAND_CLASSES

    def __init__(self, model: ModelFile, *, min_score: float = 0.5, nms_iou: float = 0.3) -> None:
        self.session = model.onnx_session()
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.input_h, self.input_w = int(model_input.shape[1]), int(model_input.shape[2])
        if self.input_h != self.input_w:
            raise ValueError(f"palm detector input must be square, got {model_input.shape}")
        self.anchors = palm_anchors(self.input_w)
        output = self.session.get_outputs()[0]
        if int(output.shape[-2]) != len(self.anchors) or int(output.shape[-1]) != 19:
            raise ValueError(
                f"palm detector output {output.shape} does not match {len(self.anchors)} anchors"
            )
        self.output_name = output.name
        self.min_score = min_score
        self.nms_iou = nms_iou

    def detect(self, image_bgr: np.ndarray) -> Detections:
        height, width = image_bgr.shape[:2]
        rgb = cv2.cvtColor(resize(image_bgr, self.input_w, self.input_h), cv2.COLOR_BGR2RGB)
        blob = (rgb.astype(np.float32) / 127.5 - 1.0)[None]
        (raw,) = self.session.run([self.output_name], {self.input_name: blob})
        found = decode_palms(raw[0], self.anchors, self.min_score, self.nms_iou)
        return found.scaled(width / self.input_w, height / self.input_h).clipped(width, height)
