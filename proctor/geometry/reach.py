"""Where a student's held-up phone can be, and whether a hand holds a box.

A COCO detector run on the whole frame sees a phone held a metre from a webcam as a few
dozen pixels (nanodet resizes a 640x480 frame to 416x416). The second look re-runs it on the
part of the frame a held phone occupies, so the phone fills more of the detector's input:
around and below the student's face, ``REACH_WIDTH`` face widths wide and from
``REACH_ABOVE`` face widths above the face's top to the bottom of the frame. Beside the
face at eye height (shown to the camera), in front of the chest and on the desk edge all
fall inside it; the wall above the student's head, where posters and shelves hang, does not.
"""

from __future__ import annotations

import numpy as np

from proctor.models.boxes import intersections

REACH_WIDTH = 4.4
REACH_ABOVE = 0.6
#: Smallest region side worth a second look (pixels); a smaller one is the frame itself.
MIN_REGION = 64
#: A hand holds a box when its palm box touches the box grown by this share of its size.
HOLD_MARGIN = 0.2


def reach_region(face_box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """``x1, y1, x2, y2`` (integer pixels, inside the frame) of the region around and below
    ``face_box`` where a held phone can be; empty (x2 <= x1) when it is under ``MIN_REGION``."""
    x1, y1, x2, _ = (float(v) for v in face_box)
    face_width = x2 - x1
    centre = (x1 + x2) / 2
    left = int(max(0.0, centre - REACH_WIDTH / 2 * face_width))
    right = int(min(float(width), centre + REACH_WIDTH / 2 * face_width))
    top = int(max(0.0, y1 - REACH_ABOVE * face_width))
    if right - left < MIN_REGION or height - top < MIN_REGION:
        return left, top, left, top
    return left, top, right, height


def held(boxes: np.ndarray, hand_boxes: np.ndarray) -> np.ndarray:
    """Per box, whether a hand (palm) box touches it grown by ``HOLD_MARGIN`` on each side."""
    if len(boxes) == 0 or len(hand_boxes) == 0:
        return np.zeros(len(boxes), bool)
    size = boxes[:, 2:] - boxes[:, :2]
    grown = np.concatenate(
        [boxes[:, :2] - HOLD_MARGIN * size, boxes[:, 2:] + HOLD_MARGIN * size], 1
    )
    return (intersections(grown, hand_boxes) > 0).any(axis=1)
