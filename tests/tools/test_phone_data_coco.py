"""The COCO phone / look-alike extractor (``tools.phone_data_coco``): its box parsing and kind
rules, and, where both snapshots were fetched under /work/.mirror and ../shared/eval/coco is
present, the written schema, no eval-set image, boxes inside their images and kinds that follow
the boxes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import pytest

from tools.gallery_faces import MIRROR, git_dir
from tools.phone_data_coco import (
    BOXES,
    EVAL_COCO,
    IMAGES,
    KEPT_LABELS,
    SOURCE_ID,
    Box,
    classify,
    eval_names,
    extract,
    inside,
    read_boxes,
)

KINDS = {"phone", "lookalike", "plain"}


def test_box_lines_name_the_80_class_order() -> None:
    text = "/x/val2017/000000000139.jpg 10,20,30,60,67 0,0,100,200,0\n\n"
    assert read_boxes(text) == {
        "000000000139.jpg": [("cell phone", 10, 20, 30, 60), ("person", 0, 0, 100, 200)]
    }
    assert read_boxes("/x/000000000001.jpg 1,1,5,5,65 1,1,5,5,62")["000000000001.jpg"][1][0] == "tv"


def test_kinds_and_held_follow_the_boxes() -> None:
    person: Box = ("person", 0, 0, 100, 200)
    in_hand: Box = ("cell phone", 10, 10, 30, 50)
    away: Box = ("cell phone", 300, 300, 320, 340)
    assert inside(in_hand, person) == 1.0 and inside(away, person) == 0.0
    assert classify([person, in_hand]) == ("phone", True)
    assert classify([person, away]) == ("phone", False)
    assert classify([away]) == ("phone", False)
    assert classify([person, ("remote", 10, 10, 30, 50)]) == ("lookalike", True)
    assert classify([person, ("remote", 300, 300, 320, 340)]) == (None, False)
    assert classify([person, ("keyboard", 300, 300, 320, 340)]) == ("plain", False)
    assert classify([person, ("book", 300, 300, 320, 340)]) == (None, False)
    assert classify([("person", 0, 0, 20, 40)]) == (None, False)  # a speck of a person
    assert classify([]) == (None, False)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for source in (IMAGES, BOXES):
        if not git_dir(source["repository"], MIRROR).exists():
            pytest.skip(f"no snapshot of {source['repository']} under {MIRROR} (fetch it first)")
    if not EVAL_COCO.is_dir():
        pytest.skip(f"the eval set's COCO images are not at {EVAL_COCO}")
    out = tmp_path_factory.mktemp("phone_data_coco")
    entry = extract(out)
    assert "skipped" not in entry
    return out


def labels(out: Path) -> dict:
    return json.loads((out / SOURCE_ID / "labels.json").read_text())


def test_schema_and_provenance(extracted: Path) -> None:
    data = labels(extracted)
    assert set(data["source"]) == {"repository", "commit", "path", "licence", "notes"}
    assert re.fullmatch(r"[0-9a-f]{40}", data["source"]["commit"])
    files = [item["file"] for item in data["images"]]
    assert len(files) == len(set(files)) and files
    assert {p.name for p in (extracted / SOURCE_ID / "images").iterdir()} == {
        Path(f).name for f in files
    }
    for item in data["images"]:
        assert set(item) == {"file", "group", "kind", "held", "boxes"}
        assert item["file"] == f"images/{int(item['group']):012d}.jpg"
        assert item["kind"] in KINDS and isinstance(item["held"], bool)
        for box in item["boxes"]:
            assert set(box) == {"label", "bbox", "iscrowd"} and len(box["bbox"]) == 4
            assert box["label"] in KEPT_LABELS and box["iscrowd"] in (0, 1)
    entry = json.loads((extracted / "PROVENANCE.json").read_text())[SOURCE_ID]
    assert entry["counts"]["images"] == len(files)
    assert sum(entry["counts"]["kinds"].values()) == len(files)
    assert re.fullmatch(r"[0-9a-f]{40}", entry["boxes"]["commit"])
    check = entry["labels_checked"]["against_real_coco_annotations"]
    assert check["checked"] and check["boxes matched within 1 px"] == check["boxes"]
    assert entry["counts"]["kinds"]["phone"] >= 100  # hundreds of COCO phones, not a handful


def test_no_image_of_the_eval_set(extracted: Path) -> None:
    excluded = eval_names(EVAL_COCO)
    assert excluded
    written = {p.name for p in (extracted / SOURCE_ID / "images").iterdir()}
    assert not written & excluded


def test_boxes_lie_inside_their_images(extracted: Path) -> None:
    for item in labels(extracted)["images"]:
        image = cv2.imread(str(extracted / SOURCE_ID / item["file"]))
        assert image is not None, item["file"]
        h, w = image.shape[:2]
        for box in item["boxes"]:
            x, y, bw, bh = box["bbox"]
            assert x >= 0 and y >= 0 and bw > 0 and bh > 0, item["file"]
            assert x + bw <= w and y + bh <= h, item["file"]


def test_kinds_are_consistent_with_the_boxes(extracted: Path) -> None:
    for item in labels(extracted)["images"]:
        boxes: list[Box] = [
            (
                b["label"],
                b["bbox"][0],
                b["bbox"][1],
                b["bbox"][0] + b["bbox"][2],
                b["bbox"][1] + b["bbox"][3],
            )
            for b in item["boxes"]
        ]
        assert classify(boxes) == (item["kind"], item["held"]), item["file"]
