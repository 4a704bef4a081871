"""Fairness, part ``detection``: is a face found as often for every perceived group, under the
conditions a webcam really meets, and what does the enhanced retry before NO_FACE buy?

Faces: the UTKFace crops of ``../shared/eval/fairness`` (``proctor.eval.fairness_data``),
split by pseudo-identity; the retry settings and the quality limits are chosen on the
**tune** half, every rate is reported on the **report** half. Conditions (``CONDITIONS``),
each built from one crop and the room photograph ``background_for`` gives it:

* ``as is``: the 200x200 crop; ``gamma 2`` / ``gamma 3``: the crop darkened, 255*(x/255)^g;
* ``in room``: the crop blended into a real 640x480 room photo (``fairness_data.in_room``:
  face about 140 px wide); ``in room, gamma 2``: that whole frame darkened (a dim room);
* ``backlit``: the same composite with the face darkened (gamma 2) and the room brightened
  (gamma 1/2.5, a window behind the student);
* ``small``: the composite at 320x240, the crop scaled to 80 px (the face about 50 px wide);
* ``motion blur``: the composite smeared by a horizontal line kernel ``BLUR_PX`` long;
* ``JPEG``: the composite encoded at quality ``JPEG_QUALITY``;
* harsher than asked, where the plain detector starts to miss: ``gamma 4`` (the crop),
  ``in room, gamma 4`` and ``tiny`` (``small`` with the face about 30 px across).

Every frame goes through ``Pipeline.analyze`` with only the faces analyzer, once with the
default settings and once with the enhanced retry off (the grey-border retry stays on in
both), so a rate difference is the retry's alone and its cost is measured, not estimated.
False faces: the COCO images with no person annotation, whole, where any face is found.

The quality limits: each tune person's real desk frame (``desk/``) darkened by gammas
``DARK_GAMMAS`` and blurred by ``BLUR_GRID`` until the face is lost. ``dark_brightness`` is
the brightness below which every darkened frame lost its face (so a darkness the detector
survives never turns into a lighting alert); ``min_sharpness`` likewise for blur. Measured
on the report persons: how often a frame lost to darkness or blur gets the quality alert
rather than NO_FACE, and how often a real, undoctored desk frame is below a limit.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from proctor.analyzers.base import Claim
from proctor.analyzers.faces import FacesResult
from proctor.eval.cli import EvalReport
from proctor.eval.data import read_image
from proctor.eval.faces import desk_split
from proctor.eval.fairness_data import (
    FairnessPhoto,
    background_for,
    fairness_photos,
    fairness_split,
    in_room,
    room_backgrounds,
)
from proctor.eval.splits import split_items
from proctor.eval.stats import Rate
from proctor.gallery import Gallery
from proctor.pipeline import Pipeline
from proctor.quality import measure
from proctor.services import build_pipeline
from proctor.settings import FacesSettings, Settings

BLUR_PX = 15
JPEG_QUALITY = 10
SMALL_SIZE = (320, 240)
SMALL_FACE = 80  # the crop's width in the small frame; its face is about 50 px across
TINY_FACE = 48  # the face about 30 px across
BACKLIGHT_FACE_GAMMA = 2.0
BACKLIGHT_ROOM_GAMMA = 1 / 2.5
#: The conditions the done-criterion names: every group >= 99 % found in these.
REQUIRED = ("as is", "gamma 2")
#: Retry settings tried on the tune half (clip, target brightness, upscale).
RETRY_GRID = tuple(
    (clip, target, upscale)
    for clip in (0.0, 2.0, 4.0)
    for target in (90.0, 110.0, 130.0)
    for upscale in (1.0, 2.0)
)
DARK_GAMMAS = (2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
BLUR_GRID = (15, 31, 61, 91, 121)
#: At most this share of real, undoctored desk frames may fall beyond a quality limit.
CLEAN_SHARE = 0.01


def gamma(image: np.ndarray, g: float) -> np.ndarray:
    """255 * (x / 255) ** g: g > 1 darkens (a dim room, no noise added), g < 1 brightens."""
    table = (255 * (np.arange(256) / 255) ** g).round().astype(np.uint8)
    return cv2.LUT(image, table)


def motion_blur(image: np.ndarray, length: int) -> np.ndarray:
    """A horizontal smear ``length`` px long (a head moving during the exposure)."""
    kernel = np.full((1, length), 1 / length, np.float32)
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


Condition = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (crop, 640x480 room) -> frame

CONDITIONS: dict[str, Condition] = {
    "as is": lambda crop, room: crop,
    "gamma 2": lambda crop, room: gamma(crop, 2.0),
    "gamma 3": lambda crop, room: gamma(crop, 3.0),
    "in room": lambda crop, room: in_room(crop, room),
    "in room, gamma 2": lambda crop, room: gamma(in_room(crop, room), 2.0),
    "backlit": lambda crop, room: in_room(
        gamma(crop, BACKLIGHT_FACE_GAMMA), gamma(room, BACKLIGHT_ROOM_GAMMA)
    ),
    "small": lambda crop, room: in_room(
        crop, cv2.resize(room, SMALL_SIZE, interpolation=cv2.INTER_AREA), SMALL_FACE
    ),
    "motion blur": lambda crop, room: motion_blur(in_room(crop, room), BLUR_PX),
    "JPEG": lambda crop, room: jpeg(in_room(crop, room), JPEG_QUALITY),
    # Harsher than the brief's conditions, where the plain detector starts to miss.
    "gamma 4": lambda crop, room: gamma(crop, 4.0),
    "in room, gamma 4": lambda crop, room: gamma(in_room(crop, room), 4.0),
    "tiny": lambda crop, room: in_room(
        crop, cv2.resize(room, SMALL_SIZE, interpolation=cv2.INTER_AREA), TINY_FACE
    ),
}


def faceless_images(eval_dir: Path) -> list[tuple[str, np.ndarray]]:
    """``(file, image)`` of every COCO image with no person annotation, whole."""
    out = []
    for split in ("val2017", "train2017"):
        root = eval_dir / "coco"
        data = json.loads((root / "annotations" / f"instances_{split}.json").read_text())
        person = next(c["id"] for c in data["categories"] if c["name"] == "person")
        with_person = {a["image_id"] for a in data["annotations"] if a["category_id"] == person}
        out += [
            (info["file_name"], read_image(root / split / info["file_name"]))
            for info in sorted(data["images"], key=lambda i: i["file_name"])
            if info["id"] not in with_person
        ]
    return out


@dataclass(frozen=True)
class Seen:
    """One frame through the pipeline: faces found, by which copy, the faces ms, the alert."""

    count: int
    found_by: str | None
    ms: float
    codes: tuple[str, ...]


class Detector:
    """The faces analyzer alone in a pipeline with the given faces settings."""

    def __init__(self, models_dir: Path, **faces: object) -> None:
        settings = Settings(models_dir=models_dir, analyzers=["faces"], faces=faces)
        self.settings = settings.faces
        self.pipeline: Pipeline = build_pipeline(settings)
        self.gallery = Gallery(settings.face_embedder, 0)

    def see(self, image: np.ndarray) -> Seen:
        analysis = self.pipeline.analyze(image, Claim(), self.gallery, only=["faces"])
        result = analysis.context.result("faces", FacesResult)
        return Seen(
            len(result.faces),
            result.found_by,
            analysis.context.timings_ms["faces"],
            tuple(a.code for a in result.alerts),
        )


def frames(
    photos: list[FairnessPhoto], rooms: list[np.ndarray], condition: str
) -> list[np.ndarray]:
    build = CONDITIONS[condition]
    return [build(p.image, background_for(p.file, rooms)) for p in photos]


def found(seen: Iterable[Seen]) -> list[bool]:
    return [s.count > 0 for s in seen]


# ---- tune: the retry settings --------------------------------------------------------------


@dataclass(frozen=True)
class RetryChoice:
    rows: list[str]
    chosen: tuple[float, float, float]


def choose_retry(
    models_dir: Path, missed: list[np.ndarray], faceless: list[np.ndarray]
) -> RetryChoice:
    """Rule: on the tune frames the plain passes miss, the grid setting that finds the most
    faces while finding none on the tune half of the face-less COCO images; ties to the
    mildest (the grid's order: least CLAHE, least lift, then upscale), not to the faster: the
    milliseconds of a shared CPU are too noisy to decide on."""
    scored = []
    for clip, target, upscale in RETRY_GRID:
        detector = Detector(
            models_dir,
            enhance_clahe_clip=clip,
            enhance_target_brightness=target,
            retry_upscale=upscale,
        )
        seen = [detector.see(image) for image in missed]
        false = sum(detector.see(image).count > 0 for image in faceless)
        ms = statistics.median(s.ms for s in seen) if seen else 0.0
        scored.append(((clip, target, upscale), Rate(sum(found(seen)), len(seen)), false, ms))
    allowed = [row for row in scored if row[2] == 0] or scored
    best = max(allowed, key=lambda row: row[1].k)  # max keeps the first: the mildest
    rows = [
        f"| {clip:g} | {target:g} | {upscale:g} | {rate} | {false}/{len(faceless)} | {ms:.1f} |"
        + (" **chosen**" if setting == best[0] else "")
        for setting, rate, false, ms in scored
        for clip, target, upscale in [setting]
    ]
    return RetryChoice(rows, best[0])


# ---- tune and report: the quality limits ---------------------------------------------------


def limit_below(values: list[float], share: float = CLEAN_SHARE) -> float:
    """The highest whole-number limit with at most ``share`` of ``values`` below it."""
    ordered = sorted(values)
    return float(math.floor(ordered[math.floor(share * len(ordered))]))


def lost_frames(
    detector: Detector, images: list[np.ndarray], steps: list[Callable[[np.ndarray], np.ndarray]]
) -> list[Seen]:
    """Each image made worse step by step (``steps``, ever harsher) until no face is found;
    how the pipeline saw each frame where its face was lost."""
    lost = []
    for image in images:
        for step in steps:
            seen = detector.see(step(image))
            if seen.count == 0:
                lost.append(seen)
                break
    return lost


def dark_steps() -> list[Callable[[np.ndarray], np.ndarray]]:
    return [lambda image, g=g: gamma(image, g) for g in DARK_GAMMAS]


def blur_steps() -> list[Callable[[np.ndarray], np.ndarray]]:
    return [lambda image, n=n: motion_blur(image, n) for n in BLUR_GRID]


# ---- the section ---------------------------------------------------------------------------


def section(args: argparse.Namespace) -> EvalReport:
    photos = fairness_split(fairness_photos(args.eval_dir))
    rooms = room_backgrounds(args.eval_dir)
    coco = split_items(faceless_images(args.eval_dir), lambda item: item[0])
    desk = desk_split(args.eval_dir)
    default = Detector(args.models_dir)
    plain = Detector(args.models_dir, retry_enhanced=False)

    # Tune: retry settings on what the plain passes miss, quality limits on desk frames.
    missed = [
        frame
        for condition in CONDITIONS
        for frame in frames(photos["tune"], rooms, condition)
        if plain.see(frame).count == 0
    ]
    choice = choose_retry(args.models_dir, missed, [image for _, image in coco["tune"]])
    tune_quality = [measure(image) for _, image in desk["tune"]]
    dark_limit = limit_below([q.brightness for q in tune_quality])
    blur_limit = limit_below([q.sharpness for q in tune_quality])
    warnings = _check_defaults(default.settings, choice.chosen, dark_limit, blur_limit)

    # Report.
    report = photos["report"]
    groups = sorted({p.group for p in report})
    results: dict[str, tuple[list[Seen], list[Seen]]] = {}
    for condition in CONDITIONS:
        images = frames(report, rooms, condition)
        results[condition] = ([default.see(f) for f in images], [plain.see(f) for f in images])
    faceless = [image for _, image in coco["report"]]
    faceless_seen = [default.see(f) for f in faceless]
    false_on = Rate(sum(found(faceless_seen)), len(faceless))
    invented = Rate(
        sum(s.found_by in ("enhanced", "upscaled") for s in faceless_seen), len(faceless)
    )
    false_off = Rate(sum(found(plain.see(f) for f in faceless)), len(faceless))
    report_desk = [image for _, image in desk["report"]]
    dark_seen = lost_frames(default, report_desk, dark_steps())
    blur_seen = lost_frames(default, report_desk, blur_steps())
    qualities = [measure(image) for image in report_desk]
    flagged = Rate(
        sum(
            q.brightness < default.settings.dark_brightness
            or q.brightness > default.settings.bright_brightness
            or q.sharpness < default.settings.min_sharpness
            for q in qualities
        ),
        len(qualities),
    )
    faceless_codes = Rate(sum(s.codes == ("NO_FACE",) for s in faceless_seen), len(faceless))

    lines = render(report, groups, results)
    lines += [
        "",
        f"Face-less frames (COCO images with no person annotation, whole; report half): a "
        f"face found with the retry {false_on}, without {false_off}; found only by the retry "
        f"(invented by it): {invented}. NO_FACE (not a quality alert) on them: "
        f"{faceless_codes}.",
        "",
        f"Retry settings, chosen on the **tune** half ({len(missed)} tune frames the plain "
        "passes miss, over every condition; false faces on the tune half of the face-less COCO "
        "images). Rule: most faces found with no false face, ties to the mildest setting:",
        "",
        "| CLAHE clip | target brightness | upscale | found | false faces | median faces ms |",
        "|---|---|---|---|---|---|",
        *choice.rows,
        "",
        "Quality limits, chosen on the **tune** persons' real desk frames "
        f"({len(tune_quality)}): the highest whole number with at most "
        f"{100 * CLEAN_SHARE:g}% of those undoctored frames below it, so a normally lit, sharp "
        "frame with nobody in it still gets NO_FACE: `dark_brightness` "
        f"{dark_limit:g}, `min_sharpness` {blur_limit:g} (defaults in use: "
        f"{default.settings.dark_brightness:g} / {default.settings.min_sharpness:g}; "
        f"`bright_brightness` {default.settings.bright_brightness:g} is not tuned: no set holds "
        "washed-out frames). On the **report** persons' desk frames, darkened (gamma "
        f"{', '.join(f'{g:g}' for g in DARK_GAMMAS)}) or blurred (horizontal line "
        f"{', '.join(map(str, BLUR_GRID))} px) step by step until the face was lost: "
        f"{_code_rate(dark_seen, 'POOR_LIGHTING')} of frames lost to darkness get POOR_LIGHTING "
        f"and {_code_rate(blur_seen, 'LOW_QUALITY_FRAME')} of frames lost to blur get "
        "LOW_QUALITY_FRAME (the rest NO_FACE); undoctored report desk frames beyond a limit "
        f"(the alert such a frame would get if its face were also missed): {flagged}. A frame "
        "whose face is found gets no quality alert (the analysis worked; the numbers are in "
        "`frame_quality`), so on real desk frames these codes add no alert at all.",
    ]
    details = "\n".join(["### Face detection by group", "", *lines])
    for warning in warnings:
        print(f"WARNING: {warning}")
    return EvalReport(details, summary(report, results, invented))


def _span(values: list[float]) -> str:
    return f"{min(values):.0f}-{max(values):.0f}" if values else "n/a"


def _code_rate(seen: list[Seen], code: str) -> Rate:
    return Rate(sum(code in s.codes for s in seen), len(seen))


def _check_defaults(
    settings: FacesSettings, retry: tuple[float, float, float], dark: float, blur: float
) -> list[str]:
    in_use = (
        settings.enhance_clahe_clip,
        settings.enhance_target_brightness,
        settings.retry_upscale,
    )
    out = []
    if in_use != retry:
        out.append(f"the tune split chooses retry settings {retry}; the defaults are {in_use}")
    if (settings.dark_brightness, settings.min_sharpness) != (dark, blur):
        out.append(
            f"the tune split chooses dark_brightness {dark:g} / min_sharpness {blur:g}; the "
            f"defaults are {settings.dark_brightness:g} / {settings.min_sharpness:g}"
        )
    return out


def _by_group(report: list[FairnessPhoto], seen: list[Seen], groups: list[str]) -> dict[str, Rate]:
    rates = {}
    for g in groups:
        hits = [s.count > 0 for p, s in zip(report, seen, strict=True) if p.group == g]
        rates[g] = Rate(sum(hits), len(hits))
    rates["pooled"] = Rate(sum(found(seen)), len(seen))
    return rates


def worst(rates: dict[str, Rate], groups: list[str]) -> str:
    """The group(s) with the lowest rate, or ``all equal``."""
    lowest = min(rates[g].value for g in groups)
    names = [g for g in groups if rates[g].value == lowest]
    return "all equal" if len(names) == len(groups) else ", ".join(names)


def _cost(on: list[Seen], off: list[Seen]) -> str:
    """Median faces ms with the retry and without, on the frames that needed it (the plain
    passes found nothing) and on all."""
    needed = [i for i, s in enumerate(off) if s.count == 0]

    def median(seen: list[Seen], rows: Iterable[int]) -> str:
        values = [seen[i].ms for i in rows]
        return f"{statistics.median(values):.1f}" if values else "n/a"

    everything = range(len(on))
    return (
        f"{median(on, needed)} / {median(off, needed)} ({len(needed)}) | "
        f"{median(on, everything)} / {median(off, everything)}"
    )


def render(
    report: list[FairnessPhoto],
    groups: list[str],
    results: dict[str, tuple[list[Seen], list[Seen]]],
) -> list[str]:
    counts = ", ".join(f"{g} {sum(p.group == g for p in report)}" for g in groups)
    lines = [
        f"Face found, **report** half of the UTKFace pseudo-identities ({counts}), through the "
        "pipeline (faces only, default settings), with the enhanced retry / without it (the "
        "grey-border retry on in both). Conditions: see `proctor/eval/fairness_detection.py` "
        f"(composites over real COCO room photos, motion blur {BLUR_PX} px, JPEG quality "
        f"{JPEG_QUALITY}, small: face about 50 px in {SMALL_SIZE[0]}x{SMALL_SIZE[1]}).",
        "",
        "| condition | " + " | ".join(groups) + " | pooled | worst group |",
        "|---|" + "---|" * (len(groups) + 2),
    ]
    for condition, (on, off) in results.items():
        with_retry, without = _by_group(report, on, groups), _by_group(report, off, groups)
        cells = [f"{with_retry[g]} / {without[g].percent()}" for g in [*groups, "pooled"]]
        lines.append(f"| {condition} | " + " | ".join(cells) + f" | {worst(with_retry, groups)} |")
    lines += [
        "",
        "The retry's cost, median faces-analyzer ms per frame with / without it, on the "
        "frames that needed it (the plain passes found nothing; count) and on all frames "
        "(shared CPU: informative only):",
        "",
        "| condition | needed it: with / without (frames) | all: with / without |",
        "|---|---|---|",
        *(f"| {c} | {_cost(on, off)} |" for c, (on, off) in results.items()),
    ]
    return lines


def summary(
    report: list[FairnessPhoto],
    results: dict[str, tuple[list[Seen], list[Seen]]],
    invented: Rate,
) -> str:
    groups = sorted({p.group for p in report})
    rows = []
    for condition in (*REQUIRED, "in room, gamma 2", "backlit", "small"):
        rates = _by_group(report, results[condition][0], groups)
        label = worst(rates, groups)
        rate = rates["pooled"] if label == "all equal" else rates[label.split(", ")[0]]
        rows.append(f"| face found, worst group ({label}), {condition} | report | {rate} |")
    rows.append(f"| face invented by the retry on a face-less COCO image | report | {invented} |")
    return "\n".join(rows)
