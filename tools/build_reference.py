"""``python -m tools.build_reference``: rebuild ``proctor/models/landmarks/reference_face.npz``.

Everything comes from the **tune** split of ``../shared/eval/headpose`` (Pointing'04 split by
person, AFLW2000-3D by image; ``proctor.eval.data.headpose_split``); the report split is
never read, so the pose evaluation's report figures are not measured on what built this.

* The face: the face-mesh analyzer's output on the tune persons' Pointing'04 images labelled
  pan 0, tilt 0 (subjects asked to face the camera), averaged as ``reference`` describes.
* The mesh depth scale: the mesh model's z is multiplied by a factor before averaging (its
  depth is not in the same units as x and y). Rule: on the grid 0.50, 0.55, ..., 1.00, the
  value whose reference gives the lowest mean absolute error, yaw and pitch averaged, on the
  tune AFLW2000-3D faces with |yaw| <= 50 deg (beyond that the mesh saturates whatever the
  scale); ties to the larger value (the milder correction). The pose is solved by the head-pose
  analyzer itself, against each candidate reference.

The file records the images of both steps and the split. It is committed, so the service
never needs the evaluation images; a test checks that this script reproduces it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from proctor.analyzers.base import Claim, FrameContext
from proctor.analyzers.face_mesh import FaceMeshResult
from proctor.analyzers.head_pose import HeadPoseAnalyzer
from proctor.eval.cli import DEFAULT_EVAL_DIR
from proctor.eval.data import HeadposeImage, headpose_images, headpose_split, read_image
from proctor.gallery import Gallery
from proctor.geometry.eyes import iris_offset
from proctor.models.landmarks.reference import REFERENCE_FILE, ReferenceFace, build_reference
from proctor.pipeline import Pipeline
from proctor.services import build_pipeline
from proctor.settings import Settings

SPLIT = "tune"
DEPTH_GRID = tuple(round(0.5 + 0.05 * i, 2) for i in range(11))
#: AFLW2000-3D faces turned further than this are left out of the depth-scale rule.
MAX_SCALE_YAW_DEG = 50.0
MIN_FRONTAL = 5


@dataclass(frozen=True)
class Frontal:
    """What the reference needs from one frontal face."""

    mesh: np.ndarray
    iris_diameter_px: float
    iris_offsets: tuple[tuple[float, float], tuple[float, float]]  # (outward, up) per eye
    source: str


def mesh_context(pipeline: Pipeline, image: HeadposeImage) -> FrameContext:
    """The pipeline's face mesh on one image (the primary face is the labelled one)."""
    empty = Gallery(pipeline.settings.face_embedder, 0)
    return pipeline.analyze(read_image(image.path), Claim(), empty, only=["face_mesh"]).context


def frontal_of(ctx: FrameContext, source: str) -> Frontal | None:
    face = ctx.result("face_mesh", FaceMeshResult).primary
    if face is None:
        return None
    left, right = face.eyes
    (left_x, left_up), (right_x, right_up) = iris_offset(left), iris_offset(right)
    return Frontal(
        face.mesh,
        (left.iris_diameter_px + right.iris_diameter_px) / 2,
        ((-left_x, left_up), (right_x, right_up)),  # outward = away from the nose
        source,
    )


def reference_at(
    frontals: list[Frontal],
    depth_scale: float,
    iris_diameter_mm: float,
    depth_sources: tuple[str, ...] = (),
) -> ReferenceFace:
    return build_reference(
        [f.mesh for f in frontals],
        [f.iris_diameter_px for f in frontals],
        [offset for f in frontals for offset in f.iris_offsets],
        depth_scale=depth_scale,
        iris_diameter_mm=iris_diameter_mm,
        sources=tuple(f.source for f in frontals),
        split=SPLIT,
        depth_sources=depth_sources,
    )


def depth_scale_errors(
    frontals: list[Frontal],
    labelled: list[tuple[HeadposeImage, FrameContext]],
    analyzer: HeadPoseAnalyzer,
    iris_diameter_mm: float,
) -> dict[float, tuple[float, float]]:
    """Per grid value: MAE of yaw and of pitch over ``labelled`` faces, solved by the head-pose
    analyzer against the reference built at that depth scale."""
    errors = {}
    for scale in DEPTH_GRID:
        analyzer.reference = reference_at(frontals, scale, iris_diameter_mm).points_mm
        diffs = []
        for image, ctx in labelled:
            pose = analyzer.analyze(ctx).primary
            if pose is not None:
                diffs.append(
                    (pose.angles.yaw_deg - image.truth[0], pose.angles.pitch_deg - image.truth[1])
                )
        yaw, pitch = np.abs(np.asarray(diffs)).mean(axis=0)
        errors[scale] = (float(yaw), float(pitch))
    return errors


def choose_depth_scale(errors: dict[float, tuple[float, float]]) -> float:
    """Lowest mean of yaw and pitch MAE; ties to the larger scale."""
    return min(errors, key=lambda scale: (round(sum(errors[scale]) / 2, 6), -scale))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build_reference", description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument("--output", type=Path, default=REFERENCE_FILE)
    args = parser.parse_args(argv)

    settings = Settings(models_dir=args.models_dir, analyzers=["faces", "face_mesh"])
    pipeline = build_pipeline(settings)
    if pipeline.get("face_mesh") is None:
        print(f"face mesh not loaded: {pipeline.status['face_mesh'].error}", file=sys.stderr)
        return 1
    solver = HeadPoseAnalyzer(settings, pipeline.registry)  # its reference is swapped per scale
    tune = headpose_split(headpose_images(args.eval_dir))[SPLIT]
    frontals = []
    for image in (x for x in tune if x.frontal):
        frontal = frontal_of(mesh_context(pipeline, image), image.name)
        if frontal is None:
            print(f"skipped {image.name}: no face mesh")
        else:
            frontals.append(frontal)
    if len(frontals) < MIN_FRONTAL:
        print(f"only {len(frontals)} frontal faces found under {args.eval_dir}", file=sys.stderr)
        return 1
    labelled = [
        (x, mesh_context(pipeline, x))
        for x in tune
        if x.dataset == "aflw2000-3d" and abs(x.truth[0]) <= MAX_SCALE_YAW_DEG
    ]
    iris_mm = settings.distance.iris_diameter_mm
    errors = depth_scale_errors(frontals, labelled, solver, iris_mm)
    scale = choose_depth_scale(errors)
    print(f"depth scale on {len(labelled)} {SPLIT} AFLW2000-3D faces (MAE yaw / pitch, deg):")
    for value, (yaw, pitch) in errors.items():
        print(f"  {value:.2f}: {yaw:.2f} / {pitch:.2f}{'  <- chosen' if value == scale else ''}")
    reference = reference_at(frontals, scale, iris_mm, tuple(x.name for x, _ in labelled))
    reference.save(args.output)
    points = reference.points_mm
    print(
        f"wrote {args.output} from {len(frontals)} {SPLIT} frontal faces: face height "
        f"{np.ptp(points[:, 1]):.0f} mm, width {np.ptp(points[:, 0]):.0f} mm, iris rest "
        f"(outward, up) {reference.iris_rest[0]:+.3f}, {reference.iris_rest[1]:+.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
