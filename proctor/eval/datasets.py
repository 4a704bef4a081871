"""The boxed and the plain-frame sets in ``../shared/eval`` as one kind of labelled image.

Every loader returns ``LabelledImage``s that say what an evaluation needs to treat the set
honestly (read each set's MANIFEST):

* ``unit``: what makes images dependent, so what a tuning/report split deals whole
  (``sides``) and what a bootstrap resamples: the image for COCO, the block of ten
  consecutive webcam frames for exam_objects (its MANIFEST's own split rule), the person for
  desk and LFW.
* ``sample``: what a rate counts once (``proctor.eval.metrics.unit_rate``): the distinct
  webcam frame on exam_objects (augmented copies of one ``source_frame`` share it), the
  person on desk and LFW (a person's frames are a burst of near-duplicates), else the image.
* ``labelled``: the classes whose every instance is boxed, so that an unmatched detection of
  one is a false positive (all 80 on COCO; on exam_objects the phone, plus book, laptop and
  tv, judged absent from every frame).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from proctor.eval.data import in_webcam_frame, lfw_images, read_image
from proctor.eval.splits import Split, split_by_group

NO_BOXES = np.zeros((0, 4), np.float32)
#: The objects an exam_objects frame shows held up (each frame holds exactly one).
HELD = ("cell phone", "wallet", "airpods")
#: Classes exam_objects labels: phones by boxes, the rest by judged absence (its MANIFEST).
EXAM_LABELLED = frozenset({"cell phone", "book", "laptop", "tv"})


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    dataset: str  # "coco", "exam", "desk" or "lfw"
    unit: str  # split and resampling unit (see the module docstring)
    sample: str  # what a rate counts once (see the module docstring)
    people: int  # people in view; a crowd region of persons makes it at least 2
    boxes: Mapping[str, np.ndarray] = field(default_factory=dict)  # class -> (N, 4) xyxy
    crowd: Mapping[str, np.ndarray] = field(default_factory=dict)  # class -> crowd regions
    labelled: frozenset[str] = frozenset()  # classes boxed completely on this image
    holds: str = ""  # exam_objects: the object held up (one of HELD)
    composed: bool = False  # an LFW face crop placed in a webcam-sized frame

    def truth(self, name: str) -> np.ndarray:
        return self.boxes.get(name, NO_BOXES)

    def crowds(self, name: str) -> np.ndarray:
        return self.crowd.get(name, NO_BOXES)

    def shows(self, name: str) -> bool:
        """Whether a ``name`` instance is in view at all (boxed or inside a crowd region)."""
        return len(self.truth(name)) > 0 or len(self.crowds(name)) > 0

    def picture(self) -> bytes | np.ndarray:
        """What is sent for analysis: the file's bytes, decoded by the pipeline exactly as an
        upload is, or the composed webcam frame of an LFW crop."""
        if self.composed:
            return in_webcam_frame(read_image(self.path))
        return self.path.read_bytes()


def _xyxy(bbox: list[float]) -> list[float]:
    x, y, w, h = bbox
    return [x, y, x + w, y + h]


def _grouped_boxes(annotations: list[dict], names: dict[int, str]) -> dict[int, dict]:
    """Per image id: ``{"boxes": {class: [...]}, "crowd": {class: [...]}}`` in xyxy."""
    grouped: dict[int, dict] = {}
    for ann in annotations:
        kind = "crowd" if ann.get("iscrowd") else "boxes"
        per_image = grouped.setdefault(ann["image_id"], {"boxes": {}, "crowd": {}})
        per_image[kind].setdefault(names[ann["category_id"]], []).append(_xyxy(ann["bbox"]))
    return grouped


def _arrays(boxes: dict[str, list[list[float]]]) -> dict[str, np.ndarray]:
    return {k: np.array(v, np.float32).reshape(-1, 4) for k, v in boxes.items()}


def load_coco(eval_dir: Path) -> list[LabelledImage]:
    """Both COCO 2017 subsets (val and train, 160 images), every instance of 80 classes."""
    images = []
    for split in ("val2017", "train2017"):
        data = json.loads(
            (eval_dir / "coco" / "annotations" / f"instances_{split}.json").read_text()
        )
        names = {c["id"]: c["name"] for c in data["categories"]}
        grouped = _grouped_boxes(data["annotations"], names)
        for info in data["images"]:
            own = grouped.get(info["id"], {"boxes": {}, "crowd": {}})
            people = len(own["boxes"].get("person", []))
            if "person" in own["crowd"]:
                people = max(people, 2)
            unit = f"coco:{split}/{info['file_name']}"
            images.append(
                LabelledImage(
                    eval_dir / "coco" / split / info["file_name"],
                    "coco",
                    unit,
                    unit,
                    people,
                    _arrays(own["boxes"]),
                    _arrays(own["crowd"]),
                    frozenset(names.values()),
                )
            )
    return images


def load_exam_objects(eval_dir: Path) -> list[LabelledImage]:
    """195 webcam frames (109 distinct) of one person holding up a phone, wallet or AirPods."""
    root = eval_dir / "exam_objects"
    data = json.loads((root / "annotations.json").read_text())
    names = {c["id"]: c["name"] for c in data["categories"]}
    grouped = _grouped_boxes(data["annotations"], names)
    images = []
    for info in data["images"]:
        boxes = grouped.get(info["id"], {"boxes": {}})["boxes"]
        held = [name for name in HELD if name in boxes]
        if len(held) != 1:
            raise SystemExit(f"exam_objects {info['file_name']} holds {held}, not one object")
        source = info["source_frame"]
        images.append(
            LabelledImage(
                root / "images" / info["file_name"],
                "exam",
                f"exam:block {source // 10}",
                f"exam:frame {source}",
                1,
                _arrays(boxes),
                labelled=EXAM_LABELLED,
                holds=held[0],
            )
        )
    return images


def load_desk(eval_dir: Path) -> list[LabelledImage]:
    """190 real webcam frames of 29 people alone at their desks, nothing banned in view."""
    root = eval_dir / "desk"
    provenance = json.loads((root / "provenance.json").read_text())
    images = []
    for entry in provenance:
        path = root / entry["file"]
        person = f"desk:{path.parent.name}"  # <owner>__<repo>__<person>: one person
        images.append(LabelledImage(path, "desk", person, person, 1))
    return images


def load_lfw_frames(eval_dir: Path) -> list[LabelledImage]:
    """The 240 LFW face photos (40 people), each in a 640x480 webcam-like frame: one person,
    nothing banned."""
    return [
        LabelledImage(path, "lfw", f"lfw:{person}", f"lfw:{person}", 1, composed=True)
        for person, path in lfw_images(eval_dir)
    ]


def weights(images: list[LabelledImage]) -> list[float]:
    """Each image's share of its sample (1 / its augmented copies), so a frame counts once."""
    sizes = Counter(image.sample for image in images)
    return [1 / sizes[image.sample] for image in images]


def sides(images: list[LabelledImage]) -> dict[str, Split]:
    """Each unit's split, dealt per set and, within a set, the units where a phone is held up
    apart from the rest (``proctor.eval.splits.split_by_group``). exam_objects holds its
    phones in 4 of its 11 frame blocks (the recording shows one object after another): dealt
    with the rest, all four can land on one side, leaving the other without a single phone."""
    with_phone = {image.unit for image in images if image.holds == "cell phone"}
    halves = split_by_group(
        images,
        lambda image: image.unit,
        lambda image: f"{image.dataset}, phone held: {image.unit in with_phone}",
    )
    return {image.unit: side for side, chosen in halves.items() for image in chosen}
