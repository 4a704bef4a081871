"""The fairness set (``../shared/eval/fairness``) and the webcam-like frames built from it.

UTKFace's aligned crops are tight 200x200 faces, not webcam frames (its MANIFEST, caveat 2).
``in_room`` puts one into a 640x480 frame the way a laptop camera sees a student: the crop
is scaled to ``FACE_WIDTH`` px across (about the width of a face plus hair at 60 cm with a
65-70 deg camera), blended in through a feathered ellipse (so no square edge is left for a
detector to latch on to), slightly below the centre, over a real photograph of a room with
nobody and nothing banned in it: the COCO images in ``../shared/eval/coco`` whose
annotations show something found indoors and no person and no class the service bans (32
images). Each face gets one background, chosen by a hash of its file name, so a run never
depends on file order.

What such a frame cannot show: a body, shoulders, the face's own lighting matched to the
room, a webcam's noise and auto-exposure. It is a composite and is reported as one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from proctor.eval.data import WEBCAM_SIZE, read_image
from proctor.eval.splits import Split, split_items

#: Width the 200 px crop is scaled to in a 640x480 frame.
FACE_WIDTH = 230
#: Classes a background must not show (a person, or anything banned or counted).
NOT_IN_ROOM = frozenset({"person", "cell phone", "laptop", "book", "tv"})
#: A background must show one of these: it is indoors, where exams are taken.
INDOORS = frozenset(
    {
        "chair",
        "couch",
        "bed",
        "dining table",
        "potted plant",
        "clock",
        "vase",
        "refrigerator",
        "oven",
        "microwave",
        "sink",
        "toilet",
        "cup",
        "bottle",
        "bowl",
        "teddy bear",
        "keyboard",
        "mouse",
        "remote",
    }
)


@dataclass(frozen=True)
class FairnessPhoto:
    """One UTKFace crop: one pseudo-identity, its perceived group (MANIFEST: label meaning)."""

    file: str
    group: str
    gender: str  # UTKFace's binary label: "male" or "female"
    image: np.ndarray


def fairness_photos(eval_dir: Path) -> list[FairnessPhoto]:
    """Every crop of ``fairness/detection``, sorted by file name."""
    root = eval_dir / "fairness" / "detection"
    labels = json.loads((root / "labels.json").read_text())
    return [
        FairnessPhoto(name, info["group"], info["gender"], read_image(root / name))
        for name, info in sorted(labels.items())
    ]


def fairness_split(photos: list[FairnessPhoto]) -> dict[Split, list[FairnessPhoto]]:
    """Tune and report halves by pseudo-identity (one crop each, so by file)."""
    return split_items(photos, lambda photo: photo.file)


def room_backgrounds(eval_dir: Path) -> list[np.ndarray]:
    """640x480 photographs of rooms with nobody and nothing banned in them: the COCO images
    whose annotations hold one of ``INDOORS`` and none of ``NOT_IN_ROOM`` (centre-cropped to
    4:3)."""
    backgrounds = []
    for split in ("val2017", "train2017"):
        root = eval_dir / "coco"
        data = json.loads((root / "annotations" / f"instances_{split}.json").read_text())
        names = {c["id"]: c["name"] for c in data["categories"]}
        shown: dict[int, set[str]] = {}
        for ann in data["annotations"]:
            shown.setdefault(ann["image_id"], set()).add(names[ann["category_id"]])
        for info in sorted(data["images"], key=lambda i: i["file_name"]):
            classes = shown.get(info["id"], set())
            if classes & NOT_IN_ROOM or not classes & INDOORS:
                continue
            backgrounds.append(_fill(read_image(root / split / info["file_name"])))
    return backgrounds


def _fill(image: np.ndarray) -> np.ndarray:
    """Centre crop to the webcam's 4:3 and resize to 640x480."""
    width, height = WEBCAM_SIZE
    h, w = image.shape[:2]
    if w * height > h * width:  # too wide
        keep = round(h * width / height)
        image = image[:, (w - keep) // 2 : (w - keep) // 2 + keep]
    else:
        keep = round(w * height / width)
        image = image[(h - keep) // 2 : (h - keep) // 2 + keep]
    return cv2.resize(image, WEBCAM_SIZE, interpolation=cv2.INTER_AREA)


def background_for(file: str, backgrounds: list[np.ndarray]) -> np.ndarray:
    """The background a face is always shown on (a hash of its file name picks it)."""
    index = int(hashlib.sha1(file.encode()).hexdigest(), 16) % len(backgrounds)
    return backgrounds[index]


def in_room(face: np.ndarray, background: np.ndarray, face_width: int = FACE_WIDTH) -> np.ndarray:
    """``face`` (a square crop) scaled to ``face_width`` px and blended into ``background``
    through a feathered ellipse, centred horizontally, slightly below the middle."""
    size = face_width
    tile = cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    mask = np.zeros((size, size), np.float32)
    cv2.ellipse(
        mask, (size // 2, size // 2), (int(size * 0.42), int(size * 0.48)), 0, 0, 360, 1, -1
    )
    mask = cv2.GaussianBlur(mask, (0, 0), size * 0.04)[..., None]
    frame = background.astype(np.float32).copy()
    height, width = frame.shape[:2]
    x = (width - size) // 2
    y = min(height - size, (height - size) // 2 + height // 16)
    region = frame[y : y + size, x : x + size]
    frame[y : y + size, x : x + size] = mask * tile + (1 - mask) * region
    return frame.round().astype(np.uint8)
