"""Head pose, gaze, eyes, mouth and distance on real images (``python -m proctor.eval pose``).

Data (``../shared/eval``, see its MANIFESTs): ``headpose/`` holds 1,302 Pointing'04 images
of persons 01-07 (pan/tilt on a 15-30 deg grid: the direction the subject was asked to face,
no roll) and 13 AFLW2000-3D images (continuous yaw/pitch/roll from a 3-D fit); ``faces/``
the 240 LFW photos. Labels are mapped to the API's signs in ``proctor.eval.data``.

Splits (``proctor.eval.splits``): Pointing'04 by person, AFLW2000-3D by image (its subjects
are unknown), LFW by person. What is chosen on the **tune** split:

* the iris rest position of the reference face, by ``python -m tools.build_reference`` (the
  face itself is MediaPipe's canonical face model, fitted to nothing here); this evaluation
  checks that the shipped file was built from tune images;
* ``head_pose.landmarks_yaw_above_deg`` (where the detector's five landmarks take over the
  saturating mesh yaw) and ``face_mesh.max_crop_turn_deg``, by the rules in their functions;
* the alert limits (HEAD_TURNED, LOOKING_DOWN, LOOKING_UP and the three of GAZE_AWAY). Rule:
  per limit, the smallest value on a 5-deg grid that at most 1 % of the tune faces labelled
  as looking at the screen (|yaw| <= 15 and |pitch| <= 15) exceed, the angle measured by the
  pipeline (head pose, or head + eyes for GAZE_AWAY). That is the most sensitive limit that
  leaves students looking at their screen alone.

Everything else is measured on the **report** split, with the chosen limits: head-pose MAE
(95 % bootstrap interval over persons, or images for AFLW2000-3D) against the weak 5-point
floor from the MANIFEST; head + eyes against the Pointing'04 labels (which include the eyes'
share of the turn); how often each alert fires per labelled direction; geometric consistency
(a mirrored image flips yaw, roll and the iris offset and keeps pitch; turning the image by
+-15 deg changes roll by that much); EYES_CLOSED, MOUTH_OPEN and distance on the report
persons' LFW faces (no labels: how often the alerts fire, and that doubling a face's size
halves its distance); the time the mesh analyzers add per face.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from proctor.analyzers.base import Claim
from proctor.analyzers.distance import Distance, DistanceResult
from proctor.analyzers.face_mesh import FaceMeshResult
from proctor.analyzers.faces import FacesResult
from proctor.analyzers.gaze import Gaze, GazeResult
from proctor.analyzers.head_pose import HeadPoseAnalyzer, HeadPoseResult, combined_yaw
from proctor.analyzers.mouth import MouthResult
from proctor.eval.cli import EvalReport, eval_main
from proctor.eval.data import (
    GREY,
    HeadposeImage,
    headpose_images,
    headpose_split,
    in_webcam_frame,
    lfw_split,
    read_image,
)
from proctor.eval.splits import Split
from proctor.eval.stats import Estimate, Rate, by_units
from proctor.gallery import Gallery
from proctor.geometry.mouth import mouth_open_ratio
from proctor.geometry.pose import (
    HeadPose,
    camera_matrix,
    pose_from_matrix,
    ray_rotation,
    rotation_matrix,
)
from proctor.models.landmarks.reference import load_reference
from proctor.pipeline import Pipeline
from proctor.services import build_pipeline
from proctor.settings import (
    FaceMeshSettings,
    GazeSettings,
    HeadPoseSettings,
    MouthSettings,
    Settings,
)

ANALYZERS = ["faces", "face_mesh", "head_pose", "gaze", "mouth", "distance"]
MODERATE = "pointing04 |yaw|<=45 & |pitch|<=30"
#: What each frame is analyzed for (with what they require: faces, face_mesh).
MESH_ANALYZERS = ("head_pose", "gaze", "mouth", "distance")
TIMED = ("face_mesh", *MESH_ANALYZERS)
#: The 5-point floor from ``headpose/MANIFEST.md`` (YuNet 5 points -> solvePnP), MAE
#: yaw / pitch / roll, measured on all dev images (both splits together).
FLOOR: dict[str, tuple[float, float, float | None]] = {
    "pointing04": (15.41, 30.65, None),
    MODERATE: (7.86, 18.88, None),
    "aflw2000-3d": (4.43, 17.69, 11.23),
}
#: Labels within this many degrees of the camera (yaw and pitch) count as looking at the
#: screen; the alert limits are set so these faces rarely raise an alert.
AT_SCREEN_DEG = 15.0
MAX_AT_SCREEN_ALERTS = 0.01
LIMIT_GRID = tuple(float(v) for v in range(5, 91, 5))
CROP_TURN_GRID = (5.0, 10.0, 15.0, 20.0, 30.0, 180.0)
#: Labelled directions an alert should fire on, for the hit rates.
AWAY_YAW_DEG = 45.0
AWAY_PITCH_DEG = 30.0
ROTATION_DEG = 15.0
#: Height of an LFW face crop placed in a 640x480 frame for the eyes/mouth/distance checks.
FACE_PX = 160
#: The pose and gaze alerts (what the off-centre, camera-height and desk checks count).
POSE_CODES = frozenset({"HEAD_TURNED", "LOOKING_DOWN", "LOOKING_UP", "GAZE_AWAY"})
#: Frame the off-centre and camera-height cases are rendered in (the 384x288 Pointing'04
#: image in its middle, so a turned camera still sees the whole face), at the default field
#: of view.
CAMERA_CANVAS = (960, 720)
#: Camera turns (right, down; degrees) rendered for the webcam-geometry cases: turned right,
#: the face sits off-centre to the left; turned down, it sits high in the frame, as under a
#: laptop camera below the eyes.
CAMERA_CASES: dict[str, tuple[float, float]] = {
    "centred (control)": (0.0, 0.0),
    **{f"off-centre: camera turned {a:+.0f} deg": (a, 0.0) for a in (-25, -20, -10, 10, 20, 25)},
    **{f"camera height: camera tilted {b:.0f} deg down": (0.0, b) for b in (10, 20)},
}
#: Grid for ``head_pose.landmarks_yaw_above_deg`` (90: the mesh's yaw only).
LANDMARKS_YAW_GRID = (30.0, 35.0, 40.0, 45.0, 50.0, 55.0, 60.0, 90.0)
MESH_ONLY = {"head_pose": {"landmarks_yaw_above_deg": 90.0}}


@dataclass(frozen=True)
class Measured:
    """What the pipeline said about the primary face of one image."""

    face_found: bool
    pose: HeadPose | None  # relative to the line from the camera to the face
    source: str | None  # "mesh" or "landmarks" (the detector's five points)
    optical: HeadPose | None  # the same rotation read about the camera's optical axis
    landmark_yaw: float | None  # yaw from the detector's five landmarks alone
    mouth_raw: float | None  # the mouth ratio before the pose correction
    mouth_ratio: float | None  # the pose-corrected ratio the analyzer reports
    gaze: Gaze | None  # None when not meshed or the eyes are closed
    eyes_closed: bool | None
    mouth_open: bool
    distance: Distance | None
    alerts: frozenset[str]
    timings_ms: dict[str, float]


def head_angles(m: Measured) -> tuple[float, float] | None:
    """Yaw and pitch of the head, when measured."""
    return None if m.pose is None else (m.pose.yaw_deg, m.pose.pitch_deg)


def gaze_angles(m: Measured) -> tuple[float, float] | None:
    """Yaw and pitch of head + eyes, when measured."""
    return None if m.gaze is None else (m.gaze.yaw_deg, m.gaze.pitch_deg)


@dataclass(frozen=True)
class Limit:
    """One alert limit: the setting, its alert, and how far beyond zero a face is in the
    direction it bounds (the alert fires when that exceeds the limit, as in the analyzers)."""

    section: str  # "head_pose" or "gaze"
    field: str
    code: str
    angles: Callable[[Measured], tuple[float, float] | None]
    beyond: Callable[[tuple[float, float]], float]  # (yaw, pitch) -> degrees that way

    def angle(self, m: Measured) -> float | None:
        angles = self.angles(m)
        return None if angles is None else self.beyond(angles)


def _sideways(a: tuple[float, float]) -> float:
    return abs(a[0])


def _down(a: tuple[float, float]) -> float:
    return -a[1]


def _up(a: tuple[float, float]) -> float:
    return a[1]


LIMITS = (
    Limit("head_pose", "max_yaw_deg", "HEAD_TURNED", head_angles, _sideways),
    Limit("head_pose", "max_pitch_down_deg", "LOOKING_DOWN", head_angles, _down),
    Limit("head_pose", "max_pitch_up_deg", "LOOKING_UP", head_angles, _up),
    Limit("gaze", "max_yaw_deg", "GAZE_AWAY", gaze_angles, _sideways),
    Limit("gaze", "max_pitch_down_deg", "GAZE_AWAY", gaze_angles, _down),
    Limit("gaze", "max_pitch_up_deg", "GAZE_AWAY", gaze_angles, _up),
)


def _pointing04(
    x: HeadposeImage, yaw: Callable[[float], bool], pitch: Callable[[float], bool]
) -> bool:
    return x.dataset == "pointing04" and yaw(abs(x.truth[0])) and pitch(x.truth[1])


def at_screen(x: HeadposeImage) -> bool:
    return _pointing04(x, lambda y: y <= AT_SCREEN_DEG, lambda p: abs(p) <= AT_SCREEN_DEG)


def turned(x: HeadposeImage) -> bool:
    return _pointing04(x, lambda y: y >= AWAY_YAW_DEG, lambda p: abs(p) <= AT_SCREEN_DEG)


def down(x: HeadposeImage) -> bool:
    return _pointing04(x, lambda y: y <= AT_SCREEN_DEG, lambda p: p <= -AWAY_PITCH_DEG)


def up(x: HeadposeImage) -> bool:
    return _pointing04(x, lambda y: y <= AT_SCREEN_DEG, lambda p: p >= AWAY_PITCH_DEG)


#: Labelled sets the alert table reads, by title.
LABEL_SETS: dict[str, Callable[[HeadposeImage], bool]] = {
    f"at the screen (\\|yaw\\|, \\|pitch\\| <= {AT_SCREEN_DEG:.0f})": at_screen,
    f"turned (\\|yaw\\| >= {AWAY_YAW_DEG:.0f})": turned,
    f"down (pitch <= -{AWAY_PITCH_DEG:.0f})": down,
    f"up (pitch >= +{AWAY_PITCH_DEG:.0f})": up,
}


def load_pipeline(models_dir: Path, **overrides: object) -> Pipeline:
    settings = Settings(models_dir=models_dir, analyzers=ANALYZERS, **overrides)
    pipeline = build_pipeline(settings)
    missing = [name for name in ANALYZERS if pipeline.get(name) is None]
    if missing:
        raise SystemExit(f"analyzers not loaded: {[pipeline.status[n].error for n in missing]}")
    return pipeline


def measure(pipeline: Pipeline, image: np.ndarray) -> Measured:
    """The pipeline's one entry point on ``image``, read from its typed results."""
    empty = Gallery(pipeline.settings.face_embedder, 0)
    analysis = pipeline.analyze(image, Claim(), empty, only=MESH_ANALYZERS)
    ctx, response = analysis.context, analysis.response
    pose = ctx.result("head_pose", HeadPoseResult).primary
    eyes = ctx.result("gaze", GazeResult).primary
    distances = ctx.result("distance", DistanceResult).distances
    faces = ctx.result("faces", FacesResult).faces
    mesh = ctx.result("face_mesh", FaceMeshResult).primary
    mouth = ctx.result("mouth", MouthResult).ratios
    landmark_yaw = None
    if pose is not None and faces.landmarks is not None:
        analyzer = pipeline.get("head_pose")
        assert isinstance(analyzer, HeadPoseAnalyzer)
        height, width = ctx.frame.image.shape[:2]
        camera = camera_matrix(width, height, pose.fov_deg)
        landmark_yaw = analyzer.landmark_pose(faces.landmarks[0], camera).yaw_deg
    return Measured(
        face_found=len(faces) > 0,
        pose=None if pose is None else pose.angles,
        source=None if pose is None else pose.source,
        optical=None
        if pose is None
        else pose_from_matrix(ray_rotation(pose.position_mm) @ rotation_matrix(pose.angles)),
        landmark_yaw=landmark_yaw,
        mouth_raw=None if mesh is None else mouth_open_ratio(mesh.mesh),
        mouth_ratio=mouth[0] if mouth else None,
        gaze=None if eyes is None else eyes.gaze,
        eyes_closed=None if eyes is None else eyes.closed,
        mouth_open=response.mouth_open,
        distance=distances[0] if distances else None,
        alerts=frozenset(alert.code for alert in response.alerts),
        timings_ms={name: ctx.timings_ms[name] for name in TIMED},
    )


def measure_all(pipeline: Pipeline, images: list[HeadposeImage]) -> dict[str, Measured]:
    return {x.name: measure(pipeline, read_image(x.path)) for x in images}


def smallest_limit(angles: list[float], max_share: float = MAX_AT_SCREEN_ALERTS) -> float:
    """The smallest grid value that at most ``max_share`` of ``angles`` exceed (an alert
    fires when the angle is beyond the limit, as in the analyzers)."""
    allowed = math.floor(max_share * len(angles))
    for value in LIMIT_GRID:
        if sum(angle > value for angle in angles) <= allowed:
            return value
    return LIMIT_GRID[-1]


def at_screen_angles(
    limit: Limit, images: list[HeadposeImage], found: dict[str, Measured]
) -> list[float]:
    angles = (limit.angle(found[x.name]) for x in images if at_screen(x))
    return [angle for angle in angles if angle is not None]


def choose_limits(
    images: list[HeadposeImage], found: dict[str, Measured]
) -> dict[str, dict[str, float]]:
    """The alert limits by the rule, as settings sections (``{"head_pose": {...}, ...}``)."""
    chosen: dict[str, dict[str, float]] = {"head_pose": {}, "gaze": {}}
    for limit in LIMITS:
        chosen[limit.section][limit.field] = smallest_limit(at_screen_angles(limit, images, found))
    return chosen


def _md(text: str) -> str:
    """Text for a Markdown table cell (pipes escaped)."""
    return text.replace("|", "\\|")


def _units(images: list[HeadposeImage]) -> str:
    persons = sorted(
        {x.unit.removeprefix("pointing04_") for x in images if x.dataset == "pointing04"}
    )
    aflw = sum(x.dataset == "aflw2000-3d" for x in images)
    return f"Pointing'04 {', '.join(persons)}; {aflw} AFLW2000-3D images"


def _per_unit(
    rows: list[tuple[HeadposeImage, np.ndarray]],
) -> dict[str, np.ndarray]:
    """Rows grouped by the image's unit (person, or AFLW2000 image), stacked."""
    grouped: dict[str, list[np.ndarray]] = {}
    for image, values in rows:
        grouped.setdefault(image.unit, []).append(values)
    return {unit: np.stack(values) for unit, values in grouped.items()}


def _mae(groups: dict[str, np.ndarray], column: int) -> Estimate:
    return by_units({u: np.abs(v[:, column]) for u, v in groups.items()})


MAE_SUBSETS: dict[str, Callable[[HeadposeImage], bool]] = {
    "pointing04": lambda x: x.dataset == "pointing04",
    MODERATE: lambda x: (
        x.dataset == "pointing04" and abs(x.truth[0]) <= 45 and abs(x.truth[1]) <= 30
    ),
    "aflw2000-3d": lambda x: x.dataset == "aflw2000-3d",
    "aflw2000-3d |yaw|<=50": lambda x: x.dataset == "aflw2000-3d" and abs(x.truth[0]) <= 50,
}


def pose_errors(
    images: list[HeadposeImage], found: dict[str, Measured], keep: Callable[[HeadposeImage], bool]
) -> dict[str, np.ndarray]:
    """Per unit, (yaw, pitch, roll) errors of the scored images (roll nan when unlabelled)."""
    rows = []
    for x in images:
        pose = found[x.name].pose
        if keep(x) and pose is not None:
            error = np.subtract((pose.yaw_deg, pose.pitch_deg, pose.roll_deg), x.truth)
            rows.append((x, np.where([True, True, x.roll_annotated], error, np.nan)))
    return _per_unit(rows)


def pose_table(
    images: list[HeadposeImage], found: dict[str, Measured]
) -> tuple[list[str], dict[str, tuple[Estimate, Estimate, Estimate]]]:
    """MAE per subset; also returns the estimates for the summary."""
    lines = [
        "| subset | images | units | no face | no mesh (posed from 5 landmarks) | MAE yaw "
        "| MAE pitch | MAE roll "
        "| floor (all dev images): yaw / pitch / roll |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    maes = {}
    for title, keep in MAE_SUBSETS.items():
        chosen = [x for x in images if keep(x)]
        groups = pose_errors(images, found, keep)
        no_face = sum(not found[x.name].face_found for x in chosen)
        roll = {u: v[~np.isnan(v[:, 2])] for u, v in groups.items()}
        mae = (_mae(groups, 0), _mae(groups, 1), _mae({u: v for u, v in roll.items() if len(v)}, 2))
        maes[title] = mae
        floor = FLOOR.get(title)
        floor_text = (
            "" if floor is None else " / ".join("n/a" if v is None else f"{v:.2f}" for v in floor)
        )
        lines.append(
            f"| {_md(title)} | {len(chosen)} | {len(groups)} | {no_face} | "
            f"{sum(found[x.name].source == 'landmarks' for x in chosen)} | "
            + " | ".join(m.format(2, units=False) for m in mae)
            + f" | {floor_text} |"
        )
    return lines, maes


def _slope(rows: np.ndarray) -> float:
    return float(np.polyfit(rows[:, 0], rows[:, 1], 1)[0])


def gaze_table(images: list[HeadposeImage], found: dict[str, Measured]) -> list[str]:
    """Head alone vs head + eyes against the Pointing'04 look-at directions."""
    subset = [
        x
        for x in images
        if MAE_SUBSETS[MODERATE](x)
        and found[x.name].gaze is not None
        and found[x.name].pose is not None
    ]
    lines = [
        f"| Pointing'04, \\|yaw\\|<=45 & \\|pitch\\|<=30, eyes open ({len(subset)} images, "
        f"{len({x.unit for x in subset})} persons) | MAE yaw | MAE pitch | slope yaw | "
        "slope pitch |",
        "|---|---|---|---|---|",
    ]
    estimates = {"head pose alone": head_angles, "gaze = head + eyes": gaze_angles}
    for title, angles in estimates.items():
        rows = []
        for x in subset:
            yaw, pitch = angles(found[x.name]) or (math.nan, math.nan)
            rows.append((x, np.array([x.truth[0], yaw, x.truth[1], pitch])))
        groups = _per_unit(rows)  # per image: label yaw, yaw, label pitch, pitch
        cells = [
            by_units({u: np.abs(v[:, 1] - v[:, 0]) for u, v in groups.items()}),
            by_units({u: np.abs(v[:, 3] - v[:, 2]) for u, v in groups.items()}),
            by_units({u: v[:, 0:2] for u, v in groups.items()}, _slope),
            by_units({u: v[:, 2:4] for u, v in groups.items()}, _slope),
        ]
        lines.append(f"| {title} | " + " | ".join(c.format(2, units=False) for c in cells) + " |")
    return lines


def limits_table(
    images: list[HeadposeImage], found: dict[str, Measured], chosen: dict[str, dict[str, float]]
) -> list[str]:
    defaults = {"head_pose": HeadPoseSettings(), "gaze": GazeSettings()}
    lines = [
        "| setting | alert | default | chosen on tune | tune faces at the screen beyond it |",
        "|---|---|---|---|---|",
    ]
    for limit in LIMITS:
        angles = at_screen_angles(limit, images, found)
        value = chosen[limit.section][limit.field]
        lines.append(
            f"| `{limit.section}.{limit.field}` | {limit.code} | "
            f"{getattr(defaults[limit.section], limit.field):g} | **{value:g}** | "
            f"{Rate(sum(a > value for a in angles), len(angles))} |"
        )
    return lines


ALERTS = ("HEAD_TURNED", "LOOKING_DOWN", "LOOKING_UP", "GAZE_AWAY", "FACE_OCCLUDED")


def _fired(images: list[HeadposeImage], found: dict[str, Measured], code: str) -> Rate:
    return Rate(sum(code in found[x.name].alerts for x in images), len(images))


def alert_table(images: list[HeadposeImage], found: dict[str, Measured]) -> list[str]:
    """Each alert on each labelled set (Pointing'04 images with a face found)."""
    seen = [x for x in images if x.dataset == "pointing04" and found[x.name].face_found]
    sets = {title: [x for x in seen if keep(x)] for title, keep in LABEL_SETS.items()}
    lines = [
        "| alert | " + " | ".join(f"{t} ({len(s)} images)" for t, s in sets.items()) + " |",
        "|---|" + "---|" * len(sets),
    ]
    for code in ALERTS:
        lines.append(
            f"| {code} | " + " | ".join(str(_fired(s, found, code)) for s in sets.values()) + " |"
        )
    return lines


def direction_table(images: list[HeadposeImage], found: dict[str, Measured]) -> list[str]:
    """How often each alert fires per labelled Pointing'04 direction (faces found)."""
    seen = [x for x in images if x.dataset == "pointing04" and found[x.name].face_found]
    groups = [
        (
            f"\\|yaw\\| {yaw}, pitch 0",
            [x for x in seen if abs(x.truth[0]) == yaw and x.truth[1] == 0],
        )
        for yaw in (0, 15, 30, 45, 60, 75, 90)
    ] + [
        (f"yaw 0, pitch {pitch:+d}", [x for x in seen if x.truth[0] == 0 and x.truth[1] == pitch])
        for pitch in (-60, -30, -15, 15, 30, 60)
    ]
    lines = [
        "| Pointing'04 label | images | " + " | ".join(ALERTS) + " |",
        "|---|---|" + "---|" * len(ALERTS),
    ]
    for title, group in groups:
        cells = [_fired(group, found, code).percent(0) for code in ALERTS]
        lines.append(f"| {title} | {len(group)} | " + " | ".join(cells) + " |")
    return lines


def mirrored(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def rotated(image: np.ndarray, clockwise_deg: float) -> np.ndarray:
    """The image turned clockwise (as seen) on a canvas large enough to keep every pixel."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), -clockwise_deg, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(height * sin + width * cos), int(height * cos + width * sin)
    matrix[:, 2] += ((new_w - width) / 2, (new_h - height) / 2)
    return cv2.warpAffine(image, matrix, (new_w, new_h), borderValue=(127, 127, 127))


def turned_pose(pose: HeadPose, clockwise_deg: float) -> HeadPose:
    """The pose a head has after the image turns: the same rotation, then a roll about the
    camera axis (exactly a roll change for a frontal face, a mix for a turned one)."""
    return pose_from_matrix(
        rotation_matrix(HeadPose(0.0, 0.0, clockwise_deg)) @ rotation_matrix(pose)
    )


def _angles(pose: HeadPose) -> np.ndarray:
    return np.array([pose.yaw_deg, pose.pitch_deg, pose.roll_deg])


def consistency_table(
    pipeline: Pipeline, images: list[HeadposeImage], found: dict[str, Measured]
) -> list[str]:
    """Mirror and in-plane rotation checks on the faces with moderate labelled pose."""
    subset = [
        x
        for x in images
        if found[x.name].pose is not None and abs(x.truth[0]) <= 45 and abs(x.truth[1]) <= 30
    ]
    flips: list[bool] = []
    iris_flips: list[bool] = []
    # Per image: |yaw + m. yaw|, |roll + m. roll|, |pitch - m. pitch|, |iris_x + m. iris_x|.
    mirror_rows: list[tuple[HeadposeImage, np.ndarray]] = []
    # Per image and turn: roll change less the turn, then |pose - exactly turned pose|.
    turn_rows: list[tuple[HeadposeImage, np.ndarray]] = []
    for x in subset:
        image = read_image(x.path)
        base = found[x.name]
        assert base.pose is not None
        mirror = measure(pipeline, mirrored(image))
        if mirror.pose is not None:
            yaw, pitch, roll = _angles(base.pose)
            m_yaw, m_pitch, m_roll = _angles(mirror.pose)
            iris = np.nan
            if base.gaze is not None and mirror.gaze is not None:
                iris = abs(base.gaze.iris_x + mirror.gaze.iris_x)
                if abs(base.gaze.iris_x) > 0.05:
                    iris_flips.append(np.sign(base.gaze.iris_x) != np.sign(mirror.gaze.iris_x))
            mirror_rows.append(
                (x, np.array([abs(yaw + m_yaw), abs(roll + m_roll), abs(pitch - m_pitch), iris]))
            )
            if abs(yaw) > 5:
                flips.append(np.sign(yaw) != np.sign(m_yaw))
        for angle in (ROTATION_DEG, -ROTATION_DEG):
            after = measure(pipeline, rotated(image, angle)).pose
            if after is not None:
                change = after.roll_deg - base.pose.roll_deg - angle
                off = np.abs(_angles(after) - _angles(turned_pose(base.pose, angle)))
                turn_rows.append((x, np.array([change, *off])))
    mirror_units, turn_units = _per_unit(mirror_rows), _per_unit(turn_rows)

    def mean_of(groups: dict[str, np.ndarray], column: int, digits: int = 2) -> str:
        values = {u: v[:, column][~np.isnan(v[:, column])] for u, v in groups.items()}
        return by_units(values).format(digits, units=False)

    def median_of(column: int) -> str:
        values = {u: v[:, column] for u, v in turn_units.items()}
        return by_units(values, np.median).format(2, units=False)

    return [
        f"| check ({len(subset)} faces with \\|yaw\\|<=45 & \\|pitch\\|<=30 labels, "
        f"{len({x.unit for x in subset})} units) | result (95% interval) |",
        "|---|---|",
        f"| mirror: yaw changes sign (faces with \\|yaw\\| > 5) | {Rate(sum(flips), len(flips))} |",
        f"| mirror: mean \\|yaw + mirrored yaw\\|, deg | {mean_of(mirror_units, 0)} |",
        f"| mirror: mean \\|roll + mirrored roll\\|, deg | {mean_of(mirror_units, 1)} |",
        f"| mirror: mean \\|pitch - mirrored pitch\\|, deg | {mean_of(mirror_units, 2)} |",
        "| mirror: horizontal iris offset changes sign (\\|iris_x\\| > 0.05) | "
        f"{Rate(sum(iris_flips), len(iris_flips))} |",
        "| mirror: mean \\|iris_x + mirrored iris_x\\|, half eye widths | "
        f"{mean_of(mirror_units, 3, 3)} |",
        f"| image turned +-{ROTATION_DEG:.0f} deg: median (roll change - turn), deg | "
        f"{median_of(0)} |",
        f"| image turned +-{ROTATION_DEG:.0f} deg: mean \\|roll change - turn\\|, deg | "
        f"{by_units({u: np.abs(v[:, 0]) for u, v in turn_units.items()}).format(2, units=False)} |",
        f"| image turned +-{ROTATION_DEG:.0f} deg: mean abs difference from the exactly turned "
        "pose, yaw / pitch / roll, deg | "
        + " / ".join(mean_of(turn_units, column) for column in (1, 2, 3))
        + " |",
    ]


def lfw_table(pipeline: Pipeline, photos: list[tuple[str, Path]]) -> list[str]:
    """Eyes, mouth and distance on LFW faces, each placed in a 640x480 frame at two sizes:
    doubling the face's size is what moving to half the distance looks like."""
    closed: list[bool] = []
    mouth: list[bool] = []
    both_iris: list[bool] = []
    ratios: dict[str, list[float]] = {}
    for person, path in photos:
        face = read_image(path)
        base = measure(pipeline, in_webcam_frame(face, FACE_PX))
        if base.eyes_closed is None:
            continue
        closed.append(base.eyes_closed)
        mouth.append(base.mouth_open)
        near = measure(pipeline, in_webcam_frame(face, 2 * FACE_PX))
        if base.distance is not None and near.distance is not None:
            ratios.setdefault(person, []).append(near.distance.cm / base.distance.cm)
            both_iris.append(base.distance.source == near.distance.source == "iris")
    ratio = by_units({p: np.array(r) for p, r in ratios.items()}, np.median)
    return [
        f"| LFW faces ({len(photos)} photos of {len({p for p, _ in photos})} persons, {FACE_PX} "
        f"px tall in 640x480; {len(closed)} meshed) | result (95% interval) |",
        "|---|---|",
        f"| EYES_CLOSED fires | {Rate(sum(closed), len(closed))} |",
        f"| MOUTH_OPEN fires | {Rate(sum(mouth), len(mouth))} |",
        "| distance with the face twice as large / as is, median (expected 0.500) | "
        f"{ratio.format(3, units=False)} |",
        f"| both distances from the iris | {Rate(sum(both_iris), len(both_iris))} |",
    ]


def reference_line(split: dict[Split, list[HeadposeImage]]) -> str:
    """Which images the shipped reference face came from, and whether they are all tune."""
    reference = load_reference()
    tune = {x.name for x in split["tune"]}
    outside = [name for name in reference.sources if name not in tune]
    if outside:
        print(f"WARNING: the shipped iris rest position was measured on non-tune images {outside}")
    return (
        f"Reference face (`tools/build_reference.py`): MediaPipe's canonical face model "
        f"(`{reference.points_source}`); iris rest position from {len(reference.sources)} "
        f"frontal images of the {reference.split} persons"
        + (f" (**not tune only: {', '.join(outside)}**)." if outside else "; no report image.")
    )


def mirror_disagreement(pipeline: Pipeline, images: list[HeadposeImage]) -> float:
    """Mean |iris_x + mirrored iris_x| (half eye widths): 0 when a mirrored face's eyes point
    exactly the other way, as they should."""
    sums = []
    for x in images:
        image = read_image(x.path)
        gaze, mirror = measure(pipeline, image).gaze, measure(pipeline, mirrored(image)).gaze
        if gaze is not None and mirror is not None:
            sums.append(abs(gaze.iris_x + mirror.iris_x))
    return float(np.mean(sums)) if sums else math.nan


def grid_choice(scores: dict[float, float], digits: int, header: str) -> tuple[float, list[str]]:
    """The grid value with the lowest score (rounded to ``digits``; ties to the larger value,
    the milder change) and its table: ``header``, then one row per value."""
    chosen = min(scores, key=lambda v: (round(scores[v], digits), -v))
    rows = [
        f"| {value:g} | {scores[value]:.{digits}f} |"
        + (" **chosen** |" if value == chosen else " |")
        for value in scores
    ]
    return chosen, [header, "|---|---|---|", *rows]


def choose_crop_turn(models_dir: Path, tune: list[HeadposeImage]) -> tuple[float, list[str]]:
    """``face_mesh.max_crop_turn_deg`` by its rule: on the tune faces turned 30 or 45 deg
    (pitch 0: turned enough for a detector's eye points to go astray, still meshed), the grid
    value with the most mirror-consistent gaze; ties to the larger value (fewer second
    passes). Returns the choice and its table rows."""
    turned_faces = [
        x
        for x in tune
        if x.dataset == "pointing04" and x.truth[1] == 0 and abs(x.truth[0]) in (30, 45)
    ]
    scores = {
        value: mirror_disagreement(
            load_pipeline(models_dir, face_mesh={"max_crop_turn_deg": value}), turned_faces
        )
        for value in CROP_TURN_GRID
    }
    return grid_choice(
        scores,
        3,
        f"| `face_mesh.max_crop_turn_deg` ({len(turned_faces)} tune faces turned 30-45 deg) | "
        "mean \\|iris_x + mirrored iris_x\\| | |",
    )


def pose_codes(m: Measured) -> frozenset[str]:
    """The pose and gaze alerts the pipeline raised."""
    return m.alerts & POSE_CODES


def optical_axis_codes(m: Measured, chosen: dict[str, dict[str, float]]) -> frozenset[str]:
    """The pose and gaze alerts as the pipeline raised them before angles were measured from
    the line to the face: the same limits on the same rotation read about the optical axis
    (the eyes' share of the gaze unchanged), and HEAD_TURNED for a face the mesh could not
    read."""
    if not m.face_found:
        return frozenset()
    if m.source != "mesh" or m.pose is None or m.optical is None:
        return frozenset({"HEAD_TURNED"})
    gaze = m.gaze
    if gaze is not None:
        gaze = replace(
            gaze,
            yaw_deg=gaze.yaw_deg + m.optical.yaw_deg - m.pose.yaw_deg,
            pitch_deg=gaze.pitch_deg + m.optical.pitch_deg - m.pose.pitch_deg,
        )
    before = replace(m, pose=m.optical, gaze=gaze)
    return frozenset(
        limit.code
        for limit in LIMITS
        if (angle := limit.angle(before)) is not None and angle > chosen[limit.section][limit.field]
    )


def camera_turned(
    image: np.ndarray, right_deg: float, down_deg: float, fov_deg: float
) -> np.ndarray:
    """``image`` in the middle of a ``CAMERA_CANVAS`` frame, as a camera of that field of
    view sees it after turning about its own centre by ``right_deg`` to the right and
    ``down_deg`` down. For a pure camera rotation R the view is exactly the homography
    K R^T K^-1: a face that looked into the camera still does, now off-centre (to the left
    when the camera turns right, high in the frame when it tilts down)."""
    width, height = CAMERA_CANVAS
    canvas = np.full((height, width, 3), GREY, np.uint8)
    h, w = image.shape[:2]
    top, left = (height - h) // 2, (width - w) // 2
    canvas[top : top + h, left : left + w] = image
    k = camera_matrix(width, height, fov_deg)
    right, down = math.radians(right_deg), math.radians(down_deg)
    aim = np.array(
        [math.sin(right) * math.cos(down), math.sin(down), math.cos(right) * math.cos(down)]
    )
    homography = k @ ray_rotation(aim).T @ np.linalg.inv(k)
    return cv2.warpPerspective(canvas, homography, (width, height), borderValue=GREY)


def camera_table(
    pipeline: Pipeline, images: list[HeadposeImage], chosen: dict[str, dict[str, float]]
) -> tuple[list[str], dict[str, tuple[Rate, Rate]]]:
    """Pose and gaze alerts on the frontal faces rendered off-centre and high in the frame,
    before (angles about the optical axis) and after (about the line to the face); also
    returns the pooled off-centre and camera-height rates for the summary."""
    fov = pipeline.settings.camera.horizontal_fov_deg
    frontal = [x for x in images if x.frontal]
    pooled: dict[str, list[tuple[bool, bool]]] = {"off-centre": [], "camera height": []}
    lines = [
        f"| case ({len(frontal)} frontal images, {len({x.unit for x in frontal})} persons) "
        "| faces found | mean \\|yaw\\| / \\|pitch\\| before, deg | after, deg "
        "| any pose/gaze alert before | after | alerts after |",
        "|---|---|---|---|---|---|---|",
    ]
    for title, (right, down) in CAMERA_CASES.items():
        found = [
            measure(pipeline, camera_turned(read_image(x.path), right, down, fov)) for x in frontal
        ]
        seen = [m for m in found if m.face_found]
        rows = [(bool(optical_axis_codes(m, chosen)), bool(pose_codes(m))) for m in seen]
        for kind, values in pooled.items():
            if title.startswith(kind):
                values.extend(rows)
        after_codes = sorted({c for m in seen for c in pose_codes(m)})
        posed = [m for m in seen if m.pose is not None and m.optical is not None]
        angles = [
            " / ".join(
                f"{np.mean([abs(getattr(getattr(m, which), a)) for m in posed]):.1f}"
                for a in ("yaw_deg", "pitch_deg")
            )
            for which in ("optical", "pose")
        ]
        lines.append(
            f"| {title} | {len(seen)}/{len(found)} | {angles[0]} | {angles[1]} "
            f"| {Rate(sum(b for b, _ in rows), len(rows))} "
            f"| {Rate(sum(a for _, a in rows), len(rows))} | {', '.join(after_codes) or '-'} |"
        )
    rates = {
        kind: (Rate(sum(b for b, _ in rows), len(rows)), Rate(sum(a for _, a in rows), len(rows)))
        for kind, rows in pooled.items()
    }
    for kind, (before, after) in rates.items():
        lines.append(f"| **all {kind} cases** | {before.n} | | | {before} | {after} | |")
    return lines, rates


def _wide_yaw_subset(x: HeadposeImage) -> bool:
    """Faces whose labelled pitch is level (Pointing'04 |pitch| <= 15) and AFLW2000-3D: the
    images the five-point yaw is compared on."""
    return x.dataset == "aflw2000-3d" or abs(x.truth[1]) <= AT_SCREEN_DEG


def _yaw_errors(
    images: list[HeadposeImage], found: dict[str, Measured], above_deg: float
) -> list[tuple[HeadposeImage, float]]:
    """|yaw error| per measured face with the landmarks taking over above ``above_deg``
    (``found`` measured with the mesh's yaw only); faces without a mesh get the five-point
    yaw, as in the pipeline."""
    rows = []
    for x in images:
        m = found[x.name]
        if m.pose is None:
            continue
        if m.source == "mesh" and m.landmark_yaw is not None:
            yaw = combined_yaw(m.pose.yaw_deg, m.landmark_yaw, above_deg)
        else:
            yaw = m.pose.yaw_deg
        rows.append((x, abs(yaw - x.truth[0])))
    return rows


def choose_landmarks_yaw(models_dir: Path, tune: list[HeadposeImage]) -> tuple[float, list[str]]:
    """``head_pose.landmarks_yaw_above_deg`` by its rule: the grid value with the smallest
    mean |yaw error| over the tune faces of ``_wide_yaw_subset`` (every labelled yaw);
    ties to the larger value (the mesh's yaw more often)."""
    subset = [x for x in tune if _wide_yaw_subset(x)]
    found = measure_all(load_pipeline(models_dir, **MESH_ONLY), subset)
    scores = {
        value: float(np.mean([e for _, e in _yaw_errors(subset, found, value)]))
        for value in LANDMARKS_YAW_GRID
    }
    return grid_choice(
        scores,
        2,
        f"| `head_pose.landmarks_yaw_above_deg` ({len(subset)} tune faces, every yaw) "
        "| mean \\|yaw error\\|, deg | |",
    )


def five_point_table(models_dir: Path, images: list[HeadposeImage], above_deg: float) -> list[str]:
    """Yaw MAE of the mesh alone, the five landmarks alone, and the two combined (the
    pipeline), by labelled |yaw|, on the report faces of ``_wide_yaw_subset``."""
    subset = [x for x in images if _wide_yaw_subset(x)]
    found = measure_all(load_pipeline(models_dir, **MESH_ONLY), subset)
    bands = {
        "\\|yaw\\| <= 45": lambda x: abs(x.truth[0]) <= 45,
        "\\|yaw\\| > 45": lambda x: abs(x.truth[0]) > 45,
        "\\|yaw\\| >= 75": lambda x: abs(x.truth[0]) >= 75,
    }
    lines = [
        "| labelled yaw (report: Pointing'04 \\|pitch\\| <= 15 and AFLW2000-3D) | faces | no mesh "
        "| mesh alone | five landmarks alone | combined (shipped) |",
        "|---|---|---|---|---|---|",
    ]
    for title, keep in bands.items():
        chosen = [x for x in subset if keep(x)]
        meshed = [x for x in chosen if found[x.name].source == "mesh"]

        def mae(rows: list[tuple[HeadposeImage, float]]) -> str:
            groups: dict[str, list[float]] = {}
            for x, error in rows:
                groups.setdefault(x.unit, []).append(error)
            return by_units({u: np.array(v) for u, v in groups.items()}).format(1, units=False)

        five = [
            (x, abs(found[x.name].landmark_yaw - x.truth[0]))  # type: ignore[operator]
            for x in chosen
            if found[x.name].landmark_yaw is not None
        ]
        lines.append(
            f"| {title} | {len(chosen)} | {len(chosen) - len(meshed)} "
            f"| {mae(_yaw_errors(meshed, found, 90.0))} | {mae(five)} "
            f"| {mae(_yaw_errors(chosen, found, above_deg))} |"
        )
    return lines


def mouth_table(images: list[HeadposeImage], found: dict[str, Measured]) -> list[str]:
    """The closed-mouth ratio across labelled turns (Pointing'04, pitch 0; the subjects keep
    their mouths closed), before and after the pose correction: median with an interval over
    persons."""
    lines = [
        "| Pointing'04 \\|yaw\\|, pitch 0 | faces | median ratio, image | median ratio, "
        "pose-corrected | MOUTH_OPEN image / corrected |",
        "|---|---|---|---|---|",
    ]
    threshold = MouthSettings().open_ratio
    for yaw in (0, 15, 30, 45, 60, 75, 90):
        group = [
            x
            for x in images
            if x.dataset == "pointing04"
            and abs(x.truth[0]) == yaw
            and x.truth[1] == 0
            and found[x.name].mouth_ratio is not None
        ]
        raw = {x.unit: [] for x in group}
        fixed = {x.unit: [] for x in group}
        for x in group:
            raw[x.unit].append(found[x.name].mouth_raw)
            fixed[x.unit].append(found[x.name].mouth_ratio)
        med = [
            by_units({u: np.array(v, np.float64) for u, v in d.items()}, np.median).format(
                3, units=False
            )
            for d in (raw, fixed)
        ]
        opened = [
            Rate(sum(v >= threshold for vs in d.values() for v in vs), len(group)).percent(0)
            for d in (raw, fixed)
        ]
        lines.append(f"| {yaw} | {len(group)} | {med[0]} | {med[1]} | {' / '.join(opened)} |")
    return lines


def desk_frames(eval_dir: Path) -> list[tuple[str, Path]]:
    """``(person, path)`` of every ``desk/`` frame (real webcams, people facing their
    screen)."""
    root = eval_dir / "desk" / "images"
    return [
        (person.name, path)
        for person in sorted(p for p in root.iterdir() if p.is_dir())
        for path in sorted(person.glob("*.jpg"))
    ]


def desk_table(
    pipeline: Pipeline, frames: list[tuple[str, Path]], chosen: dict[str, dict[str, float]]
) -> tuple[list[str], tuple[Estimate, Estimate]]:
    """Pose and gaze alerts on real webcam frames of people at their desks facing their
    screen, before and after: the share of each person's frames with an alert (mean over
    persons, interval over persons) and the persons with any."""
    by_person: dict[str, list[tuple[bool, bool]]] = {}
    codes: dict[str, int] = {}
    for person, path in frames:
        m = measure(pipeline, read_image(path))
        if not m.face_found:
            continue
        by_person.setdefault(person, []).append(
            (bool(optical_axis_codes(m, chosen)), bool(pose_codes(m)))
        )
        for code in pose_codes(m) | (m.alerts & {"FACE_OCCLUDED"}):
            codes[code] = codes.get(code, 0) + 1
    shares = []
    lines = [
        f"| desk/ ({sum(map(len, by_person.values()))} frames with a face, {len(by_person)} "
        "persons) | before (optical axis) | after (line to the face) |",
        "|---|---|---|",
    ]
    for column in (0, 1):
        per_person = {
            p: np.array([r[column] for r in rows], np.float64) for p, rows in by_person.items()
        }
        shares.append(by_units({p: np.array([v.mean()]) for p, v in per_person.items()}))
    any_alert = [
        Rate(sum(any(r[c] for r in rows) for rows in by_person.values()), len(by_person))
        for c in (0, 1)
    ]
    lines += [
        "| share of a person's frames with a pose/gaze alert, mean over persons | "
        + " | ".join(e.format(3, units=False) for e in shares)
        + " |",
        f"| persons with any pose/gaze alert | {any_alert[0]} | {any_alert[1]} |",
        "| frames per alert code, after | | "
        + (", ".join(f"{c} {n}" for c, n in sorted(codes.items())) or "none")
        + " |",
    ]
    return lines, (shares[0], shares[1])


def run(args: argparse.Namespace) -> EvalReport:
    split = headpose_split(headpose_images(args.eval_dir))
    tune, report = split["tune"], split["report"]
    crop_turn, crop_rows = choose_crop_turn(args.models_dir, tune)
    if crop_turn != FaceMeshSettings().max_crop_turn_deg:
        print(
            f"WARNING: the tune split chooses face_mesh.max_crop_turn_deg {crop_turn:g}, "
            f"not the default {FaceMeshSettings().max_crop_turn_deg:g}"
        )
    landmarks_yaw, landmarks_rows = choose_landmarks_yaw(args.models_dir, tune)
    if landmarks_yaw != HeadPoseSettings().landmarks_yaw_above_deg:
        print(
            f"WARNING: the tune split chooses head_pose.landmarks_yaw_above_deg "
            f"{landmarks_yaw:g}, not the default {HeadPoseSettings().landmarks_yaw_above_deg:g}"
        )
    tune_found = measure_all(load_pipeline(args.models_dir), tune)
    chosen = choose_limits(tune, tune_found)
    defaults = {"head_pose": HeadPoseSettings().model_dump(), "gaze": GazeSettings().model_dump()}
    changed = [
        f"{section}.{name}: {defaults[section][name]:g} -> {value:g}"
        for section, values in chosen.items()
        for name, value in values.items()
        if defaults[section][name] != value
    ]
    if changed:
        print(
            "WARNING: the tune split chooses limits other than the defaults in "
            f"proctor/settings.py: {'; '.join(changed)}"
        )
    pipeline = load_pipeline(args.models_dir, **chosen)
    found = measure_all(pipeline, report)
    measured = [m for m in found.values() if m.pose is not None]
    latency = {name: statistics.median(m.timings_ms[name] for m in measured) for name in TIMED}
    total = statistics.median(sum(m.timings_ms.values()) for m in measured)
    pose_lines, maes = pose_table(report, found)
    camera_lines, camera_rates = camera_table(pipeline, report, chosen)
    desk_lines, desk_shares = desk_table(pipeline, desk_frames(args.eval_dir), chosen)
    lfw_report = lfw_split(args.eval_dir)["report"]
    details = [
        "Command: `python -m proctor.eval pose --write` (2-core CPU, load average "
        f"{os.getloadavg()[0]:.1f}).",
        "",
        f"Splits: tune = {_units(tune)}; report = {_units(report)}; LFW by person "
        f"({len({p for p, _ in lfw_report})} report persons). {reference_line(split)}",
        "",
        "Alert limits chosen on the tune split (rule: the smallest 5-deg grid value that at most "
        f"1% of the tune faces labelled at the screen exceed; {sum(map(at_screen, tune))} such "
        "images):",
        "",
        *limits_table(tune, tune_found, chosen),
        "",
        "The face mesh's second pass (the crop turned to the mesh's own eye line when the "
        "detector's eye points leave the face rolled by more than the limit inside its crop), "
        "limit chosen on the tune split by the most mirror-consistent gaze:",
        "",
        *crop_rows,
        "",
        "Head pose on the report split, primary face, MAE in degrees with a 95% bootstrap "
        "interval over units (persons; images for AFLW2000-3D); the floor is YuNet 5-point PnP "
        "from the MANIFEST, measured on all dev images, not on this split:",
        "",
        *pose_lines,
        "",
        "Angles are measured relative to the line from the camera to the face (a face that "
        "looks into the camera reads 0, 0 anywhere in the frame), not the optical axis. Webcam "
        f"geometry on the report split: each frontal Pointing'04 image (pan 0, tilt 0) placed "
        f"in the middle of a {CAMERA_CANVAS[0]}x{CAMERA_CANVAS[1]} frame and re-rendered as "
        "seen by the camera turned about its own centre (the homography K R^T K^-1 is exact "
        "for a camera rotation, at the default field of view): turned sideways the face sits "
        "off-centre, tilted down it sits high in the frame as under a laptop camera below the "
        "eyes; either way the subject still looks into the camera and should raise nothing. "
        "Before = the same measurements read about the optical axis (and HEAD_TURNED for a "
        "face the mesh cannot read), at the same limits:",
        "",
        *camera_lines,
        "",
        "Real webcam frames (`desk/`: 190 frames of 29 people seated at their own desks "
        "facing the screen, laptop or USB webcams mostly below eye level; a dev set, nothing "
        "chosen on it), pose and gaze alerts before and after:",
        "",
        *desk_lines,
        "",
        "Yaw beyond 45 deg: the mesh saturates near +-50-60 deg, a solve on the face "
        "detector's five landmarks against the same five points of the reference face does "
        "not. Combined: the five-point yaw where the mesh reads beyond "
        "`head_pose.landmarks_yaw_above_deg` and the five points read further the same way, "
        "and the whole five-point pose for a face the mesh cannot read (pitch from five "
        "points is not usable, so such a face raises HEAD_TURNED on yaw or FACE_OCCLUDED). "
        "Threshold chosen on the tune split:",
        "",
        *landmarks_rows,
        "",
        "Yaw MAE by labelled yaw on the report split, degrees (interval over persons / "
        "AFLW2000-3D images):",
        "",
        *five_point_table(args.models_dir, report, landmarks_yaw),
        "",
        "Mouth ratio against the head's turn (report split; a turn shortens the mouth's "
        "width in the image by about cos(yaw), which the correction undoes):",
        "",
        *mouth_table(report, found),
        "",
        "Gaze against the Pointing'04 labels on the report split (the directions the subjects "
        "were told to look, eyes included; slope = fitted measured-per-labelled degree; "
        "intervals over persons):",
        "",
        *gaze_table(report, found),
        "",
        "Alerts on the report split at the chosen limits (Pointing'04 images with a face found; "
        "a detected face the mesh cannot read is posed from its five landmarks: HEAD_TURNED "
        "beyond the yaw limit, else FACE_OCCLUDED):",
        "",
        *alert_table(report, found),
        "",
        "Per labelled direction (report split):",
        "",
        *direction_table(report, found),
        "",
        "Geometric consistency on the report split (no labels needed; means with a bootstrap "
        "interval over units):",
        "",
        *consistency_table(pipeline, report, found),
        "",
        *lfw_table(pipeline, lfw_report),
        "",
        f"Added latency per face, median over the {len(measured)} measured report images: "
        f"**{total:.1f} ms** ("
        + ", ".join(f"{name} {ms:.1f}" for name, ms in latency.items())
        + " ms; informative only, it depends on the machine's load).",
    ]
    return EvalReport("\n".join(details), summary(report, found, maes, camera_rates, desk_shares))


def summary(
    report: list[HeadposeImage],
    found: dict[str, Measured],
    maes: dict[str, tuple[Estimate, ...]],
    camera_rates: dict[str, tuple[Rate, Rate]],
    desk_shares: tuple[Estimate, Estimate],
) -> str:
    seen = [x for x in report if x.dataset == "pointing04" and found[x.name].face_found]
    moderate = maes[MODERATE]
    aflw = maes["aflw2000-3d"]
    persons = len({x.unit for x in seen})
    images = sum(x.dataset == "aflw2000-3d" for x in report)

    def rates(code: str, away: Callable[[HeadposeImage], bool]) -> str:
        return (
            f"{_fired([x for x in seen if at_screen(x)], found, code)} / "
            f"{_fired([x for x in seen if away(x)], found, code)}"
        )

    return "\n".join(
        [
            "**Head pose, gaze** ([details](docs/accuracy.md#head-pose-gaze-mouth-distance)):",
            "",
            "| figure | split | value (95% interval) |",
            "|---|---|---|",
            f"| head yaw / pitch MAE, Pointing'04 \\|yaw\\|<=45 & \\|pitch\\|<=30 | report, "
            f"{persons} persons | {moderate[0].format(1, units=False)} / "
            f"{moderate[1].format(1, units=False)} deg |",
            f"| head yaw / pitch / roll MAE, AFLW2000-3D | report, {images} images | "
            + " / ".join(m.format(1, units=False) for m in aflw)
            + " deg |",
            f"| HEAD_TURNED on faces at the screen / turned >= {AWAY_YAW_DEG:.0f} deg | report, "
            f"{persons} persons | {rates('HEAD_TURNED', turned)} |",
            f"| GAZE_AWAY on faces at the screen / turned >= {AWAY_YAW_DEG:.0f} deg | report, "
            f"{persons} persons | {rates('GAZE_AWAY', turned)} |",
            f"| LOOKING_DOWN on faces at the screen / down >= {AWAY_PITCH_DEG:.0f} deg | report, "
            f"{persons} persons | {rates('LOOKING_DOWN', down)} |",
            *(
                f"| pose/gaze alerts on frontal faces rendered {kind} (looking into the camera), "
                f"optical axis -> line to the face | report, {persons} persons | {before} -> "
                f"{after} |"
                for kind, (before, after) in camera_rates.items()
            ),
            "| share of a person's real webcam frames at the desk with a pose/gaze alert, "
            "optical axis -> line to the face | desk/ (dev), persons | "
            f"{desk_shares[0].format(3, units=True)} -> {desk_shares[1].format(3, units=True)} |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    return eval_main("pose", run, argv, __doc__)
