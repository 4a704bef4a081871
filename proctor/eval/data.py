"""Loaders of the labelled images in ``../shared/eval`` shared by several evaluations, and the
webcam-like frames built from them.

Nothing here is committed data: every image is read from the eval folder at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from proctor.eval.splits import Split, split_by_group, split_items

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


def lfw_split(eval_dir: Path) -> dict[Split, list[tuple[str, Path]]]:
    """The LFW photos divided by person: all six photos of a person are on one side."""
    return split_items(lfw_images(eval_dir), lambda item: item[0])


@dataclass(frozen=True)
class HeadposeImage:
    """One ``headpose/`` image with its labels mapped to the API's signs."""

    path: Path
    dataset: str  # "pointing04" or "aflw2000-3d"
    unit: str  # what makes images dependent: the Pointing'04 person, or the AFLW2000 image
    truth: tuple[float, float, float]  # yaw, pitch, roll in degrees, API signs
    roll_annotated: bool

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def frontal(self) -> bool:
        """A Pointing'04 subject asked to face the camera (pan 0, tilt 0)."""
        return self.dataset == "pointing04" and self.truth[:2] == (0.0, 0.0)


def headpose_images(eval_dir: Path) -> list[HeadposeImage]:
    """Every labelled ``headpose/`` image. The labels' yaw is positive when the subject turns
    to their own right (headpose/MANIFEST.md); the API's is positive toward their left, so
    yaw changes sign here. Pitch (> 0 up) and roll (> 0 clockwise) keep theirs."""
    root = eval_dir / "headpose"
    labels = json.loads((root / "labels.json").read_text())
    return [
        HeadposeImage(
            root / "images" / name,
            label["dataset"],
            label["subject"] or name,
            (-float(label["yaw"]), float(label["pitch"]), float(label["roll"])),
            bool(label["roll_annotated"]),
        )
        for name, label in sorted(labels.items())
    ]


def headpose_split(images: list[HeadposeImage]) -> dict[Split, list[HeadposeImage]]:
    """Pointing'04 split by person, AFLW2000-3D (subjects unknown) by image, each data set
    on its own so both sides hold some of each."""
    return split_by_group(images, lambda x: x.unit, lambda x: x.dataset)


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
