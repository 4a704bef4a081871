"""The phone / look-alike extractor (``tools.phone_data``): its parsing rules, and, where the
snapshots were fetched under /work/.mirror, the written schema, one copy per source image and
boxes inside their images."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from tools.gallery_faces import MIRROR, dhash, git_dir
from tools.phone_data import (
    AUGMENTED,
    CCTV_NAME,
    EXTRACTORS,
    PEXELS_NAME,
    PHONE,
    ROBOFLOW_COPY,
    clip_box,
    kind_of,
    main,
    rotation_fill,
    voc_boxes,
    yolo_boxes,
)

KINDS = {"phone", "lookalike", "plain"}


def test_names_tell_copies_cctv_and_pexels_frames_apart() -> None:
    found = ROBOFLOW_COPY.match("airpod_70_jpg.rf.672975afdaac99a590fad21d1b1c2e3f.jpg")
    assert found is not None and found.group(1) == "airpod_70"
    assert ROBOFLOW_COPY.match("airpod_70.jpg") is None
    assert AUGMENTED.search("3761652-sd_640_360_25fps_f000001_rot15")
    assert AUGMENTED.search("3761652-sd_640_360_25fps_f000001_aug")
    assert not AUGMENTED.search("3761652-sd_640_360_25fps_f000001")
    assert CCTV_NAME.match("20250718_145802_46039155_f000049")
    assert not CCTV_NAME.match("3761652-sd_640_360_25fps_f000001")
    pexels = PEXELS_NAME.match("6565401-uhd_2160_3840_24fps_f000211")
    assert pexels is not None and pexels.group(1) == "6565401"


def test_boxes_are_clipped_scaled_and_kinds_follow_them() -> None:
    assert clip_box(-5, 10, 50, 120, 40, 100) == [0, 10, 40, 90]
    assert clip_box(39.5, 0, 60, 10, 40, 100) is None  # nothing left inside
    voc = (
        "<annotation><size><width>200</width><height>100</height></size>"
        "<object><name>phone</name><bndbox><xmin>20</xmin><ymin>10</ymin>"
        "<xmax>60</xmax><ymax>50</ymax></bndbox></object></annotation>"
    )
    assert voc_boxes(voc, 100, 50) == [{"label": PHONE, "bbox": [10, 5, 20, 20]}]
    yolo = yolo_boxes("1 0.5 0.5 0.2 0.4\n7 0.5 0.5 0.1 0.1\n", {1: "earbuds case"}, 100, 50)
    assert yolo == [{"label": "earbuds case", "bbox": [40, 15, 20, 20]}]
    assert kind_of(voc_boxes(voc, 100, 50) + yolo) == "phone"
    assert kind_of(yolo) == "lookalike"
    assert kind_of([]) == "plain"


def test_rotation_fill_sees_black_corners() -> None:
    image = np.full((100, 100, 3), 128, np.uint8)
    assert rotation_fill(image) == 0.0
    rotated = cv2.warpAffine(image, cv2.getRotationMatrix2D((50, 50), 25, 1.0), (100, 100))
    assert rotation_fill(rotated) > 0.1


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    present = [s for s, _ in EXTRACTORS if git_dir(s["repository"], MIRROR).exists()]
    if not present:
        pytest.skip(f"no snapshot of the phone-data sources under {MIRROR} (fetch them first)")
    out = tmp_path_factory.mktemp("phone_data")
    assert main([str(out)]) == 0
    return out


def sources(out: Path) -> list[Path]:
    found = sorted(p.parent for p in out.glob("*/labels.json"))
    assert found, "no source was written"
    return found


def test_schema_and_provenance(extracted: Path) -> None:
    provenance = json.loads((extracted / "PROVENANCE.json").read_text())
    for folder in sources(extracted):
        data = json.loads((folder / "labels.json").read_text())
        assert set(data["source"]) == {"repository", "commit", "path", "licence", "notes"}
        assert re.fullmatch(r"[0-9a-f]{40}", data["source"]["commit"])
        assert data["images"], folder.name
        files = [item["file"] for item in data["images"]]
        assert len(files) == len(set(files))
        assert {p.name for p in (folder / "images").iterdir()} == {Path(f).name for f in files}
        for item in data["images"]:
            assert set(item) == {"file", "group", "kind", "boxes"}
            assert item["file"].startswith("images/") and item["file"].endswith(".jpg")
            assert item["group"] and item["kind"] in KINDS
            assert item["kind"] == kind_of(item["boxes"])
            for box in item["boxes"]:
                assert set(box) == {"label", "bbox"} and len(box["bbox"]) == 4
        counts = provenance[folder.name]["counts"]
        assert counts["images"] == len(data["images"])
        assert counts["groups"] == len({i["group"] for i in data["images"]})
        assert re.fullmatch(r"[0-9a-f]{40}", provenance[folder.name]["commit"])
        assert provenance[folder.name]["licence"] and provenance[folder.name]["labels_checked"]


def test_boxes_lie_inside_their_images(extracted: Path) -> None:
    for folder in sources(extracted):
        for item in json.loads((folder / "labels.json").read_text())["images"]:
            image = cv2.imread(str(folder / item["file"]))
            assert image is not None, item["file"]
            h, w = image.shape[:2]
            for box in item["boxes"]:
                x, y, bw, bh = box["bbox"]
                assert x >= 0 and y >= 0 and bw > 1 and bh > 1, item["file"]
                assert x + bw <= w and y + bh <= h, item["file"]


def test_one_copy_per_source_image(extracted: Path) -> None:
    for folder in sources(extracted):
        stems = []
        hashes = []
        for item in json.loads((folder / "labels.json").read_text())["images"]:
            stem = Path(item["file"]).stem
            copy = ROBOFLOW_COPY.match(Path(item["file"]).name)
            stems.append(AUGMENTED.sub("", copy.group(1) if copy else stem))
            hashes.append(dhash(cv2.imread(str(folder / item["file"]))))
        assert len(stems) == len(set(stems)), f"{folder.name}: two copies of one source image"
        for i, a in enumerate(hashes):
            for b in hashes[i + 1 :]:
                assert bin(a ^ b).count("1") > 1, f"{folder.name}: near-identical images kept"
