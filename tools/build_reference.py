"""``python -m proctor.landmarks.build_reference``: rebuild ``reference_face.npz``.

Runs the configured face detector and the face-mesh analyzer on the Pointing'04 images
labelled pan 0 and tilt 0 (persons 01-07 in ``../shared/eval/headpose``: the subjects
looking straight at the camera) and writes the reference face (see ``reference``). The
result is committed, so the service never needs the evaluation images.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from proctor.analyzers.face_mesh import FaceMeshAnalyzer, FaceMeshResult
from proctor.eval.common import DEFAULT_EVAL_DIR
from proctor.frame import make_frame
from proctor.geometry.eyes import iris_offset
from proctor.landmarks.reference import REFERENCE_FILE, build_reference
from proctor.services import build_services
from proctor.settings import Settings

#: The mesh model's depth (z) is multiplied by this. At 1.0 its poses come out about 13 %
#: too small against the dev AFLW2000-3D labels (slope 0.87 on the 9 faces with |yaw| < 50)
#: and the Pointing'04 ones; 0.7 gives slope 1.0 on those AFLW2000 faces. Chosen on the dev
#: set, so the held-out set is what tells whether it generalises.
DEPTH_SCALE = 0.7
IRIS_DIAMETER_MM = 11.7


def frontal_images(eval_dir: Path) -> list[Path]:
    headpose = eval_dir / "headpose"
    labels = json.loads((headpose / "labels.json").read_text())
    return [
        headpose / "images" / name
        for name, label in sorted(labels.items())
        if label["dataset"] == "pointing04" and label["yaw"] == 0 and label["pitch"] == 0
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proctor.landmarks.build_reference")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument("--output", type=Path, default=REFERENCE_FILE)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            models_dir=args.models_dir,
            student_db=Path(tmp) / "unused.sqlite3",
            analyzers=["faces", "face_mesh"],
        )
        pipeline = build_services(settings).pipeline
    if not isinstance(pipeline.get("face_mesh"), FaceMeshAnalyzer):
        print(f"face mesh not loaded: {pipeline.status['face_mesh'].error}", file=sys.stderr)
        return 1
    meshes, diameters, offsets, sources = [], [], [], []
    for path in frontal_images(args.eval_dir):
        image = cv2.imread(str(path))
        ctx = pipeline.run(make_frame(image, settings.analysis_max_side))
        face = ctx.result("face_mesh", FaceMeshResult).primary
        if face is None:
            print(f"skipped {path.name}: no face mesh")
            continue
        left, right = face.eyes
        meshes.append(face.mesh)
        diameters.append((left.iris_diameter_px + right.iris_diameter_px) / 2)
        (left_x, left_up), (right_x, right_up) = iris_offset(left), iris_offset(right)
        offsets += [(-left_x, left_up), (right_x, right_up)]  # outward = away from the nose
        sources.append(path.name)
    if len(meshes) < 5:
        print(f"only {len(meshes)} frontal faces found under {args.eval_dir}", file=sys.stderr)
        return 1
    reference = build_reference(
        meshes,
        diameters,
        offsets,
        depth_scale=DEPTH_SCALE,
        iris_diameter_mm=IRIS_DIAMETER_MM,
        sources=tuple(sources),
    )
    reference.save(args.output)
    points = reference.points_mm
    print(
        f"wrote {args.output} from {len(meshes)} faces: face height {np.ptp(points[:, 1]):.0f} mm, "
        f"width {np.ptp(points[:, 0]):.0f} mm, iris rest (outward, up) "
        f"{reference.iris_rest[0]:+.3f}, {reference.iris_rest[1]:+.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
