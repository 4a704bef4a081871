"""The 3-D reference face that head pose is measured against, and the iris's rest position.

Both come from the face-mesh model's own output on real frontal faces (the Pointing'04
images labelled pan 0, tilt 0 of the tuning split's persons in ``../shared/eval/headpose``),
built by ``python -m tools.build_reference`` and shipped as ``reference_face.npz``, which
records the images it was built from:

* the meshes are scaled to one size, rotated onto each other (generalised Procrustes) and
  averaged, then turned back to their average orientation: "frontal" is what the labelled
  frontal faces did on average;
* the mean is made exactly left-right symmetric (each point is paired with its mirror
  image by nearest match), which takes out any left-right turn or tilt: a mirrored face
  then gets exactly the opposite yaw and roll;
* its size is set in millimetres from the iris (``IRIS_DIAMETER_MM`` across), so a pose
  solved against it also says how far away the face is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

REFERENCE_FILE = Path(__file__).with_name("reference_face.npz")
#: Mirror image in the camera frame (x to the image's right, y down, z away).
MIRROR = np.diag([-1.0, 1.0, 1.0])


@dataclass(frozen=True)
class ReferenceFace:
    points_mm: np.ndarray  # (468, 3) frontal face, centred, camera-frame axes, millimetres
    iris_rest: tuple[float, float]  # iris centre (outward, up) in half eye widths at rest
    depth_scale: float  # factor applied to the mesh model's z when building
    sources: tuple[str, ...]  # images it was built from
    split: str = ""  # the evaluation split those images (and depth_sources) belong to
    depth_sources: tuple[str, ...] = ()  # images the depth scale was chosen on

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            points_mm=self.points_mm.astype(np.float32),
            iris_rest=np.asarray(self.iris_rest, np.float32),
            depth_scale=np.float32(self.depth_scale),
            sources=np.asarray(self.sources),
            split=np.asarray(self.split),
            depth_sources=np.asarray(self.depth_sources, dtype=str),
        )

    @classmethod
    def load(cls, path: Path) -> ReferenceFace:
        with np.load(path, allow_pickle=False) as data:
            rest = data["iris_rest"].astype(np.float64)
            return cls(
                points_mm=data["points_mm"].astype(np.float64),
                iris_rest=(float(rest[0]), float(rest[1])),
                depth_scale=float(data["depth_scale"]),
                sources=tuple(str(s) for s in data["sources"]),
                split=str(data["split"]),
                depth_sources=tuple(str(s) for s in data["depth_sources"]),
            )


@lru_cache
def load_reference(path: Path = REFERENCE_FILE) -> ReferenceFace:
    """The shipped reference face (read once per process)."""
    return ReferenceFace.load(path)


def normalised(shape: np.ndarray) -> np.ndarray:
    """Centred, scaled so the points' mean squared distance from the centre (x, y) is 1."""
    centred = np.asarray(shape, np.float64) - np.mean(shape, axis=0)
    return centred / np.sqrt(np.mean(np.sum(centred[:, :2] ** 2, axis=1)))


def procrustes(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Rotation R, scale s and shift t minimising |s R source + t - target| (no reflection)."""
    src_mean, dst_mean = source.mean(axis=0), target.mean(axis=0)
    src, dst = source - src_mean, target - dst_mean
    u, sing, vt = np.linalg.svd(dst.T @ src)
    signs = np.array([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ np.diag(signs) @ vt
    scale = float(np.sum(sing * signs) / np.sum(src**2))
    return rotation, scale, dst_mean - scale * rotation @ src_mean


def mean_shape(shapes: list[np.ndarray], iterations: int = 5) -> np.ndarray:
    """Generalised Procrustes mean of ``shapes``, in their average orientation, normalised."""
    shapes = [normalised(s) for s in shapes]
    mean = shapes[0]
    rotvecs: list[np.ndarray] = []
    for _ in range(iterations):
        aligned, rotvecs = [], []
        for shape in shapes:
            rotation, scale, shift = procrustes(shape, mean)
            aligned.append(scale * shape @ rotation.T + shift)
            rotvecs.append(cv2.Rodrigues(rotation)[0].ravel())
        mean = normalised(np.mean(aligned, axis=0))
    # Each shape is (about) mean rotated by R_i^T; turn the mean by their average.
    average, _ = cv2.Rodrigues(-np.mean(rotvecs, axis=0))
    return mean @ average.T


def mirror_pairs(shape: np.ndarray) -> np.ndarray:
    """For each point, the index of its mirror-image partner (midline points pair with
    themselves). Closest pairs are matched first, so the pairing is one-to-one."""
    centred = shape - shape.mean(axis=0)
    mirrored = centred @ MIRROR
    dist = np.linalg.norm(centred[:, None, :] - mirrored[None, :, :], axis=2)
    dist = (dist + dist.T) / 2
    partner = np.full(len(shape), -1)
    for flat in np.argsort(dist, axis=None):
        i, j = divmod(int(flat), len(shape))
        if partner[i] < 0 and partner[j] < 0:
            partner[i], partner[j] = j, i
    return partner


def symmetrised(shape: np.ndarray, iterations: int = 5) -> np.ndarray:
    """The shape turned to zero yaw and roll and made exactly mirror-symmetric.

    If R maps the mirrored shape onto the shape, R is about twice the shape's yaw and roll
    (a mirror reverses both and keeps pitch); undoing half of R removes them. The pairing
    is re-found after each turn (it gets surer as the shape straightens), and only the
    final, straight shape is averaged with its mirror image.
    """
    shape = shape - shape.mean(axis=0)
    for _ in range(iterations):
        partner = mirror_pairs(shape)
        rotation, _, _ = procrustes((shape @ MIRROR)[partner], shape)
        half, _ = cv2.Rodrigues(cv2.Rodrigues(rotation)[0] * 0.5)
        shape = shape @ half
    partner = mirror_pairs(shape)
    shape = (shape + (shape @ MIRROR)[partner]) / 2
    return shape - shape.mean(axis=0)


def build_reference(
    meshes: list[np.ndarray],
    iris_diameters_px: list[float],
    iris_offsets: list[tuple[float, float]],
    *,
    depth_scale: float,
    iris_diameter_mm: float,
    sources: tuple[str, ...],
    split: str = "",
    depth_sources: tuple[str, ...] = (),
) -> ReferenceFace:
    """The reference face from frontal meshes (image pixels), their mean iris diameter
    (pixels) and iris positions ((outward, up) half widths, one per eye)."""
    scaled = [np.asarray(m, np.float64) * [1.0, 1.0, depth_scale] for m in meshes]
    shape = symmetrised(mean_shape(scaled))
    # normalised() divided each mesh by its own size: the iris in those same units.
    sizes = [np.sqrt(np.mean(np.sum((m[:, :2] - m[:, :2].mean(0)) ** 2, axis=1))) for m in scaled]
    iris_units = float(np.mean([d / s for d, s in zip(iris_diameters_px, sizes, strict=True)]))
    rest = np.mean(np.asarray(iris_offsets, np.float64), axis=0)
    return ReferenceFace(
        points_mm=normalised(shape) * iris_diameter_mm / iris_units,
        iris_rest=(float(rest[0]), float(rest[1])),
        depth_scale=depth_scale,
        sources=sources,
        split=split,
        depth_sources=depth_sources,
    )
