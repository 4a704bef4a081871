"""A contact sheet of the ground-truth boxes a detector misses, to see *why* it misses them.

Each tile is a square crop around one missed box: the box in green, the detections that
passed their thresholds in red. Frames of private people (exam_objects and desk: identifiable
adults, evaluation only, not to be redistributed) are pixelated everywhere but the object.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from proctor.eval.data import read_image
from proctor.eval.datasets import LabelledImage
from proctor.eval.metrics import MATCH_IOU
from proctor.models.boxes import iou
from proctor.models.detections import Detections

TILE = 180
MAX_TILES = 40
#: Sets whose frames show private people: only the missed object stays sharp.
PRIVATE = frozenset({"exam", "desk"})


@dataclass(frozen=True)
class Miss:
    image: LabelledImage
    label: str
    box: np.ndarray  # the missed ground-truth box, original pixels
    kept: Detections  # what passed its threshold on that image, original pixels


def find_misses(
    images: Sequence[LabelledImage], kept: Sequence[Detections], classes: Sequence[str]
) -> list[Miss]:
    """Boxes of ``classes`` no kept detection of their class matches (IoU >= 0.5), spread
    over classes and sets (round-robin), at most two per image and one per private sample
    (webcam frame or person), so the sheet is not one shelf of tiny books."""
    queues: dict[tuple[str, str], list[Miss]] = {}
    per_sample: Counter[str] = Counter()
    for image, found in zip(images, kept, strict=True):
        limit = 1 if image.dataset in PRIVATE else 2
        for label in classes:
            own = found.of_classes([label])
            for box in image.truth(label):
                if len(own) and iou(box[None], own.boxes).max() >= MATCH_IOU:
                    continue
                if per_sample[image.sample] >= limit:
                    continue
                per_sample[image.sample] += 1
                queues.setdefault((image.dataset, label), []).append(Miss(image, label, box, found))
    picked: list[Miss] = []
    lists = list(queues.values())
    while len(picked) < MAX_TILES and any(lists):
        for queue in lists:
            if queue and len(picked) < MAX_TILES:
                picked.append(queue.pop(0))
    return picked


def pixelate_outside(crop: np.ndarray, box: np.ndarray, block: int = 10) -> np.ndarray:
    """Everything but ``box`` (crop pixels) reduced to ``block``-pixel squares."""
    height, width = crop.shape[:2]
    small = cv2.resize(
        crop, (max(1, width // block), max(1, height // block)), interpolation=cv2.INTER_AREA
    )
    coarse = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)
    x0, y0, x1, y1 = np.clip(box, 0, [width, height, width, height])
    coarse[y0:y1, x0:x1] = crop[y0:y1, x0:x1]
    return coarse


def miss_tile(miss: Miss) -> np.ndarray:
    """A square crop around the missed box: ground truth green, kept detections red."""
    picture = read_image(miss.image.path)
    height, width = picture.shape[:2]
    side = max(96.0, 1.8 * float((miss.box[2:] - miss.box[:2]).max()))
    origin = ((miss.box[:2] + miss.box[2:]) / 2 - side / 2).clip(0)
    x0, y0 = origin.astype(int)
    x1, y1 = int(min(width, x0 + side)), int(min(height, y0 + side))
    scale = TILE / max(y1 - y0, x1 - x0)
    crop = cv2.resize(picture[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if miss.image.dataset in PRIVATE:
        crop = pixelate_outside(crop, ((miss.box - (x0, y0, x0, y0)) * scale).astype(int))
    tile = np.full((TILE + 16, TILE, 3), 255, np.uint8)
    tile[: crop.shape[0], : crop.shape[1]] = crop

    def draw(box: np.ndarray, colour: tuple[int, int, int], text: str = "") -> None:
        p = ((box[:2] - (x0, y0)) * scale).astype(int)
        q = ((box[2:] - (x0, y0)) * scale).astype(int)
        cv2.rectangle(tile[:TILE], tuple(p.tolist()), tuple(q.tolist()), colour, 1)
        if text:
            cv2.putText(tile[:TILE], text, (int(p[0]) + 2, max(9, int(p[1]) + 9)), 0, 0.3, colour)

    for box, label, score in zip(miss.kept.boxes, miss.kept.labels, miss.kept.scores, strict=True):
        draw(box, (0, 0, 255), f"{label} {score:.2f}")
    draw(miss.box, (0, 190, 0))
    w, h = (miss.box[2:] - miss.box[:2]).round().astype(int)
    caption = f"{miss.image.dataset}: {miss.label} {w}x{h}px"
    cv2.putText(tile, caption, (3, TILE + 12), 0, 0.36, (0, 0, 0), 1, cv2.LINE_AA)
    return tile


def write_contact_sheet(tiles: list[np.ndarray], path: Path, columns: int = 8) -> int:
    """Tiles in a grid, as a JPEG; returns its size in bytes."""
    blank = np.full_like(tiles[0], 255)
    rows = [
        np.hstack(tiles[i : i + columns] + [blank] * (columns - len(tiles[i : i + columns])))
        for i in range(0, len(tiles), columns)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".jpg", np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 70])
    if not ok:
        raise SystemExit(f"could not encode {path}")
    path.write_bytes(data.tobytes())
    return len(data)
