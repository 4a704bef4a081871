"""``python -m tools.phone_data OUT``: extract public phone / look-alike frames with boxes.

The cell-phone alert (issue #13) needs frames of people holding a phone up, and frames of
people holding things that are not phones, from many different people. This pulls them, at
evaluation time, from public repository snapshots brought in with the ``fetch`` tool (their
git directories, read with ``git``; nothing is downloaded and nothing is committed here):

* ``pexels_phone_in_hand``: ``bwssytems/phone-usage-computer-vision`` @
  ``d7e34baa0cfd4a5ef317be379dd65f307c35ef4d``, ``tf_dataset/`` (Pascal VOC boxes, class
  ``phone``). The repository is GPL-3.0 (``LICENSE``); its non-CCTV frames are taken from
  Pexels stock videos (file names ``<pexels id>-<sd|uhd>_WxH_FPSfps_f<frame>``), whose own
  licence the repository does not state. Kept: the un-augmented frames of the 11 Pexels
  videos (people holding a phone up to the face, in hand or at a desk, close to the camera).
  Dropped: every ``_aug`` / ``_rotNN`` copy, the 13 frames of the four overhead shop CCTV
  recordings (``YYYYMMDD_HHMMSS_<hash>``: fish-eye, phones a few pixels wide), and a frame
  whose 64-bit dHash is within 4 bits of a frame already kept from the same video.
  ``group`` is the Pexels video id (one video, one person or pair of people).
* ``earbuds_case_in_hand``: ``asjadnazir/object_detection`` @
  ``3b993fab83aa2945616615e7eeafb15191470d65``, ``airpods_case/``: a Roboflow export
  (``detect-airpod`` v2, CC BY 4.0 in ``README.dataset.txt`` and ``data.yaml``) of AirPods
  cases held in a hand or lying on a desk, shot with a phone. Look-alike negatives: labelled
  ``earbuds case``. Roboflow stretched every image to 460x460 and, on the train split, made
  three flipped / rotated (+-30 degrees) copies of each source image; the valid and test
  copies are un-augmented. One copy per source image is kept: the valid/test copy, else the
  train copy with the fewest black (rotation-fill) corner pixels, and the source is dropped
  when even that copy is visibly rotated. ``group`` is the source-image stem; the photos look
  like one person's hand and desk, so do not count them as independent people.

Written as ``OUT/<source_id>/images/<file>.jpg`` plus ``OUT/<source_id>/labels.json``
(``{"source": {...}, "images": [{"file", "group", "kind", "boxes": [{"label", "bbox"}]}]}``,
``bbox`` = ``[x, y, w, h]`` in pixels; ``kind`` is ``phone`` when a phone box is present,
``lookalike`` when only look-alike boxes are, ``plain`` otherwise). ``OUT/PROVENANCE.json``
records each source's commit, licence, counts, how its labels were checked and what was
dropped. A source whose snapshot is absent is skipped with a message. Evaluation only: keep
``OUT`` outside the repository and do not redistribute it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tools.gallery_faces import MIRROR, blob, decode, dhash, git_dir, ls_tree

PHONE = "cell phone"

PEXELS = {
    "id": "pexels_phone_in_hand",
    "repository": "bwssytems/phone-usage-computer-vision",
    "commit": "d7e34baa0cfd4a5ef317be379dd65f307c35ef4d",
    "path": "tf_dataset/",
    "licence": (
        "GPL-3.0 for the repository (LICENSE: 'GNU GENERAL PUBLIC LICENSE Version 3'); the "
        "frames are cut from Pexels stock videos (file-name pattern), whose licence the "
        "repository does not state"
    ),
    "notes": (
        "Un-augmented frames of 11 Pexels stock videos of people holding or using a phone "
        "(near the face, in hand, over a laptop); boxes are the repository's own Pascal VOC "
        "'phone' boxes. Overhead shop-CCTV frames and the _aug/_rotNN copies are left out. "
        "group = Pexels video id."
    ),
}
EARBUDS = {
    "id": "earbuds_case_in_hand",
    "repository": "asjadnazir/object_detection",
    "commit": "3b993fab83aa2945616615e7eeafb15191470d65",
    "path": "airpods_case/",
    "licence": (
        "CC BY 4.0 (airpods_case/README.dataset.txt: 'Provided by a Roboflow user / License: "
        "CC BY 4.0'; data.yaml roboflow.license; universe.roboflow.com/yolov5-oi1fm/"
        "detect-airpod v2)"
    ),
    "notes": (
        "AirPods cases (classes airpod2/airpod3, both written as 'earbuds case') held in a "
        "hand or lying on a desk, phone-camera close-ups, stretched to 460x460 by Roboflow. "
        "No face in view. Apparently one person's hand and desk: group = source-image stem, "
        "but treat the whole source as one person."
    ),
}
CCTV_NAME = re.compile(r"^\d{8}_\d{6}_[0-9a-f]{8}_f\d+$")
PEXELS_NAME = re.compile(r"^(\d+)-(?:sd|hd|uhd)_\d+_\d+_\d+fps_f\d+$")
AUGMENTED = re.compile(r"_(?:aug|rot\d+)$")
ROBOFLOW_COPY = re.compile(r"^(.+?)_(?:jpe?g|png)\.rf\.[0-9a-f]{32}\.jpg$", re.IGNORECASE)
EARBUDS_CLASSES = {0: "earbuds case", 1: "earbuds case"}  # data.yaml: airpod2, airpod3
NEAR_DUPLICATE_BITS = 4
ROTATION_FILL_MAX = 0.01  # share of near-black pixels in the corner patches


def kind_of(boxes: list[dict]) -> str:
    labels = {box["label"] for box in boxes}
    if PHONE in labels:
        return "phone"
    return "lookalike" if labels else "plain"


def clip_box(x0: float, y0: float, x1: float, y1: float, w: int, h: int) -> list[int] | None:
    """``[x, y, w, h]`` in whole pixels inside a ``w`` x ``h`` image, or None if empty."""
    left, top = max(0, round(x0)), max(0, round(y0))
    right, bottom = min(w, round(x1)), min(h, round(y1))
    if right - left < 2 or bottom - top < 2:
        return None
    return [left, top, right - left, bottom - top]


def voc_boxes(xml_text: str, w: int, h: int) -> list[dict]:
    root = ET.fromstring(xml_text)
    size = root.find("size")
    sx = sy = 1.0
    if size is not None:  # the VOC file may describe the frame before a resize
        sx = w / float(size.findtext("width") or w)
        sy = h / float(size.findtext("height") or h)
    boxes = []
    for obj in root.iter("object"):
        name = (obj.findtext("name") or "").strip().lower()
        box = obj.find("bndbox")
        if box is None or name != "phone":
            continue
        values = [float(box.findtext(k) or 0) for k in ("xmin", "ymin", "xmax", "ymax")]
        clipped = clip_box(values[0] * sx, values[1] * sy, values[2] * sx, values[3] * sy, w, h)
        if clipped:
            boxes.append({"label": PHONE, "bbox": clipped})
    return boxes


def yolo_boxes(text: str, classes: dict[int, str], w: int, h: int) -> list[dict]:
    boxes = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 5 or int(parts[0]) not in classes:
            continue
        values = [float(v) for v in parts[1:]]
        if len(values) == 4:
            cx, cy, bw, bh = values
            x0, y0, x1, y1 = cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2
        else:  # polygon
            x0, x1 = min(values[0::2]), max(values[0::2])
            y0, y1 = min(values[1::2]), max(values[1::2])
        clipped = clip_box(x0 * w, y0 * h, x1 * w, y1 * h, w, h)
        if clipped:
            boxes.append({"label": classes[int(parts[0])], "bbox": clipped})
    return boxes


def rotation_fill(image: np.ndarray) -> float:
    """Share of near-black pixels in the four corner patches (rotation fill shows there)."""
    h, w = image.shape[:2]
    ph, pw = max(4, h // 10), max(4, w // 10)
    corners = [image[:ph, :pw], image[:ph, -pw:], image[-ph:, :pw], image[-ph:, -pw:]]
    return float(np.mean([(c.max(axis=2) < 8).mean() for c in corners]))


def summarise(source: dict, images: list[dict], dropped: Counter, check: str) -> dict:
    return {
        "repository": source["repository"],
        "commit": source["commit"],
        "path": source["path"],
        "licence": source["licence"],
        "counts": {
            "images": len(images),
            "distinct_sources": len(images),
            "per_kind": dict(Counter(i["kind"] for i in images)),
            "per_label": dict(Counter(b["label"] for i in images for b in i["boxes"])),
            "groups": len({i["group"] for i in images}),
        },
        "labels_checked": check,
        "dropped": dict(dropped),
    }


def write_source(out: Path, source: dict, images: list[dict]) -> None:
    meta = {k: source[k] for k in ("repository", "commit", "path", "licence", "notes")}
    (out / source["id"] / "labels.json").write_text(
        json.dumps({"source": meta, "images": images}, indent=1) + "\n"
    )


def extract_pexels(out: Path, git: Path) -> dict:
    files = ls_tree(git, PEXELS["commit"], PEXELS["path"])
    target = out / PEXELS["id"] / "images"
    target.mkdir(parents=True, exist_ok=True)
    dropped: Counter = Counter()
    kept_hashes: dict[str, list[int]] = {}
    images = []
    for path, blob_id in sorted(files.items()):
        if not path.startswith(PEXELS["path"] + "images/") or not path.endswith(".jpg"):
            continue
        stem = Path(path).stem
        if AUGMENTED.search(stem):
            dropped["augmented copy (_aug/_rotNN)"] += 1
            continue
        if CCTV_NAME.match(stem):
            dropped["overhead shop CCTV frame"] += 1
            continue
        found = PEXELS_NAME.match(stem)
        xml_path = f"{PEXELS['path']}annotations/{stem}.xml"
        if found is None or xml_path not in files:
            dropped["not a Pexels frame / no annotation"] += 1
            continue
        data = blob(git, blob_id)
        image = decode(data)
        if image is None:
            dropped["unreadable"] += 1
            continue
        group = f"pexels-{found.group(1)}"
        code = dhash(image)
        if any(bin(code ^ o).count("1") <= NEAR_DUPLICATE_BITS for o in kept_hashes.get(group, [])):
            dropped["near-duplicate frame of the same video (dHash <= 4 bits)"] += 1
            continue
        h, w = image.shape[:2]
        boxes = voc_boxes(blob(git, files[xml_path]).decode(), w, h)
        (target / f"{stem}.jpg").write_bytes(data)
        kept_hashes.setdefault(group, []).append(code)
        images.append(
            {"file": f"images/{stem}.jpg", "group": group, "kind": kind_of(boxes), "boxes": boxes}
        )
    write_source(out, PEXELS, images)
    check = (
        "boxes drawn on 16 random kept frames (montage, /tmp/phone_check) and looked at: "
        "every box is on a phone held in a hand (at the ear, raised for a selfie, over a "
        "laptop or a cafe table, in front of the body); boxes are tight, two are a little "
        "loose; phones cut by the frame edge are boxed too; no unboxed phone seen. Several "
        "frames of one video remain (different phone positions): count groups, not frames."
    )
    return summarise(PEXELS, images, dropped, check)


def extract_earbuds(out: Path, git: Path) -> dict:
    files = ls_tree(git, EARBUDS["commit"], EARBUDS["path"])
    target = out / EARBUDS["id"] / "images"
    target.mkdir(parents=True, exist_ok=True)
    dropped: Counter = Counter()
    copies: dict[str, list[str]] = {}
    for path in sorted(files):
        if "/images/" not in path:
            continue
        found = ROBOFLOW_COPY.match(Path(path).name)
        if found is None:
            dropped["not a Roboflow image name"] += 1
            continue
        copies.setdefault(found.group(1), []).append(path)
    images = []
    for stem, paths in sorted(copies.items()):
        plain = [p for p in paths if "/train/" not in p]
        dropped["augmented copy of a kept or dropped source"] += len(paths) - 1
        if plain:
            chosen, data = plain[0], blob(git, files[plain[0]])
            image = decode(data)
        else:
            scored = []
            for p in paths:
                d = blob(git, files[p])
                im = decode(d)
                if im is not None:
                    scored.append((rotation_fill(im), p, d, im))
            if not scored:
                dropped["unreadable"] += 1
                continue
            fill, chosen, data, image = min(scored, key=lambda s: s[0])
            if fill > ROTATION_FILL_MAX:
                dropped["every copy visibly rotated (+-30 degree augmentation)"] += 1
                continue
        if image is None:
            dropped["unreadable"] += 1
            continue
        label_path = chosen.replace("/images/", "/labels/")[: -len(".jpg")] + ".txt"
        h, w = image.shape[:2]
        text = blob(git, files[label_path]).decode() if label_path in files else ""
        boxes = yolo_boxes(text, EARBUDS_CLASSES, w, h)
        name = f"{stem}.jpg"
        (target / name).write_bytes(data)
        images.append(
            {"file": f"images/{name}", "group": stem, "kind": kind_of(boxes), "boxes": boxes}
        )
    write_source(out, EARBUDS, images)
    check = (
        "boxes drawn on 16 random kept images (montage, /tmp/phone_check) and looked at: "
        "every box is on an AirPods case (airpod2/airpod3 are case models, both mapped to "
        "'earbuds case'); the kept copies are un-rotated and their boxes tight, a few boxes "
        "also take in the loose earbuds beside an open case; about half the cases are held in "
        "a palm, half lie on the desk. Rotated train copies (dropped) had loose boxes."
    )
    return summarise(EARBUDS, images, dropped, check)


EXTRACTORS: list[tuple[dict, Callable[[Path, Path], dict]]] = [
    (PEXELS, extract_pexels),
    (EARBUDS, extract_earbuds),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.phone_data", description=__doc__)
    parser.add_argument("out", type=Path, help="folder to write (outside the repository)")
    parser.add_argument(
        "--mirror", type=Path, default=MIRROR, help="where the fetched snapshots are"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    provenance: dict[str, dict] = {}
    for source, extract in EXTRACTORS:
        git = git_dir(source["repository"], args.mirror)
        if not git.exists():
            print(
                f"skipping {source['id']}: snapshot of {source['repository']} not found under "
                f"{args.mirror} (bring it in with the fetch tool)",
                file=sys.stderr,
            )
            provenance[source["id"]] = {"repository": source["repository"], "skipped": True}
            continue
        provenance[source["id"]] = extract(args.out, git)
    (args.out / "PROVENANCE.json").write_text(json.dumps(provenance, indent=2) + "\n")
    print(json.dumps({k: v.get("counts", v) for k, v in provenance.items()}, indent=2))
    return 0 if any("counts" in v for v in provenance.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
