"""``python -m proctor.eval liveness``: genuine and attack bursts through the liveness judge.

Bursts are built per Pointing'04 person and photo series (``headpose/``: one person, one
sitting, photos at 15-degree steps of yaw), split into tune and report by person:

- **Head turns are real**: frontal, then the person's own photos at 15, 30 and 45 degrees to
  one side and back (real 3-D turns photographed, not animated).
- **Blinks and mouth openings are synthetic**, made from the frontal photo: the blink paints
  the skin above each eye over the eye with a lash line (an eye-region edit); the open mouth
  pulls the lower lip and chin down and paints the gap dark (a local warp). Both are placed
  with the face detector's five landmarks.

Every ordered challenge of ``liveness.steps`` actions is answered by every genuine series.
Attacks: the frontal photo repeated (static); the frontal photo moved as a flat picture
(turned about the vertical and horizontal axes, rolled, shifted, scaled: perspective warps,
no 3-D change); a burst spliced from two people (the first step from one person, the rest
from another); and each genuine burst replayed against every other ordered challenge.

Thresholds are chosen on tune (each halfway between the weakest genuine action and the
strongest imitation by a photo; the turn angle half the weakest genuine turn) and reported
on report. Frames are analysed once each and their readings reused across challenges.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from proctor.analyzers.base import Claim
from proctor.analyzers.faces import FacesResult
from proctor.eval.cli import EvalReport, eval_main
from proctor.eval.data import HeadposeImage, headpose_images, headpose_split, read_image
from proctor.eval.splits import SPLITS, Split
from proctor.eval.stats import Rate
from proctor.gallery import Gallery
from proctor.liveness.burst import Reading, Thresholds, judge, parallax, reading
from proctor.liveness.service import BURST_ANALYZERS, identity_threshold
from proctor.liveness.tokens import ACTIONS, Action
from proctor.pipeline import Pipeline
from proctor.services import build_pipeline
from proctor.settings import LivenessSettings, Settings

#: Yaw labels (API signs, degrees) a turn passes through on its way out; then back.
TURN_PATH = (15, 30, 45)
#: How far the synthetic mouth opens, in mouth widths, on its way open; then closed.
MOUTH_PATH = (0.3, 0.55, 0.3)
#: The flat-picture moves of the moved-photo attack: (about, degrees) turns of the print
#: (y: vertical axis, x: horizontal axis, z: in the image plane), then shifts and scales.
PHOTO_MOVES: tuple[tuple[str, float], ...] = (
    *(("y", d) for d in (20, 40, 60, 40, 20, 0, -20, -40, -60, -40, -20, 0)),
    *(("x", d) for d in (20, 40, 20, 0, -20, -40, -20, 0)),
    *(("z", d) for d in (10, 20, 10, 0, -10, -20, -10, 0)),
    ("shift", 0.1),
    ("shift", -0.1),
    ("scale", 0.8),
    ("scale", 1.2),
    ("scale", 1.0),
)
KINDS = (
    "genuine",
    "genuine, passive check left out",
    "static photo",
    "moved photo",
    "spliced (two people)",
    "replayed burst",
)


def blink(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Closed eyes painted on: the skin just above each eye (the upper lid and below the
    brow) stretched over the eye, feathered, with a dark lash line along the lid's edge."""
    out = image.copy()
    eyes = float(np.linalg.norm(landmarks[1] - landmarks[0]))
    width, height = int(0.5 * eyes), int(0.3 * eyes)
    mask = np.zeros((height, width), np.float32)
    cv2.ellipse(mask, (width // 2, height // 2), (width // 2, height // 2), 0, 0, 360, 1, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, height / 8))[..., None]
    for cx, cy in landmarks[:2]:
        x0, y0 = int(cx - width / 2), int(cy - height / 2)
        lid = cv2.resize(image[y0 - height : y0, x0 : x0 + width], (width, height))
        region = out[y0 : y0 + height, x0 : x0 + width].astype(np.float32)
        out[y0 : y0 + height, x0 : x0 + width] = (region * (1 - mask) + lid * mask).astype(np.uint8)
        axes = (int(width * 0.4), int(height * 0.25))
        thickness = max(1, int(eyes / 30))
        cv2.ellipse(out, (int(cx), int(cy)), axes, 0, 20, 160, (35, 30, 40), thickness)
    return out


def open_mouth(image: np.ndarray, landmarks: np.ndarray, amount: float) -> np.ndarray:
    """An open mouth: everything below the lips (lower lip, chin) pulled down by ``amount``
    mouth widths, fading out below the chin and to the sides, the gap painted dark."""
    left, right = landmarks[3], landmarks[4]
    cx, cy = (left + right) / 2
    mouth = float(np.linalg.norm(right - left))
    drop = amount * mouth
    height, width = image.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    below = np.clip((yy - cy) / (0.1 * mouth), 0, 1) * np.clip(
        1 - (yy - cy - 1.2 * mouth) / (0.6 * mouth), 0, 1
    )
    sideways = np.exp(-(((xx - cx) / (0.9 * mouth)) ** 2))
    out = cv2.remap(image, xx, (yy - drop * below * sideways).astype(np.float32), cv2.INTER_LINEAR)
    mask = np.zeros((height, width), np.float32)
    centre, axes = (int(cx), int(cy + drop / 2)), (int(mouth * 0.4), int(drop / 2))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, mouth / 25))[..., None]
    return (out * (1 - mask) + np.array([25, 20, 45]) * mask).astype(np.uint8)


def move_photo(image: np.ndarray, about: str, amount: float) -> np.ndarray:
    """The image as a flat print moved in front of the camera: turned ``amount`` degrees about
    an axis through its centre (seen in perspective), shifted by ``amount`` of its width, or
    scaled by ``amount``."""
    height, width = image.shape[:2]
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) * [width / 2, height / 2]
    if about == "shift":
        moved = corners + np.array([amount * width, 0.0])
    elif about == "scale":
        moved = corners * amount
    elif about == "z":
        a = np.radians(amount)
        moved = corners @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    else:
        a, focal = np.radians(amount), 1.2 * width
        axis = 0 if about == "y" else 1
        depth = corners[:, axis] * np.sin(a)
        moved = corners.copy()
        moved[:, axis] *= np.cos(a)
        moved *= (focal / (focal + depth))[:, None]
    centre = np.array([width / 2, height / 2])
    homography = cv2.getPerspectiveTransform(
        (corners + centre).astype(np.float32), (moved + centre).astype(np.float32)
    )
    return cv2.warpPerspective(image, homography, (width, height), borderMode=cv2.BORDER_REPLICATE)


@dataclass(frozen=True)
class Series:
    """One person's photos from one sitting: API yaw label -> image, and the frontal one's
    five landmarks (where the synthetic edits go)."""

    person: str
    serie: str
    photos: dict[int, np.ndarray]
    landmarks: np.ndarray

    @property
    def name(self) -> str:
        return f"{self.person}/{self.serie}"


def pointing04_series(
    images: Iterable[HeadposeImage], pipeline: Pipeline, gallery: Gallery
) -> list[Series]:
    """Each Pointing'04 person and series with its level (pitch 0) photos."""
    by_series: dict[tuple[str, str], dict[int, np.ndarray]] = {}
    for x in images:
        if x.dataset != "pointing04" or x.truth[1] != 0 or abs(x.truth[0]) > max(TURN_PATH):
            continue
        series = by_series.setdefault((x.unit, x.name[8]), {})  # person01|1|46+0+0.jpg
        series[int(x.truth[0])] = read_image(x.path)
    out = []
    for (person, serie), photos in sorted(by_series.items()):
        analysis = pipeline.analyze(photos[0], Claim(), gallery, only=("faces",))
        faces = analysis.context.result("faces", FacesResult).faces
        assert faces.landmarks is not None and len(faces.landmarks)
        scale = photos[0].shape[1] / analysis.context.frame.width
        out.append(Series(person, serie, photos, faces.landmarks[0] * scale))
    return out


#: A burst as frame names (readings are looked up by name: each frame is analysed once).
Burst = list[str]


class Frames:
    """The frames of every burst, by name, made on first use."""

    def __init__(self, series: Series) -> None:
        self.series = series
        self.images: dict[str, np.ndarray] = {}

    def get(self, name: str) -> np.ndarray:
        if name not in self.images:
            self.images[name] = self._make(name)
        return self.images[name]

    def _make(self, name: str) -> np.ndarray:
        kind, _, value = name.partition(":")
        frontal, landmarks = self.series.photos[0], self.series.landmarks
        if kind == "yaw":
            return self.series.photos[int(value)]
        if kind == "blink":
            return blink(frontal, landmarks)
        if kind == "mouth":
            return open_mouth(frontal, landmarks, float(value))
        about, _, amount = value.partition("=")
        return move_photo(frontal, about, float(amount))


def step_frames(action: Action) -> Burst:
    """The frames of one genuine step, ending back at frontal."""
    if action in ("turn_left", "turn_right"):
        side = 1 if action == "turn_left" else -1
        path = [*TURN_PATH, *reversed(TURN_PATH[:-1])]
        return [f"yaw:{side * yaw}" for yaw in path] + ["yaw:0"]
    if action == "blink":
        return ["blink", "yaw:0"]
    return [f"mouth:{amount}" for amount in MOUTH_PATH] + ["yaw:0"]


def genuine_burst(steps: Sequence[Action]) -> Burst:
    return ["yaw:0", "yaw:0", *(f for action in steps for f in step_frames(action))]


def static_burst() -> Burst:
    return ["yaw:0"] * 12


def moved_burst() -> Burst:
    return ["yaw:0", *(f"move:{about}={amount}" for about, amount in PHOTO_MOVES)]


def genuine_frames(series: Series, steps: Sequence[Action]) -> list[np.ndarray]:
    """The genuine burst of ``series`` for ``steps`` as images (for the API tests)."""
    frames = Frames(series)
    return [frames.get(name) for name in genuine_burst(steps)]


def static_frames(series: Series) -> list[np.ndarray]:
    frames = Frames(series)
    return [frames.get(name) for name in static_burst()]


def moved_frames(series: Series) -> list[np.ndarray]:
    frames = Frames(series)
    return [frames.get(name) for name in moved_burst()]


@dataclass
class Measured:
    """Every frame's reading, per series."""

    readings: dict[str, dict[str, Reading]]  # series name -> frame name -> reading

    def burst(self, series: str, names: Burst) -> list[Reading]:
        return [self.readings[series][n] for n in names]


def measure(pipeline: Pipeline, gallery: Gallery, series: list[Series]) -> Measured:
    only = (*BURST_ANALYZERS, "spoof") if pipeline.get("spoof") else BURST_ANALYZERS
    names = sorted({*static_burst(), *moved_burst(), *(f for a in ACTIONS for f in step_frames(a))})
    readings = {}
    for s in series:
        frames = Frames(s)
        readings[s.name] = {
            n: reading(pipeline.analyze(frames.get(n), Claim(), gallery, only=only)) for n in names
        }
    return Measured(readings)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a / b


def choose_thresholds(
    measured: Measured, series: list[Series], identity: float, defaults: LivenessSettings
) -> tuple[Thresholds, list[str]]:
    """Thresholds from the tune series, and one line per threshold saying where it came from."""
    turns, depths, dips, mouths = [], [], [], []  # genuine
    flat_depths, flat_dips, closed = [], [], []  # imitations by a photo, closed mouths
    for s in series:
        r = measured.readings[s.name]
        front = r["yaw:0"]
        assert front.yaw_deg is not None and front.mesh is not None
        for side in (1, -1):
            peak = r[f"yaw:{side * TURN_PATH[-1]}"]
            if peak.yaw_deg is not None and peak.mesh is not None:
                turns.append(side * (peak.yaw_deg - front.yaw_deg))
                depths.append(parallax(front.mesh, peak.mesh))
        dips.append(_ratio(r["blink"].eyes, front.eyes))
        mouths.append(r[f"mouth:{max(MOUTH_PATH)}"].mouth)
        closed.append(front.mouth)
        for about, amount in PHOTO_MOVES:
            moved = r[f"move:{about}={amount}"]
            if moved.mesh is None or moved.yaw_deg is None:
                continue
            flat_dips.append(_ratio(moved.eyes, front.eyes))
            closed.append(moved.mouth)
            flat_depths.append(
                (abs(moved.yaw_deg - front.yaw_deg), parallax(front.mesh, moved.mesh))
            )
    weakest_turn = min(turns)
    turn_deg = float(int(weakest_turn / 2))
    strongest_flat = max((d for yaw, d in flat_depths if yaw >= turn_deg), default=0.0)
    weakest_depth = min(depths)
    weakest_dip = max(d for d in dips if d is not None)
    deepest_flat_dip = min(d for d in flat_dips if d is not None)
    weakest_mouth = min(m for m in mouths if m is not None)
    widest_closed = max(m for m in closed if m is not None)
    chosen = Thresholds(
        turn_deg=turn_deg,
        min_parallax=round((weakest_depth + strongest_flat) / 2, 3),
        blink_dip=round((weakest_dip + deepest_flat_dip) / 2, 2),
        mouth_open_ratio=round((weakest_mouth + widest_closed) / 2, 2),
        identity=identity,
    )
    notes = [
        f"| `liveness.turn_deg` | {chosen.turn_deg:.0f} (default {defaults.turn_deg:.0f}) | "
        f"half the weakest genuine 45-degree turn on tune ({weakest_turn:.1f} deg of yaw) |",
        f"| `liveness.min_parallax` | {chosen.min_parallax:.3f} (default "
        f"{defaults.min_parallax:.3f}) | halfway between the flattest genuine turn "
        f"({weakest_depth:.3f}) and the deepest-looking moved photo past turn_deg "
        f"({strongest_flat:.3f}) on tune |",
        f"| `liveness.blink_dip` | {chosen.blink_dip:.2f} (default {defaults.blink_dip:.2f}) | "
        f"halfway between the shallowest synthetic blink ({weakest_dip:.2f} of open) and the "
        f"deepest dip of a moved photo ({deepest_flat_dip:.2f}) on tune |",
        f"| `liveness.mouth_open_ratio` | {chosen.mouth_open_ratio:.2f} (default "
        f"{defaults.mouth_open_ratio:.2f}) | halfway between the least open synthetic mouth "
        f"({weakest_mouth:.2f}) and the widest closed one ({widest_closed:.2f}) on tune |",
    ]
    return chosen, notes


def challenges(steps: int) -> list[tuple[Action, ...]]:
    return list(itertools.permutations(ACTIONS, steps))


def rates(
    measured: Measured, series: list[Series], thresholds: Thresholds, steps: int
) -> dict[str, Rate]:
    """Pass counts per kind of burst."""
    asked = challenges(steps)
    passed = dict.fromkeys(KINDS, 0)
    total = dict.fromkeys(KINDS, 0)

    def count(kind: str, readings: list[Reading], for_steps: Sequence[Action]) -> None:
        total[kind] += 1
        passed[kind] += judge(readings, for_steps, thresholds).passed

    for i, s in enumerate(series):
        other = series[(i + 1) % len(series)]
        for challenge in asked:
            burst = genuine_burst(challenge)
            readings = measured.burst(s.name, burst)
            count("genuine", readings, challenge)
            active = [replace(r, spoof=None) for r in readings]
            count("genuine, passive check left out", active, challenge)
            first = len(genuine_burst(challenge[:1]))
            spliced = readings[:first] + measured.burst(other.name, burst[first:])
            if other.person != s.person:
                count("spliced (two people)", spliced, challenge)
            for new in asked:
                if new != challenge:
                    count("replayed burst", readings, new)
            count("static photo", measured.burst(s.name, static_burst()), challenge)
            count("moved photo", measured.burst(s.name, moved_burst()), challenge)
    return {kind: Rate(passed[kind], total[kind]) for kind in KINDS}


def _persons(series: list[Series]) -> int:
    return len({s.person for s in series})


def run(args: argparse.Namespace) -> EvalReport:
    settings = Settings(models_dir=args.models_dir)
    pipeline = build_pipeline(settings)
    gallery = Gallery(settings.face_embedder, 0)
    split = headpose_split(headpose_images(args.eval_dir))
    series = {side: pointing04_series(split[side], pipeline, gallery) for side in SPLITS}
    measured = Measured({})
    for side in SPLITS:
        measured.readings.update(measure(pipeline, gallery, series[side]).readings)
    identity = identity_threshold(pipeline)
    chosen, notes = choose_thresholds(measured, series["tune"], identity, settings.liveness)
    defaults = Thresholds.of(settings.liveness, identity)
    steps = settings.liveness.steps
    table: dict[tuple[str, Split], dict[str, Rate]] = {}
    for label, thresholds in (("chosen", chosen), ("shipped defaults", defaults)):
        for side in SPLITS:
            table[label, side] = rates(measured, series[side], thresholds, steps)
    spoof = "loaded" if pipeline.get("spoof") else "not loaded (the burst is judged without it)"
    lines = [
        f"Pointing'04 level photos ({sum(len(v) for v in series.values())} person-series, "
        f"{_persons(series['tune'])} persons tune / {_persons(series['report'])} report), "
        f"each answering all {len(challenges(steps))} ordered challenges of {steps} actions. "
        "Head turns are the persons' real photos at 15/30/45 degrees; blinks (eye-region "
        "edit) and mouth openings (local warp) are synthetic edits of the frontal photo. "
        f"Passive spoof analyzer: {spoof}. Pass rate per kind of burst (95% Wilson interval; "
        "bursts of one person are not independent, so the intervals are optimistic):",
        "",
        "| burst | thresholds | tune | report |",
        "|---|---|---|---|",
    ]
    for kind in KINDS:
        for label in ("chosen", "shipped defaults"):
            lines.append(
                f"| {kind} | {label} | {table[label, 'tune'][kind]} | "
                f"{table[label, 'report'][kind]} |"
            )
    refused = sorted(
        {
            s.name
            for s in series["report"]
            for asked in challenges(steps)
            if judge(measured.burst(s.name, genuine_burst(asked)), asked, defaults).passive_check
            == "spoof"
        }
    )
    lines += [
        "",
        "Report series whose genuine bursts the passive check calls spoof (most frames): "
        f"{', '.join(refused) or 'none'}.",
    ]
    lines += ["", "| threshold | chosen on tune | rule |", "|---|---|---|", *notes]
    lines += [
        "",
        f"A replayed burst passes only when a fresh challenge asks the same sequence again: "
        f"1 in {len(challenges(steps))} with {steps} distinct actions of {len(ACTIONS)}. The "
        "table counts replays against every other sequence.",
    ]
    report = table["shipped defaults", "report"]
    persons = f"report, {_persons(series['report'])} persons"
    summary = "\n".join(
        [
            "**Liveness challenge** ([details](docs/accuracy.md#liveness-challenge)): bursts "
            "of Pointing'04 photos (real head turns; blink and mouth synthetic), shipped "
            "thresholds.",
            "",
            "| bursts that pass | split | value (95% interval) |",
            "|---|---|---|",
            *(f"| {kind} | {persons} | {report[kind]} |" for kind in KINDS),
        ]
    )
    return EvalReport("\n".join(lines), summary)


def main(argv: list[str] | None = None) -> int:
    return eval_main("liveness", run, argv, __doc__.splitlines()[0] if __doc__ else None)
