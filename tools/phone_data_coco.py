"""``python -m tools.phone_data_coco OUT``: COCO val2017 photos of held phones and look-alikes.

The cell-phone alert (issue #13) must find a phone held in a hand and must not call a remote,
a mouse or an empty hand a phone. COCO has people holding phones and remotes (TV and game
remotes) in everyday scenes. This pulls them, at evaluation time, from two public repository
snapshots brought in with the ``fetch`` tool (their git directories, read with ``git``;
nothing is downloaded and nothing is committed to this repository):

* images: ``minto5z/coco_yolo`` @ ``4715f5ca05a6ffc148d4c4e5b0a131663655f2be``,
  ``coco/images/``: 2,693 original COCO 2017 *validation* JPEGs (in its ``train2017/`` and
  ``val2017/`` folders alike; every name is a val2017 image id). The repository states no
  licence; COCO images are Flickr photos under the per-image licences listed by COCO (CC BY,
  CC BY-SA, CC BY-NC, CC BY-NC-SA, CC BY-ND, CC BY-NC-ND, public domain, ...). Its own label
  files are useless here (every class collapsed to ``person``).
* boxes: ``solufast-cvprojects/multigriddet`` @ ``be5f62c3eb58afcd4aea7f5735c28c7321a42aae``,
  ``data/coco_val2017.txt`` (MIT): the COCO ``instances_val2017`` boxes of the 4,952
  annotated val2017 images, one line per image, ``path x1,y1,x2,y2,class ...`` with corners
  rounded to whole pixels and ``class`` the 0-79 index of the usual 80-class order (67 =
  cell phone). COCO annotations are CC BY 4.0. Crowd regions are not in the file, so every
  box written has ``iscrowd`` 0. ``check_boxes`` compares the file with the real COCO
  annotations of the eval set's own val2017 images and the result goes into the provenance.

Kept (``kind``): ``phone``, an image with a ``cell phone`` box; ``lookalike``, no phone but a
``remote`` or ``mouse`` box at least half inside a person box; ``plain``, a person box at
least 160 px tall and none of cell phone, laptop, book, tv or remote. ``held`` is true when a
cell phone box (phone) or a look-alike box (lookalike) lies at least half inside a person box:
a proxy for "in a hand", which also counts a phone lying in a lap or by a person's feet.
Every box of person, cell phone, remote, book, laptop, tv, keyboard and mouse is written.
Images of the project's eval set (``../shared/eval/coco``, zzowenzz/COCO_Tiny) are left out.
At most 600 phone, 300 look-alike and 300 plain images, the lowest image ids first.

Written as ``OUT/coco_val2017/images/<id>.jpg`` (the original bytes) plus
``OUT/coco_val2017/labels.json`` (``{"source": {...}, "images": [{"file", "group", "kind",
"held", "boxes": [{"label", "bbox", "iscrowd"}]}]}``, ``bbox`` = ``[x, y, w, h]`` in pixels,
``group`` = COCO image id), the schema of ``tools/phone_data.py``. ``OUT/PROVENANCE.json``
gets (or has replaced) its ``coco_val2017`` entry. An absent snapshot is skipped with a
message. Evaluation only: keep ``OUT`` outside the repository and do not redistribute it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tools.gallery_faces import MIRROR, blob, decode, git_dir, ls_tree

SOURCE_ID = "coco_val2017"
EVAL_COCO = Path(__file__).resolve().parents[2] / "shared" / "eval" / "coco"

IMAGES = {
    "repository": "minto5z/coco_yolo",
    "commit": "4715f5ca05a6ffc148d4c4e5b0a131663655f2be",
    "path": "coco/images/",
    "licence": (
        "none stated in the repository; COCO images are Flickr photos under the per-image "
        "licences listed by COCO (cocodataset.org terms of use)"
    ),
}
BOXES = {
    "repository": "solufast-cvprojects/multigriddet",
    "commit": "be5f62c3eb58afcd4aea7f5735c28c7321a42aae",
    "path": "data/coco_val2017.txt",
    "licence": "MIT (repository LICENSE); the boxes are COCO annotations, CC BY 4.0",
}

#: The usual 80-class COCO order (index = class number in ``data/coco_val2017.txt``).
COCO80 = (
    "person bicycle car motorcycle airplane bus train truck boat traffic_light fire_hydrant "
    "stop_sign parking_meter bench bird cat dog horse sheep cow elephant bear zebra giraffe "
    "backpack umbrella handbag tie suitcase frisbee skis snowboard sports_ball kite "
    "baseball_bat baseball_glove skateboard surfboard tennis_racket bottle wine_glass cup fork "
    "knife spoon bowl banana apple sandwich orange broccoli carrot hot_dog pizza donut cake "
    "chair couch potted_plant bed dining_table toilet tv laptop mouse remote keyboard "
    "cell_phone microwave oven toaster sink refrigerator book clock vase scissors teddy_bear "
    "hair_drier toothbrush"
)
NAMES = tuple(name.replace("_", " ") for name in COCO80.split())
PHONE = "cell phone"
PERSON = "person"
KEPT_LABELS = frozenset({PERSON, PHONE, "remote", "book", "laptop", "tv", "keyboard", "mouse"})
LOOKALIKES = frozenset({"remote", "mouse"})
NOT_PLAIN = frozenset({PHONE, "laptop", "book", "tv", "remote"})
HELD_FRACTION = 0.5
#: A plain image needs a person at least this tall (COCO photos are at most 640 px a side):
#: without it "plain" filled up with airplanes and trams that have a speck of a person.
PLAIN_MIN_PERSON_HEIGHT = 160.0
LIMITS = {"phone": 600, "lookalike": 300, "plain": 300}

#: What drawing the boxes of 16 random kept images (and of 16 phone, 16 look-alike ones) showed.
MONTAGE = (
    "Boxes sit tightly on their objects; no wrong class seen. Phones: mostly in a hand at "
    "the ear or in front of the face, some tiny in crowd scenes, one on a shop poster "
    "(held false), one on a restaurant table (held false). held is a box proxy: phones on "
    "the floor by a person's feet and a radio at a belt also count as held. Look-alikes: "
    "mostly Wii / TV remotes held in one hand, a few hands on a computer mouse. Plain "
    "before the 160 px person rule: airplanes, trams and bollards with a speck of a person; "
    "after it: people in the foreground, COCO's own quirks included (a statue boxed as a "
    "person, a lone leg)."
)

Box = tuple[str, float, float, float, float]  # label, x1, y1, x2, y2


def read_boxes(text: str) -> dict[str, list[Box]]:
    """``{file name: [(label, x1, y1, x2, y2), ...]}`` from ``data/coco_val2017.txt``."""
    out: dict[str, list[Box]] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        boxes = []
        for field in parts[1:]:
            x1, y1, x2, y2, index = (int(v) for v in field.split(","))
            boxes.append((NAMES[index], float(x1), float(y1), float(x2), float(y2)))
        out[parts[0].rsplit("/", 1)[-1]] = boxes
    return out


def inside(box: Box, person: Box) -> float:
    """Share of ``box``'s area that lies inside ``person``'s box."""
    width = min(box[3], person[3]) - max(box[1], person[1])
    height = min(box[4], person[4]) - max(box[2], person[2])
    area = (box[3] - box[1]) * (box[4] - box[2])
    return max(width, 0) * max(height, 0) / area if area > 0 else 0.0


def held(boxes: list[Box], labels: frozenset[str]) -> bool:
    """Whether a box of ``labels`` lies at least ``HELD_FRACTION`` inside a person box."""
    people = [b for b in boxes if b[0] == PERSON]
    return any(
        inside(box, person) >= HELD_FRACTION
        for box in boxes
        if box[0] in labels
        for person in people
    )


def classify(boxes: list[Box]) -> tuple[str | None, bool]:
    """``(kind, held)``; ``kind`` is None for an image that is not kept."""
    labels = {b[0] for b in boxes}
    if PHONE in labels:
        return "phone", held(boxes, frozenset({PHONE}))
    if held(boxes, LOOKALIKES):
        return "lookalike", True
    tall = any(b[0] == PERSON and b[4] - b[2] >= PLAIN_MIN_PERSON_HEIGHT for b in boxes)
    if tall and not labels & NOT_PLAIN:
        return "plain", False
    return None, False


def eval_names(eval_coco: Path) -> set[str]:
    """File names of the eval set's COCO images (its folders and its annotation files)."""
    if not eval_coco.is_dir():
        raise FileNotFoundError(f"the eval set's COCO folder {eval_coco} is needed to leave it out")
    names = {p.name for p in eval_coco.rglob("*.jpg")}
    for annotation in eval_coco.glob("annotations/instances_*.json"):
        names |= {im["file_name"] for im in json.loads(annotation.read_text())["images"]}
    return names


def check_boxes(boxes: dict[str, list[Box]], eval_coco: Path) -> dict:
    """Match the file's boxes against the real COCO val2017 annotations of the eval images."""
    annotation = eval_coco / "annotations" / "instances_val2017.json"
    if not annotation.is_file():
        return {"checked": False, "why": f"{annotation} absent"}
    coco = json.loads(annotation.read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    files = {im["id"]: im["file_name"] for im in coco["images"]}
    counts = Counter()
    for ann in coco["annotations"]:
        x, y, w, h = ann["bbox"]
        label = names[ann["category_id"]]
        found = any(
            b[0] == label
            and abs(b[1] - x) <= 1
            and abs(b[2] - y) <= 1
            and abs(b[3] - (x + w)) <= 1
            and abs(b[4] - (y + h)) <= 1
            for b in boxes.get(files[ann["image_id"]], [])
        )
        kind = "crowd" if ann["iscrowd"] else "boxes"
        counts[f"{kind}"] += 1
        counts[f"{kind} matched within 1 px"] += found
    return {"checked": True, "images": len(files), **counts}


def files(git: Path, commit: str, prefix: str) -> dict[str, str]:
    """``{file name: blob id}`` of the JPEGs under ``prefix`` at ``commit`` (first path wins)."""
    out: dict[str, str] = {}
    for path, blob_id in ls_tree(git, commit, prefix).items():
        if path.lower().endswith(".jpg"):
            out.setdefault(Path(path).name, blob_id)
    return out


def merge_provenance(out: Path, entry: dict) -> None:
    path = out / "PROVENANCE.json"
    provenance = json.loads(path.read_text()) if path.is_file() else {}
    provenance[SOURCE_ID] = entry
    path.write_text(json.dumps(provenance, indent=2) + "\n")


def extract(out: Path, mirror: Path = MIRROR, eval_coco: Path = EVAL_COCO) -> dict:
    """Write ``OUT/coco_val2017`` and its PROVENANCE entry; return the entry.

    Returns ``{"skipped": reason}`` (and writes nothing) when a snapshot is absent.
    """
    image_git = git_dir(IMAGES["repository"], mirror)
    box_git = git_dir(BOXES["repository"], mirror)
    for source, git in ((IMAGES, image_git), (BOXES, box_git)):
        if not git.exists():
            reason = f"snapshot of {source['repository']} not found under {mirror}"
            print(reason, file=sys.stderr)
            return {"skipped": reason}
    excluded = eval_names(eval_coco)
    text = subprocess.run(
        ["git", "--git-dir", str(box_git), "show", f"{BOXES['commit']}:{BOXES['path']}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    boxes = read_boxes(text)
    jpegs = files(image_git, IMAGES["commit"], IMAGES["path"])
    dropped = Counter()
    chosen: dict[str, list[tuple[str, bool]]] = {kind: [] for kind in LIMITS}
    for name in sorted(jpegs):
        if name in excluded:
            dropped["in the eval set (../shared/eval/coco)"] += 1
            continue
        if name not in boxes:
            dropped["no val2017 boxes (unannotated image)"] += 1
            continue
        kind, is_held = classify(boxes[name])
        if kind is None:
            dropped["neither phone, look-alike nor plain"] += 1
        elif len(chosen[kind]) >= LIMITS[kind]:
            dropped[f"over the {kind} limit"] += 1
        else:
            chosen[kind].append((name, is_held))
    folder = out / SOURCE_ID
    (folder / "images").mkdir(parents=True, exist_ok=True)
    records, labels, held_counts, clamped = [], Counter(), Counter(), 0
    for kind, names in chosen.items():
        for name, is_held in names:
            data = blob(image_git, jpegs[name])
            image = decode(data)
            if image is None:
                dropped["unreadable JPEG"] += 1
                continue
            height, width = image.shape[:2]
            written = []
            for label, x1, y1, x2, y2 in boxes[name]:
                if label not in KEPT_LABELS:
                    continue
                cx1, cy1 = min(max(x1, 0.0), width), min(max(y1, 0.0), height)
                cx2, cy2 = min(max(x2, 0.0), width), min(max(y2, 0.0), height)
                clamped += (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2)
                bbox = [cx1, cy1, cx2 - cx1, cy2 - cy1]
                written.append({"label": label, "bbox": bbox, "iscrowd": 0})
                labels[label] += 1
            (folder / "images" / name).write_bytes(data)
            records.append(
                {
                    "file": f"images/{name}",
                    "group": str(int(Path(name).stem)),
                    "kind": kind,
                    "held": is_held,
                    "boxes": written,
                }
            )
            held_counts[f"{kind} held"] += is_held
    records.sort(key=lambda r: int(r["group"]))
    kinds = Counter(r["kind"] for r in records)
    check = check_boxes(boxes, eval_coco)
    notes = (
        "Original COCO val2017 JPEGs from minto5z/coco_yolo (coco/images/) with the COCO "
        "instances_val2017 boxes of solufast-cvprojects/multigriddet @ "
        f"{BOXES['commit']} {BOXES['path']} (corners rounded to whole pixels; crowd regions "
        "absent, so iscrowd is always 0). held = the phone (phone) or remote/mouse "
        "(lookalike) box lies at least half inside a person box. group = COCO image id; "
        "eval-set images (zzowenzz/COCO_Tiny) are left out."
    )
    source = {
        **IMAGES,
        "licence": f"images: {IMAGES['licence']}; boxes: {BOXES['licence']}",
        "notes": notes,
    }
    (folder / "labels.json").write_text(
        json.dumps({"source": source, "images": records}, indent=1) + "\n"
    )
    entry = {
        **source,
        "boxes": BOXES,
        "counts": {
            "images": len(records),
            "groups": len({r["group"] for r in records}),
            "kinds": dict(sorted(kinds.items())),
            "held": dict(sorted(held_counts.items())),
            "labels": dict(sorted(labels.items())),
        },
        "eval_images_left_out": dropped["in the eval set (../shared/eval/coco)"],
        "boxes_clamped_to_image": clamped,
        "dropped": dict(sorted(dropped.items())),
        "labels_checked": {"against_real_coco_annotations": check, "montage": MONTAGE},
    }
    merge_provenance(out, entry)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.phone_data_coco", description=__doc__)
    parser.add_argument("out", type=Path, help="folder to write (outside the repository)")
    parser.add_argument(
        "--mirror", type=Path, default=MIRROR, help="where the fetched snapshots are"
    )
    parser.add_argument("--eval-coco", type=Path, default=EVAL_COCO, help="eval COCO folder")
    args = parser.parse_args(argv)
    entry = extract(args.out, args.mirror, args.eval_coco)
    print(json.dumps(entry, indent=2))
    return 1 if "skipped" in entry else 0


if __name__ == "__main__":
    sys.exit(main())
