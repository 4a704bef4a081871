"""``python -m tools.gallery_faces OUT``: extract public face photos to pad 1:N galleries.

The fairness evaluation measures false identifications against galleries of 100, 1,000 and
10,000 enrolled students (``python -m proctor.eval fairness --gallery-dir OUT``); the eval
folder alone holds about 800 distinct faces. This pulls more, at evaluation time, from two
public repository snapshots brought in with the ``fetch`` tool (their git directories, read
with ``git``; nothing is downloaded and nothing is committed to this repository):

* ``baileyfriend/Gender-Image-Classifier`` @ ``b27fab937f92d36b9e5955247a9ef5e03146cde0``:
  6,050 distinct Labeled Faces in the Wild photos (250x250, LFW file names), 2,475 people.
  The repository states no licence; LFW is published for research use. The 40 people of
  ``faces/identities`` are left out (the evaluation enrolls them to measure true
  identification). Written as ``OUT/lfw/<Name>/<file>``: one identity per folder.
* ``bagashvilit/facial_recognition_bias`` @ ``abe87302b1d452cbd9100773a16c127f4d2ab546``,
  ``data/images/``: 9,780 UTKFace aligned crops (MIT for the code; UTKFace itself is for
  non-commercial research only). The fairness set's probes come from the same pool, so
  every file that could show one of its people is left out by the fairness MANIFEST's own
  rules: the set's files themselves, a file whose 64-bit dHash is within 1 bit of one of
  them (rule a), and a file with the same gender and race labels taken at most 10 s from
  one of them (rule b). Rule c (SFace cosine >= 0.75) is applied by the evaluation itself
  to every padding face. Ages under 16 are left out, as the set left them out. Written flat
  as ``OUT/<file>``: one pseudo-identity per file.

``OUT/PROVENANCE.json`` records both sources, their commits and what was kept and dropped.
Evaluation only: keep ``OUT`` outside the repository and do not redistribute it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

MIRROR = Path("/work/.mirror")
LFW = {
    "repository": "baileyfriend/Gender-Image-Classifier",
    "commit": "b27fab937f92d36b9e5955247a9ef5e03146cde0",
    "licence": "none stated in the repository; LFW images are published for research use",
}
UTK = {
    "repository": "bagashvilit/facial_recognition_bias",
    "commit": "abe87302b1d452cbd9100773a16c127f4d2ab546",
    "licence": "MIT (code); UTKFace images: non-commercial research only",
}
UTK_NAME = re.compile(r"^(\d+)_([01])_([0-4])_(\d{17})\.jpg\.chip\.jpg$")
LFW_NAME = re.compile(r"^(.+)_\d{4}\.jpg$")
MIN_AGE = 16
BURST_S = 10.0
DHASH_BITS = 1


def git_dir(repository: str, mirror: Path = MIRROR) -> Path:
    """The snapshot's git directory under ``mirror`` (bare or with ``.git``)."""
    root = mirror / repository.replace("/", "+") / "repo"
    return root / ".git" if (root / ".git").is_dir() else root


def ls_tree(git: Path, commit: str, prefix: str = "") -> dict[str, str]:
    """``{path: blob id}`` of every file under ``prefix`` (everywhere when empty) at
    ``commit``, in path order."""
    listing = subprocess.run(
        ["git", "--git-dir", str(git), "ls-tree", "-r", commit] + ([prefix] if prefix else []),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = (line.split("\t", 1) for line in listing.splitlines())
    return {path: meta.split()[2] for meta, path in sorted(rows, key=lambda row: row[1])}


def files(git: Path, commit: str, prefix: str) -> dict[str, str]:
    """``{path: blob id}`` of the JPEGs under ``prefix`` (everywhere when empty) at ``commit``."""
    listed = ls_tree(git, commit, prefix)
    return {path: blob_id for path, blob_id in listed.items() if path.lower().endswith(".jpg")}


def blob(git: Path, blob_id: str) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(git), "cat-file", "blob", blob_id],
        check=True,
        capture_output=True,
    ).stdout


def dhash(image: np.ndarray) -> int:
    """64-bit difference hash (9x8 grey thumbnail, left-right differences)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def taken_at(stamp: str) -> float:
    return datetime.strptime(stamp[:14], "%Y%m%d%H%M%S").timestamp() + int(stamp[14:]) / 1000


def decode(data: bytes) -> np.ndarray | None:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def extract_lfw(out: Path, eval_dir: Path, git: Path) -> dict:
    enrolled = {p.name for p in (eval_dir / "faces" / "identities").iterdir() if p.is_dir()}
    by_name: dict[str, str] = {}
    for path, blob_id in files(git, LFW["commit"], "").items():
        name = Path(path).name
        if LFW_NAME.match(name):
            by_name.setdefault(name, blob_id)
    kept, people = 0, set()
    for name, blob_id in sorted(by_name.items()):
        person = LFW_NAME.match(name).group(1)  # type: ignore[union-attr]
        if person in enrolled:
            continue
        target = out / "lfw" / person / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob(git, blob_id))
        kept += 1
        people.add(person)
    return {
        **LFW,
        "distinct_files": len(by_name),
        "kept_photos": kept,
        "kept_people": len(people),
        "left_out": f"the {len(enrolled)} people of faces/identities",
    }


def extract_utk(out: Path, eval_dir: Path, git: Path) -> dict:
    labels = json.loads((eval_dir / "fairness" / "detection" / "labels.json").read_text())
    probe_hashes = []
    probe_times: dict[tuple[str, str], list[float]] = {}
    for name in labels:
        image = cv2.imread(str(eval_dir / "fairness" / "detection" / name))
        probe_hashes.append(dhash(image))
        found = UTK_NAME.match(name)
        if found:
            key = (found.group(2), found.group(3))
            probe_times.setdefault(key, []).append(taken_at(found.group(4)))
    hashes = np.array(probe_hashes, dtype=np.uint64)
    dropped = {"in the fairness set": 0, "under 16": 0, "rule a (dHash)": 0, "rule b (burst)": 0}
    dropped["unreadable"] = 0
    kept = 0
    for path, blob_id in sorted(files(git, UTK["commit"], "data/images/").items()):
        name = Path(path).name
        found = UTK_NAME.match(name)
        if name in labels:
            dropped["in the fairness set"] += 1
            continue
        if found is None or int(found.group(1)) < MIN_AGE:
            dropped["under 16"] += 1
            continue
        data = blob(git, blob_id)
        image = decode(data)
        if image is None:
            dropped["unreadable"] += 1
            continue
        distance = np.array([bin(int(h) ^ dhash(image)).count("1") for h in hashes])
        if (distance <= DHASH_BITS).any():
            dropped["rule a (dHash)"] += 1
            continue
        moment = taken_at(found.group(4))
        near = probe_times.get((found.group(2), found.group(3)), [])
        if any(abs(moment - t) <= BURST_S for t in near):
            dropped["rule b (burst)"] += 1
            continue
        (out / name).write_bytes(data)
        kept += 1
    return {**UTK, "kept": kept, "dropped": dropped}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gallery_faces", description=__doc__)
    parser.add_argument("out", type=Path, help="folder to write (outside the repository)")
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument(
        "--mirror", type=Path, default=MIRROR, help="where the fetched snapshots are"
    )
    args = parser.parse_args(argv)
    for source in (LFW, UTK):
        if not git_dir(source["repository"], args.mirror).exists():
            print(
                f"snapshot of {source['repository']} not found under {args.mirror}", file=sys.stderr
            )
            return 1
    args.out.mkdir(parents=True, exist_ok=True)
    provenance = {
        "lfw": extract_lfw(args.out, args.eval_dir, git_dir(LFW["repository"], args.mirror)),
        "utkface": extract_utk(args.out, args.eval_dir, git_dir(UTK["repository"], args.mirror)),
    }
    (args.out / "PROVENANCE.json").write_text(json.dumps(provenance, indent=2) + "\n")
    print(json.dumps(provenance, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
