"""Loaders of the labelled images in ``../shared/eval`` shared by several evaluations, and the
webcam-like frames built from them.

Nothing here is committed data: every image is read from the eval folder at run time.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

WEBCAM_SIZE = (640, 480)
GREY = (127, 127, 127)


def read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    if image is None:
        raise SystemExit(f"cannot read {path}")
    return image


def lfw_images(eval_dir: Path) -> list[tuple[str, Path]]:
    """``(person, path)`` of every LFW photo in ``faces/identities`` (40 people x 6)."""
    root = eval_dir / "faces" / "identities"
    return [
        (person.name, path)
        for person in sorted(root.iterdir())
        if person.is_dir()
        for path in sorted(person.glob("*.jpg"))
    ]


def in_webcam_frame(face: np.ndarray, face_height: int = 240) -> np.ndarray:
    """Place a face crop, scaled to ``face_height`` px, in the middle of a 640x480 grey frame
    (the size a student at a laptop covers)."""
    width, height = WEBCAM_SIZE
    scale = face_height / face.shape[0]
    small = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), GREY, np.uint8)
    y, x = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    frame[y : y + small.shape[0], x : x + small.shape[1]] = small
    return frame


def side_by_side(faces: list[np.ndarray], height: int = 300) -> np.ndarray:
    """Real face photos composed into one group frame, with a gap between people."""
    tiles = [cv2.resize(f, (height, height), interpolation=cv2.INTER_AREA) for f in faces]
    gap = np.full((height, height // 3, 3), GREY, np.uint8)
    row = [gap]
    for tile in tiles:
        row += [tile, gap]
    return cv2.copyMakeBorder(
        np.hstack(row), height // 3, height // 3, 0, 0, cv2.BORDER_CONSTANT, value=GREY
    )
