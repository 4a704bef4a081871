"""Frames for the held-up phone: phones, look-alikes and plain frames, from every source.

Shared eval sets (``../shared/eval``):

* ``exam``: exam_objects, one person at a webcam holding up a phone, a black wallet or an
  AirPods case (split by block of ten source frames, as ``datasets.sides`` deals it);
* ``desk``: 29 people alone at their desks, nothing banned: plain (split by person);
* ``coco``: the 160 COCO images; those with a phone, and plain ones (a person, none of
  cell phone, laptop, book, tv, remote) (split by image).

Extracted sources (``--phone-data DIR``, written by ``python -m tools.phone_data DIR`` and
``python -m tools.phone_data_coco DIR`` from public repository snapshots; never committed):

* ``coco_val2017``: 544 further COCO val2017 images: phones (mostly in a hand), remotes and
  mice in a hand (look-alikes), and people with nothing banned (split by image);
* ``pexels_phone_in_hand``: 19 frames of 11 stock videos of people using a phone
  (split by video);
* ``earbuds_case_in_hand``: 30 photos of one person's earbuds case in a hand or on a desk:
  report only (a look-alike nobody tuned on).

A frame's kind: ``phone`` when a phone is boxed in it, ``lookalike`` when a look-alike is
held and no phone, ``plain`` when neither (and nothing else banned); other COCO images are
left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from proctor.eval.datasets import (
    LabelledImage,
    load_coco,
    load_desk,
    load_exam_objects,
    sides,
)
from proctor.eval.splits import Split, split_by_group

Kind = Literal["phone", "lookalike", "plain"]
KINDS: tuple[Kind, ...] = ("phone", "lookalike", "plain")
PHONE = "cell phone"
#: Classes whose presence makes a COCO image neither a phone frame nor a plain one.
NOT_PLAIN = frozenset({PHONE, "laptop", "book", "tv", "remote"})
#: Sources nobody tunes on: they are dealt wholly to the report side.
REPORT_ONLY = frozenset({"earbuds_case_in_hand"})
#: Look-alike classes of each source (boxed objects that are not phones).
LOOKALIKES = frozenset({"wallet", "airpods", "remote", "mouse", "earbuds case"})


@dataclass(frozen=True)
class PhoneFrame:
    """One frame, its source, what it shows, and its side of the split."""

    image: LabelledImage
    source: str
    kind: Kind
    side: Split

    @property
    def phones(self) -> np.ndarray:
        return self.image.truth(PHONE)

    @property
    def lookalikes(self) -> np.ndarray:
        boxes = [self.image.truth(name) for name in sorted(LOOKALIKES)]
        return np.concatenate(boxes).reshape(-1, 4)


def _shared_kind(image: LabelledImage) -> Kind | None:
    if image.dataset == "exam":
        return "phone" if image.holds == PHONE else "lookalike"
    if image.dataset == "desk":
        return "plain"
    if image.shows(PHONE):
        return "phone"
    if image.people and not any(image.shows(name) for name in NOT_PLAIN):
        return "plain"
    return None


def shared_frames(eval_dir: Path) -> list[PhoneFrame]:
    images = [*load_exam_objects(eval_dir), *load_desk(eval_dir), *load_coco(eval_dir)]
    side = sides(images)
    frames = []
    for image in images:
        kind = _shared_kind(image)
        if kind is not None:
            source = "exam_objects" if image.dataset == "exam" else image.dataset
            frames.append(PhoneFrame(image, source, kind, side[image.unit]))
    return frames


def _xyxy(boxes: list[dict]) -> dict[str, np.ndarray]:
    out: dict[str, list[list[float]]] = {}
    for box in boxes:
        if box.get("iscrowd"):
            continue
        x, y, w, h = box["bbox"]
        out.setdefault(box["label"], []).append([x, y, x + w, y + h])
    return {name: np.asarray(rows, np.float32) for name, rows in out.items()}


def extracted_frames(data_dir: Path) -> list[PhoneFrame]:
    """Every source under ``data_dir`` (one folder with a labels.json each)."""
    images: list[tuple[LabelledImage, str, Kind]] = []
    for labels in sorted(data_dir.glob("*/labels.json")):
        source = labels.parent.name
        for entry in json.loads(labels.read_text())["images"]:
            unit = f"{source}:{entry['group']}"
            boxes = _xyxy(entry["boxes"])
            image = LabelledImage(
                labels.parent / entry["file"],
                source,
                unit,
                f"{source}:{entry['file']}",
                max(1, len(boxes.get("person", []))),
                boxes,
                labelled=frozenset(boxes),
            )
            images.append((image, source, entry["kind"]))
    halves = split_by_group(images, lambda item: item[0].unit, lambda item: item[1])
    frames = []
    for side, chosen in halves.items():
        for image, source, kind in chosen:
            frames.append(
                PhoneFrame(image, source, kind, "report" if source in REPORT_ONLY else side)
            )
    return frames


def phone_frames(eval_dir: Path, data_dir: Path | None) -> list[PhoneFrame]:
    """The shared sets' frames, and the extracted sources' when ``data_dir`` is given."""
    frames = shared_frames(eval_dir)
    if data_dir is not None:
        frames += extracted_frames(data_dir)
    return frames
