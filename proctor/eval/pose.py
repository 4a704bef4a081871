"""Head pose, gaze, eyes, mouth and distance on real images (``python -m proctor.eval pose``).

Data: ``headpose/`` in ``../shared/eval`` (see its MANIFEST): 1,302 Pointing'04 images
(pan/tilt on a 15-30 deg grid: the direction the subject was asked to face, no roll) and 13
AFLW2000-3D images (continuous yaw/pitch/roll from a 3-D fit). The labels' signs differ
from the API's and are mapped here: API yaw = -label yaw (labels: > 0 = subject turns to
their right), pitch and roll as labelled (> 0 = up, > 0 = clockwise in the image).

What is measured:

* head-pose MAE per angle on the primary face, against the weak floor in the MANIFEST
  (YuNet's 5 points + PnP), images with no face (or no mesh) counted, not scored;
* the gaze direction (head + eyes) against the Pointing'04 labels, which are where the
  subjects were told to look: if the eye estimate carries signal, head + eyes is closer to
  them than the head alone. There are no eye-gaze labels otherwise;
* geometric consistency: a mirrored image must flip yaw, roll and the horizontal iris
  offset and keep pitch; turning the image by +-15 deg must change roll by that much (and
  yaw and pitch by exactly what turning the head about the camera axis implies);
* how often each alert fires per labelled direction, which is how the thresholds were set;
* eyes, mouth and distance on the LFW faces: how often EYES_CLOSED / MOUTH_OPEN fire, and
  that doubling the size of a face in the frame halves the measured distance;
* the time the five analyzers add per face (median ms, this machine's CPU).
"""

from __future__ import annotations

import json
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from proctor.analyzers.distance import DistanceResult
from proctor.analyzers.faces import FacesResult
from proctor.analyzers.gaze import GazeResult
from proctor.analyzers.head_pose import HeadPoseResult
from proctor.analyzers.mouth import MouthResult
from proctor.eval.common import eval_main
from proctor.eval.faces import in_webcam_frame
from proctor.frame import make_frame
from proctor.geometry.pose import HeadPose, pose_from_matrix, rotation_matrix
from proctor.pipeline import Pipeline
from proctor.services import build_services
from proctor.settings import Settings

ANALYZERS = ["faces", "face_mesh", "head_pose", "gaze", "mouth", "distance"]
ADDED = ("face_mesh", "head_pose", "gaze", "mouth", "distance")
#: The floor from ``headpose/MANIFEST.md`` (YuNet 5 points -> solvePnP), MAE yaw/pitch/roll.
FLOOR: dict[str, tuple[float, float, float | None]] = {
    "all": (15.3, 30.53, 11.23),
    "pointing04": (15.41, 30.65, None),
    "pointing04 |yaw|<=45 & |pitch|<=30": (7.86, 18.88, None),
    "aflw2000-3d": (4.43, 17.69, 11.23),
}
ROTATION_DEG = 15.0
#: Height of an LFW face crop placed in a 640x480 frame for the eyes/mouth/distance checks.
FACE_PX = 160


@dataclass(frozen=True)
class Measured:
    face_found: bool
    pose: tuple[float, float, float] | None  # yaw, pitch, roll (API signs)
    gaze: tuple[float, float, float, float] | None  # yaw, pitch, iris_x, iris_y
    eyes_closed: bool | None
    mouth_open: bool
    distance_cm: float | None
    distance_source: str | None
    alerts: frozenset[str]
    timings_ms: dict[str, float]  # the analyzers this evaluation adds to faces + identity


@dataclass(frozen=True)
class Labelled:
    name: str
    dataset: str
    truth: tuple[float, float, float]  # API signs
    roll_annotated: bool


def load_pipeline(models_dir: Path) -> Pipeline:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            models_dir=models_dir, student_db=Path(tmp) / "eval.sqlite3", analyzers=ANALYZERS
        )
        pipeline = build_services(settings).pipeline
    missing = [name for name in ANALYZERS if pipeline.get(name) is None]
    if missing:
        raise SystemExit(f"analyzers not loaded: {[pipeline.status[n].error for n in missing]}")
    return pipeline


def measure(pipeline: Pipeline, image: np.ndarray) -> Measured:
    ctx = pipeline.run(make_frame(image, 1280))
    pose = ctx.result("head_pose", HeadPoseResult).primary
    eyes = ctx.result("gaze", GazeResult).primary
    mouth = ctx.result("mouth", MouthResult)
    distance = ctx.result("distance", DistanceResult).distances
    alerts = frozenset(a.code for r in ctx.results.values() for a in r.alerts)
    gaze = None if eyes is None or eyes.gaze is None else eyes.gaze
    return Measured(
        face_found=len(ctx.result("faces", FacesResult).faces) > 0,
        pose=None
        if pose is None
        else (pose.angles.yaw_deg, pose.angles.pitch_deg, pose.angles.roll_deg),
        gaze=None if gaze is None else (gaze.yaw_deg, gaze.pitch_deg, gaze.iris_x, gaze.iris_y),
        eyes_closed=None if eyes is None else eyes.closed,
        mouth_open=bool(mouth.ratios and mouth.ratios[0] is not None)
        and mouth.ratios[0] >= mouth.threshold,
        distance_cm=distance[0].cm if distance and distance[0] is not None else None,
        distance_source=distance[0].source if distance and distance[0] is not None else None,
        alerts=alerts,
        timings_ms={name: ctx.timings_ms[name] for name in ADDED},
    )


def labelled_images(eval_dir: Path) -> list[Labelled]:
    labels = json.loads((eval_dir / "headpose" / "labels.json").read_text())
    return [
        Labelled(
            name,
            label["dataset"],
            (-label["yaw"], label["pitch"], label["roll"]),
            label["roll_annotated"],
        )
        for name, label in sorted(labels.items())
    ]


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


def turned_pose(pose: tuple[float, float, float], clockwise_deg: float) -> tuple[float, ...]:
    """The pose a head has after the image turns: the same rotation, then a roll about the
    camera axis (exactly a roll change for a frontal face, a mix for a turned one)."""
    before = rotation_matrix(HeadPose(*pose))
    after = pose_from_matrix(rotation_matrix(HeadPose(0.0, 0.0, clockwise_deg)) @ before)
    return after.yaw_deg, after.pitch_deg, after.roll_deg


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None or np.isnan(value) else f"{value:.{digits}f}"


def _md(text: str) -> str:
    """Text for a Markdown table cell (pipes escaped)."""
    return text.replace("|", "\\|")


def pose_table(items: list[Labelled], found: dict[str, Measured]) -> list[str]:
    subsets: dict[str, Callable[[Labelled], bool]] = {
        "all": lambda _: True,
        "pointing04": lambda x: x.dataset == "pointing04",
        "pointing04 |yaw|<=45 & |pitch|<=30": lambda x: (
            x.dataset == "pointing04" and abs(x.truth[0]) <= 45 and abs(x.truth[1]) <= 30
        ),
        "aflw2000-3d": lambda x: x.dataset == "aflw2000-3d",
        "aflw2000-3d |yaw|<=50": lambda x: x.dataset == "aflw2000-3d" and abs(x.truth[0]) <= 50,
    }
    lines = [
        "| subset | n | no face | no mesh | MAE yaw | MAE pitch | MAE roll "
        "| floor: yaw / pitch / roll |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for title, keep in subsets.items():
        chosen = [x for x in items if keep(x)]
        scored = [(x, found[x.name].pose) for x in chosen if found[x.name].pose is not None]
        errors = np.array([np.abs(np.subtract(pose, x.truth)) for x, pose in scored])
        roll = [e[2] for (x, _), e in zip(scored, errors, strict=True) if x.roll_annotated]
        floor = FLOOR.get(title)
        floor_text = "" if floor is None else " / ".join(_fmt(v) for v in floor)
        no_face = sum(not found[x.name].face_found for x in chosen)
        lines.append(
            f"| {_md(title)} | {len(chosen)} | {no_face} | {len(chosen) - len(scored) - no_face} "
            f"| {_fmt(errors[:, 0].mean())} | {_fmt(errors[:, 1].mean())} "
            f"| {_fmt(float(np.mean(roll)) if roll else None)} | {floor_text} |"
        )
    return lines


def gaze_table(items: list[Labelled], found: dict[str, Measured]) -> list[str]:
    """Head alone vs head + eyes against the Pointing'04 look-at directions."""
    subset = [
        x
        for x in items
        if x.dataset == "pointing04"
        and abs(x.truth[0]) <= 45
        and abs(x.truth[1]) <= 30
        and found[x.name].gaze is not None
        and found[x.name].pose is not None
    ]
    truth = np.array([x.truth[:2] for x in subset])
    head = np.array([found[x.name].pose[:2] for x in subset])  # type: ignore[index]
    gaze = np.array([found[x.name].gaze[:2] for x in subset])  # type: ignore[index]
    lines = [
        "| Pointing'04, \\|yaw\\|<=45 & \\|pitch\\|<=30, eyes open "
        f"(n={len(subset)}) | MAE yaw | MAE pitch | slope yaw | slope pitch |",
        "|---|---|---|---|---|",
    ]
    for title, values in (("head pose alone", head), ("gaze = head + eyes", gaze)):
        err = np.abs(values - truth).mean(axis=0)
        slopes = [np.polyfit(truth[:, k], values[:, k], 1)[0] for k in (0, 1)]
        lines.append(
            f"| {title} | {err[0]:.2f} | {err[1]:.2f} | {slopes[0]:.2f} | {slopes[1]:.2f} |"
        )
    return lines


def consistency_table(
    pipeline: Pipeline, eval_dir: Path, items: list[Labelled], found: dict[str, Measured]
) -> list[str]:
    """Mirror and in-plane rotation checks on the faces with moderate labelled pose."""
    subset = [
        x
        for x in items
        if found[x.name].pose is not None and abs(x.truth[0]) <= 45 and abs(x.truth[1]) <= 30
    ]
    flips, yaw_sum, roll_sum, pitch_diff, iris_flips, iris_sum = [], [], [], [], [], []
    roll_plus, roll_minus, off_expected = [], [], []
    for x in subset:
        image = cv2.imread(str(eval_dir / "headpose" / "images" / x.name))
        base = found[x.name]
        assert base.pose is not None
        mirror = measure(pipeline, mirrored(image))
        if mirror.pose is not None:
            yaw_sum.append(abs(base.pose[0] + mirror.pose[0]))
            roll_sum.append(abs(base.pose[2] + mirror.pose[2]))
            pitch_diff.append(abs(base.pose[1] - mirror.pose[1]))
            if abs(base.pose[0]) > 5:
                flips.append(np.sign(base.pose[0]) != np.sign(mirror.pose[0]))
        if mirror.gaze is not None and base.gaze is not None:
            iris_sum.append(abs(base.gaze[2] + mirror.gaze[2]))
            if abs(base.gaze[2]) > 0.05:
                iris_flips.append(np.sign(base.gaze[2]) != np.sign(mirror.gaze[2]))
        for angle, store in ((ROTATION_DEG, roll_plus), (-ROTATION_DEG, roll_minus)):
            turned = measure(pipeline, rotated(image, angle))
            if turned.pose is not None:
                store.append(turned.pose[2] - base.pose[2])
                off_expected.append(np.abs(np.subtract(turned.pose, turned_pose(base.pose, angle))))
    n = len(subset)
    return [
        f"| check ({n} faces with \\|yaw\\|<=45 & \\|pitch\\|<=30 labels) | result |",
        "|---|---|",
        f"| mirror: yaw changes sign (faces with \\|yaw\\| > 5) | {np.mean(flips):.1%} "
        f"of {len(flips)} |",
        f"| mirror: mean \\|yaw + mirrored yaw\\| | {np.mean(yaw_sum):.2f} deg |",
        f"| mirror: mean \\|roll + mirrored roll\\| | {np.mean(roll_sum):.2f} deg |",
        f"| mirror: mean \\|pitch - mirrored pitch\\| | {np.mean(pitch_diff):.2f} deg |",
        f"| mirror: horizontal iris offset changes sign (\\|iris_x\\| > 0.05) | "
        f"{np.mean(iris_flips):.1%} of {len(iris_flips)} |",
        f"| mirror: mean \\|iris_x + mirrored iris_x\\| | {np.mean(iris_sum):.3f} half widths |",
        f"| image turned {ROTATION_DEG:+.0f} deg (clockwise): roll change, median "
        f"(mean abs error) | {np.median(roll_plus):+.2f} deg "
        f"({np.mean(np.abs(np.subtract(roll_plus, ROTATION_DEG))):.2f}) |",
        f"| image turned {-ROTATION_DEG:+.0f} deg: roll change, median (mean abs error) | "
        f"{np.median(roll_minus):+.2f} deg "
        f"({np.mean(np.abs(np.add(roll_minus, ROTATION_DEG))):.2f}) |",
        f"| image turned +-{ROTATION_DEG:.0f} deg: mean abs difference from the exactly "
        f"turned pose (yaw / pitch / roll) | "
        f"{' / '.join(f'{v:.2f}' for v in np.mean(off_expected, axis=0))} deg |",
    ]


def alert_rate_table(items: list[Labelled], found: dict[str, Measured]) -> list[str]:
    """How often each alert fires per labelled Pointing'04 direction, over the images where a
    face was detected (a detected face the mesh cannot measure counts as HEAD_TURNED)."""
    lines = [
        "| Pointing'04 label | n | HEAD_TURNED | LOOKING_DOWN | LOOKING_UP | GAZE_AWAY |",
        "|---|---|---|---|---|---|",
    ]
    p04 = [x for x in items if x.dataset == "pointing04" and found[x.name].face_found]
    groups: list[tuple[str, list[Labelled]]] = []
    for yaw in (0, 15, 30, 45, 60, 75, 90):
        groups.append(
            (
                f"\\|yaw\\| {yaw}, pitch 0",
                [x for x in p04 if abs(x.truth[0]) == yaw and x.truth[1] == 0],
            )
        )
    for pitch in (-60, -30, -15, 15, 30, 60):
        groups.append(
            (
                f"yaw 0, pitch {pitch:+d}",
                [x for x in p04 if x.truth[0] == 0 and x.truth[1] == pitch],
            )
        )
    for title, group in groups:
        rates = [
            np.mean([code in found[x.name].alerts for x in group])
            for code in ("HEAD_TURNED", "LOOKING_DOWN", "LOOKING_UP", "GAZE_AWAY")
        ]
        lines.append(f"| {title} | {len(group)} | " + " | ".join(f"{r:.0%}" for r in rates) + " |")
    return lines


def lfw_table(pipeline: Pipeline, eval_dir: Path) -> list[str]:
    """Eyes, mouth and distance on the 240 LFW faces, each placed in a 640x480 frame at two
    sizes: doubling the face's size is what moving to half the distance looks like."""
    paths = sorted((eval_dir / "faces" / "identities").glob("*/*.jpg"))
    closed, mouth, ratios, iris = [], [], [], []
    for path in paths:
        face = cv2.imread(str(path))
        base = measure(pipeline, in_webcam_frame(face, FACE_PX))
        if base.eyes_closed is None:
            continue
        closed.append(base.eyes_closed)
        mouth.append(base.mouth_open)
        near = measure(pipeline, in_webcam_frame(face, 2 * FACE_PX))
        if base.distance_cm is not None and near.distance_cm is not None:
            ratios.append(near.distance_cm / base.distance_cm)
            iris.append(base.distance_source == "iris" and near.distance_source == "iris")
    return [
        f"| LFW faces ({len(paths)} photos, {FACE_PX} px tall in 640x480; {len(closed)} meshed) "
        "| result |",
        "|---|---|",
        f"| EYES_CLOSED fires | {np.mean(closed):.1%} |",
        f"| MOUTH_OPEN fires | {np.mean(mouth):.1%} |",
        f"| distance with the face twice as large / as is, median (expected 0.50) | "
        f"{np.median(ratios):.3f} (IQR {np.percentile(ratios, 25):.3f}-"
        f"{np.percentile(ratios, 75):.3f}, n={len(ratios)}, both from the iris: "
        f"{np.mean(iris):.0%}) |",
    ]


def run(eval_dir: Path, models_dir: Path) -> str:
    pipeline = load_pipeline(models_dir)
    items = labelled_images(eval_dir)
    found = {
        x.name: measure(pipeline, cv2.imread(str(eval_dir / "headpose" / "images" / x.name)))
        for x in items
    }
    measured = [m for m in found.values() if m.pose is not None]
    latency = {name: statistics.median(m.timings_ms[name] for m in measured) for name in ADDED}
    total = statistics.median(sum(m.timings_ms.values()) for m in measured)
    sections = [
        "Command: `python -m proctor.eval pose --write-readme` (2-core CPU).",
        "",
        "Head pose, primary face, MAE in degrees (API signs; labels mapped, see "
        "`proctor/eval/pose.py`); floor = YuNet 5-point PnP from the data set's MANIFEST:",
        "",
        *pose_table(items, found),
        "",
        "Gaze against the Pointing'04 labels (the directions the subjects were told to look; "
        "slope = fitted measured-per-labelled degree):",
        "",
        *gaze_table(items, found),
        "",
        "Alert rates with the default thresholds:",
        "",
        *alert_rate_table(items, found),
        "",
        "Geometric consistency (no labels needed):",
        "",
        *consistency_table(pipeline, eval_dir, items, found),
        "",
        *lfw_table(pipeline, eval_dir),
        "",
        f"Added latency per face, median over the {len(measured)} single-face head-pose images: "
        f"**{total:.1f} ms** ("
        + ", ".join(f"{name} {ms:.1f}" for name, ms in latency.items())
        + " ms; on a 2-core CPU).",
    ]
    return "\n".join(sections)


def main(argv: list[str] | None = None) -> int:
    return eval_main("pose", run, argv, __doc__)
