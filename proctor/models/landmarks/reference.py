"""The 3-D reference face that head pose is measured against, and the iris's rest position.

* The face is MediaPipe's canonical face model (the 468-vertex metric face that MediaPipe's
  own face-geometry pipeline solves the mesh against; Apache-2.0), read from the pinned npm
  package ``@mediapipe/face_mesh`` (``CANONICAL_SOURCE``; its packed assets hold
  ``geometry_pipeline_metadata_landmarks.binarypb``). A documented, metric face built
  independently of anything this project evaluates on: its vertices are in centimetres,
  exactly left-right symmetric, facing the camera.
* The iris rest position (where the iris centre sits in the eye when looking into the
  camera) needs real eyes: it is the mean over the face-mesh pipeline's output on the
  Pointing'04 images labelled pan 0, tilt 0 of the tune split's persons.

``python -m tools.build_reference`` builds both and ships them as ``reference_face.npz``,
which records where each came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from proctor.models.landmarks import topology

REFERENCE_FILE = Path(__file__).with_name("reference_face.npz")
#: Where the canonical face comes from: npm package, version, sha256 of its tarball, the
#: file in it holding the packed assets, and that asset's name there.
CANONICAL_SOURCE = (
    "@mediapipe/face_mesh",
    "0.4.1657299874",
    "c08a7e0742a326285da666cf81d77c8b6f3a181a2ee948cadaf166008e0d3bc7",
    "face_mesh_solution_packed_assets.data",
    "/third_party/mediapipe/modules/face_geometry/data/geometry_pipeline_metadata_landmarks.binarypb",
)
CANONICAL_LICENSE = "Apache-2.0 (Google MediaPipe)"
#: The canonical model's axes (x right, y up, z toward the viewer, centimetres) in the
#: camera frame (x right, y down, z away, millimetres).
CANONICAL_TO_CAMERA_MM = np.array([10.0, -10.0, -10.0])


@dataclass(frozen=True)
class ReferenceFace:
    points_mm: np.ndarray  # (468, 3) frontal face, centred, camera-frame axes, millimetres
    iris_rest: tuple[float, float]  # iris centre (outward, up) in half eye widths at rest
    sources: tuple[str, ...]  # images the iris rest position was measured on
    split: str  # the evaluation split those images belong to
    points_source: str  # where the face's points come from

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            points_mm=self.points_mm.astype(np.float32),
            iris_rest=np.asarray(self.iris_rest, np.float32),
            sources=np.asarray(self.sources),
            split=np.asarray(self.split),
            points_source=np.asarray(self.points_source),
        )

    @classmethod
    def load(cls, path: Path) -> ReferenceFace:
        with np.load(path, allow_pickle=False) as data:
            rest = data["iris_rest"].astype(np.float64)
            return cls(
                points_mm=data["points_mm"].astype(np.float64),
                iris_rest=(float(rest[0]), float(rest[1])),
                sources=tuple(str(s) for s in data["sources"]),
                split=str(data["split"]),
                points_source=str(data["points_source"]),
            )


@lru_cache
def load_reference(path: Path = REFERENCE_FILE) -> ReferenceFace:
    """The shipped reference face (read once per process)."""
    return ReferenceFace.load(path)


def five_point_reference(points: np.ndarray) -> np.ndarray:
    """The reference face's points matching a face detector's five landmarks (eye on the
    image's left, eye on the image's right, nose tip, mouth corner left, mouth corner
    right; ``proctor.models.detections``): each eye is the midpoint of its corners."""
    eyes = [points[list(corners)].mean(axis=0) for corners in topology.EYE_CORNERS]
    return np.stack([*eyes, points[topology.NOSE_TIP], *points[list(topology.MOUTH_CORNERS)]])


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _fields(data: bytes) -> list[tuple[int, bytes | int]]:
    """The (field number, value) pairs of one protobuf message, in order."""
    found: list[tuple[int, bytes | int]] = []
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
            found.append((number, value))
            continue
        if wire == 2:
            size, at = _varint(data, at)
        else:
            size = {1: 8, 5: 4}[wire]
        found.append((number, data[at : at + size]))
        at += size
    return found


def canonical_points_mm(metadata: bytes) -> np.ndarray:
    """The canonical face's 468 vertices (camera frame, millimetres, centred) from
    MediaPipe's ``GeometryPipelineMetadata`` proto: its field 1 is the canonical mesh, whose
    field 3 is the vertex buffer, five floats per vertex (x, y, z, u, v)."""
    mesh = next(value for number, value in _fields(metadata) if number == 1)
    assert isinstance(mesh, bytes)
    buffer = b"".join(
        value if isinstance(value, bytes) else b"" for number, value in _fields(mesh) if number == 3
    )
    vertices = np.frombuffer(buffer, "<f4").reshape(-1, 5)[:, :3].astype(np.float64)
    if len(vertices) != 468:
        raise ValueError(f"the canonical mesh has {len(vertices)} vertices, not 468")
    points = vertices * CANONICAL_TO_CAMERA_MM
    return points - points.mean(axis=0)


def build_reference(
    points_mm: np.ndarray,
    iris_offsets: list[tuple[float, float]],
    *,
    sources: tuple[str, ...],
    split: str,
    points_source: str,
) -> ReferenceFace:
    """The reference face from the canonical points and the frontal faces' iris positions
    ((outward, up) half widths, one per eye)."""
    rest = np.mean(np.asarray(iris_offsets, np.float64), axis=0)
    return ReferenceFace(
        points_mm=np.asarray(points_mm, np.float64),
        iris_rest=(float(rest[0]), float(rest[1])),
        sources=sources,
        split=split,
        points_source=points_source,
    )
