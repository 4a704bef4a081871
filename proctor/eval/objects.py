"""Banned objects and people count on real labelled images: ``python -m proctor.eval objects``.

Data (``../shared/eval``, see its MANIFESTs; loaders in ``proctor.eval.datasets``):

* ``coco``: 160 COCO 2017 images, every instance of 80 classes boxed (unmatched detections
  are false positives; detections mostly inside a crowd region are ignored, as COCO does).
* ``exam_objects``: 195 webcam frames (109 distinct, in 11 blocks of ten consecutive frames)
  of one person holding up a phone (boxed), a wallet or an AirPods case (hard negatives);
  book, laptop and tv are judged absent from every frame; one person in each.
* ``desk``: 190 real webcam frames of 29 people alone at their desks, nothing banned in view.
* ``faces/identities``: the 240 LFW photos of 40 people, each in a 640x480 grey frame.

Splits (``proctor.eval.datasets.sides``): COCO by image, exam_objects by block of ten
consecutive source frames (its MANIFEST's rule: augmented copies and neighbouring frames
stay on one side; blocks with a phone dealt apart from the rest, so both sides hold phones),
desk and LFW by person. Every choice below is made on ``tune``; every reported
figure is measured on ``report``. Rates count each distinct webcam frame once (an augmented
copy adds its share) and on desk and LFW each person once; AP intervals resample images
and frame blocks.

One implementation: every frame goes through ``Pipeline.analyze`` with ``only=["objects"]``
(decode, faces, the configured detector, fusion included), once per detector, and every
decision (which banned classes are reported, the people count, BANNED_OBJECT and
MULTIPLE_PEOPLE) is ``proctor.analyzers.objects.judge`` on the analyzer's candidates with the
thresholds under evaluation. The eval's pipelines also watch keyboard, mouse and remote
(measured, not banned by default); they do not change what judge decides on the banned
classes or people.

Rules (box matching and AP in ``proctor.eval.metrics``):

* Per-class thresholds (``DEFAULT_THRESHOLDS``): per detector and class, the threshold on the
  grid 0.05, 0.10, ... 0.95 maximising F1 (IoU >= 0.5) over the tune images of every set
  labelling the class (COCO; exam_objects too for cell phone, and for laptop, book and tv,
  which it labels absent), ties to the higher threshold.
* Faceless-person threshold (``FACELESS_PERSON_THRESHOLDS``): the grid value, at least the
  person threshold, maximising the mean of the COCO MULTIPLE_PEOPLE agreement and the share
  of exam frames counted as one person (tune), ties to the higher threshold.
* Default detector: the best tune *banned mAP* (mean AP@0.5 of cell phone, laptop, book and
  tv on COCO and of the exam_objects phones). Detectors whose interval overlaps the best's tie
  with it; among them licence decides (MIT/Apache before AGPL), then speed (median ms per
  frame, overlapping intervals tie), then simplicity (one model before two). The
  permissive-only default is the same rule over the permissive detectors.

The boxes of cell phone, laptop and book the shipped default misses on the report split are
drawn in ``docs/objects_misses.jpg`` (``proctor.eval.misses``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from proctor.analyzers.base import Claim
from proctor.analyzers.faces import FacesResult
from proctor.analyzers.objects import (
    PERSON,
    Candidates,
    ObjectsResult,
    PhoneRules,
    Rules,
    judge,
)
from proctor.eval import phone
from proctor.eval.cli import ROOT, EvalReport, run_parts
from proctor.eval.datasets import (
    EXAM_LABELLED,
    HELD,
    LabelledImage,
    load_coco,
    load_desk,
    load_exam_objects,
    load_lfw_frames,
    sides,
    weights,
)
from proctor.eval.metrics import (
    GRID,
    ClassMatch,
    Counts,
    UnitRate,
    average_precision,
    choose_threshold,
    concat,
    counts_at,
    match_boxes,
    unit_rate,
)
from proctor.eval.misses import find_misses, miss_tile, write_contact_sheet
from proctor.eval.splits import Split
from proctor.eval.stats import Estimate, Rate, bootstrap, tie
from proctor.gallery import Gallery
from proctor.models.detections import Detections
from proctor.models.manifest import get_spec
from proctor.models.objects.backends import (
    DEFAULT_THRESHOLDS,
    DETECTOR_MODELS,
    FACELESS_PERSON_THRESHOLDS,
    SCORE_FLOOR,
)
from proctor.pipeline import Pipeline
from proctor.services import build_pipeline
from proctor.settings import ObjectDetectorName, ObjectsSettings, Settings

DETECTORS: tuple[ObjectDetectorName, ...] = ("yolo", "centernet", "nanodet", "fusion")
DEFAULT_BANNED = tuple(ObjectsSettings().banned)
EXTRAS = ("keyboard", "mouse", "remote")
#: What the eval's pipelines ban, so that every measured class comes back as a candidate.
WATCHED = (*DEFAULT_BANNED, *EXTRAS)
CLASSES = (*WATCHED, PERSON)
#: The (set, class) APs whose mean is the banned mAP.
BANNED_APS = (*(("coco", c) for c in DEFAULT_BANNED), ("exam", "cell phone"))
#: Classes exam_objects labels absent from every frame.
ABSENT_IN_EXAM = tuple(sorted(EXAM_LABELLED - {"cell phone"}))
MISS_CLASSES = ("cell phone", "laptop", "book")
MISSES_FILE = ROOT / "docs" / "objects_misses.jpg"
PLAIN_SETS = ("desk", "lfw")
ALERT_CODES = ("BANNED_OBJECT", "MULTIPLE_PEOPLE")
T = TypeVar("T")


# --- Running the frames ----------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One frame as one detector's pipeline saw it (analysis pixels, as judge takes them)."""

    candidates: Candidates
    faces: np.ndarray
    scale: float  # analysis -> original pixels
    ms: float  # the objects analyzer's time on this frame

    def original(self, found: Detections) -> Detections:
        return found.scaled(self.scale, self.scale)


def eval_pipeline(name: ObjectDetectorName, models_dir: Path) -> Pipeline:
    """The faces + objects pipeline of detector ``name``, watching every measured class."""
    settings = Settings(
        models_dir=models_dir,
        permissive_only=False,
        analyzers=["faces", "objects"],
        objects={
            "detector": name,
            "banned": list(WATCHED),
            "second_look": False,
            "phone_verifier": False,
            "hands": False,
        },
    )
    return build_pipeline(settings)


def load_pipelines(models_dir: Path) -> tuple[dict[str, Pipeline], list[str]]:
    """Every provisioned detector's pipeline, and a note for each one missing."""
    pipelines, notes = {}, []
    for name in DETECTORS:
        pipeline = eval_pipeline(name, models_dir)
        status = pipeline.status["objects"]
        if status.loaded:
            pipelines[name] = pipeline
        else:
            notes.append(f"{name}: not measured ({status.error})")
    return pipelines, notes


def observe(pipelines: dict[str, Pipeline], images: list[LabelledImage]) -> dict[str, list[Seen]]:
    """Every image through every pipeline, the detectors taking turns on each image so that
    whatever else loads the machine slows them alike."""
    seen: dict[str, list[Seen]] = {name: [] for name in pipelines}
    empty = {name: Gallery(p.settings.face_embedder, 0) for name, p in pipelines.items()}
    started = time.perf_counter()
    for index, image in enumerate(images):
        picture = image.picture()
        for name, pipeline in pipelines.items():
            ctx = pipeline.analyze(picture, Claim(), empty[name], only=["objects"]).context
            seen[name].append(
                Seen(
                    ctx.result("objects", ObjectsResult).candidates,
                    ctx.result("faces", FacesResult).faces.boxes,
                    ctx.frame.scale,
                    ctx.timings_ms["objects"],
                )
            )
        if (index + 1) % 100 == 0:
            elapsed = time.perf_counter() - started
            print(f"{index + 1}/{len(images)} images, {elapsed:.0f} s", file=sys.stderr)
    return seen


def rules(thresholds: dict[str, float], faceless: float) -> Rules:
    """The objects analyzer's rules at the operating point under evaluation."""
    defaults = ObjectsSettings()
    return Rules(
        DEFAULT_BANNED,
        thresholds,
        faceless,
        defaults.face_in_person,
        PhoneRules(SCORE_FLOOR, None),
        defaults.nms_iou,
        WATCHED,
    )


def decide(seen: Seen, at: Rules) -> ObjectsResult:
    """What ``/analyze_frame`` answers on this frame at these rules: the analyzer's judge."""
    return judge(seen.candidates, seen.faces, at)


def match_image(image: LabelledImage, seen: Seen, weight: float) -> dict[str, ClassMatch]:
    """Box matching of every measured class the image labels, in original pixels."""
    found = seen.original(seen.candidates.found)
    out = {}
    for name in CLASSES:
        if name in image.labelled:
            own = found.of_classes([name])
            out[name] = match_boxes(
                own.boxes, own.scores, image.truth(name), image.crowds(name), weight
            )
    return out


# --- Splits and what is measured on them -----------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One labelled image as one detector's pipeline saw it, with its box matches."""

    image: LabelledImage
    seen: Seen
    matches: dict[str, ClassMatch]


#: Observations with what was decided or counted on each.
Pairs = list[tuple[Observation, T]]


def observations(images: list[LabelledImage], seen: list[Seen]) -> dict[Split, list[Observation]]:
    """Tune and report halves (``proctor.eval.datasets.sides``)."""
    side = sides(images)
    halves: dict[Split, list[Observation]] = {"tune": [], "report": []}
    for image, s, weight in zip(images, seen, weights(images), strict=True):
        halves[side[image.unit]].append(Observation(image, s, match_image(image, s, weight)))
    return halves


def of(observed: list[Observation], *datasets: str) -> list[Observation]:
    return [o for o in observed if o.image.dataset in datasets]


def pairs_of(pairs: Pairs[T], dataset: str) -> Pairs[T]:
    return [(o, x) for o, x in pairs if o.image.dataset == dataset]


def judged(observed: list[Observation], at: Rules) -> Pairs[ObjectsResult]:
    return [(o, decide(o.seen, at)) for o in observed]


def rate(pairs: Pairs[T], hit: Callable[[Observation, T], bool]) -> UnitRate:
    """Share of samples (distinct frames; people on desk and LFW) where ``hit`` holds."""
    return unit_rate([hit(o, x) for o, x in pairs], [o.image.sample for o, _ in pairs])


def pooled(observed: list[Observation], name: str) -> ClassMatch:
    return concat(o.matches[name] for o in observed if name in o.matches)


def units(observed: list[Observation]) -> list[dict[tuple[str, str], ClassMatch]]:
    """The matches of each split unit (an image, a frame block) keyed by (set, class): what
    an AP bootstrap resamples."""
    grouped: dict[str, dict[tuple[str, str], list[ClassMatch]]] = {}
    for o in observed:
        unit = grouped.setdefault(o.image.unit, {})
        for name, match in o.matches.items():
            unit.setdefault((o.image.dataset, name), []).append(match)
    return [{key: concat(parts) for key, parts in unit.items()} for unit in grouped.values()]


def ap_of(key: tuple[str, str]) -> Callable[[Sequence[dict[tuple[str, str], ClassMatch]]], float]:
    return lambda chosen: average_precision(concat(u[key] for u in chosen if key in u))


def banned_map(chosen: Sequence[dict[tuple[str, str], ClassMatch]]) -> float:
    return float(np.mean([ap_of(key)(chosen) for key in BANNED_APS]))


def median_ms(observed: list[Observation]) -> Estimate:
    return bootstrap([o.seen.ms for o in observed], statistics.median)


def people_rates(counted: Pairs[int]) -> dict[str, UnitRate]:
    """COCO: exact count and MULTIPLE_PEOPLE agreement; one-person sets: counted as one."""
    coco = pairs_of(counted, "coco")
    out = {
        "coco exact": rate(coco, lambda o, count: count == o.image.people),
        "coco multiple": rate(coco, lambda o, count: (count >= 2) == (o.image.people >= 2)),
    }
    for dataset in ("exam", *PLAIN_SETS):
        out[f"{dataset} one"] = rate(pairs_of(counted, dataset), lambda o, count: count == 1)
    return out


def choose_thresholds(tune: list[Observation]) -> dict[str, float]:
    """The F1 rule per class over the tune images of every set labelling it."""
    return {name: choose_threshold(pooled(tune, name)) for name in CLASSES}


def choose_faceless(tune: list[Observation], thresholds: dict[str, float]) -> float:
    """The people-count rule: mean of COCO MULTIPLE_PEOPLE agreement and exam frames counted as
    one, over grid values at least the person threshold, ties to the higher."""
    boxed = of(tune, "coco", "exam")

    def merit(faceless: float) -> tuple[float, float]:
        at = rules(thresholds, faceless)
        counts = people_rates([(o, r.people_count) for o, r in judged(boxed, at)])
        return round((counts["coco multiple"].value + counts["exam one"].value) / 2, 6), faceless

    return max((t for t in GRID if t >= thresholds[PERSON]), key=merit)


@dataclass(frozen=True)
class Scores:
    """One detector at the operating point chosen on tune; all but ``tune_*`` on report."""

    thresholds: dict[str, float]
    faceless: float
    tune_map: Estimate
    tune_ms: Estimate
    banned_map: Estimate
    coco_ap: dict[str, Estimate]
    exam_ap: Estimate
    coco: dict[str, Counts]  # box counts at the class's threshold
    false_images: dict[str, UnitRate]  # COCO images without the class that report it
    exam_recall: UnitRate  # phone frames whose phone box a detection at threshold matches
    held: dict[str, UnitRate]  # exam frames reporting a phone, by the object held up
    absent: UnitRate  # exam frames reporting laptop, book or tv (none is there)
    plain: dict[str, UnitRate]  # "<set> <alert code>" on desk and LFW, each person once
    people: dict[str, UnitRate]
    ms: Estimate


def score(halves: dict[Split, list[Observation]]) -> Scores:
    """Choose the operating point on tune, then measure everything at it on report."""
    tune, report = halves["tune"], halves["report"]
    thresholds = choose_thresholds(tune)
    faceless = choose_faceless(tune, thresholds)
    decided = judged(report, rules(thresholds, faceless))
    coco, exam = pairs_of(decided, "coco"), pairs_of(decided, "exam")
    phone = thresholds["cell phone"]
    return Scores(
        thresholds,
        faceless,
        bootstrap(units(of(tune, "coco", "exam")), banned_map),
        median_ms(tune),
        bootstrap(units(of(report, "coco", "exam")), banned_map),
        {c: bootstrap(units(of(report, "coco")), ap_of(("coco", c))) for c in CLASSES},
        bootstrap(units(of(report, "exam")), ap_of(("exam", "cell phone"))),
        {c: counts_at(pooled(of(report, "coco"), c), thresholds[c]) for c in CLASSES},
        {
            c: rate(
                [p for p in coco if not p[0].image.shows(c)],
                lambda o, r, c=c: c in r.objects.labels,
            )
            for c in CLASSES
        },
        rate(
            [p for p in exam if p[0].image.holds == "cell phone"],
            lambda o, r: bool((o.matches["cell phone"].gt_scores >= phone).all()),
        ),
        {
            held: rate(
                [p for p in exam if p[0].image.holds == held],
                lambda o, r: "cell phone" in r.banned,
            )
            for held in HELD
        },
        rate(exam, lambda o, r: any(c in r.banned for c in ABSENT_IN_EXAM)),
        {
            f"{dataset} {code}": rate(
                pairs_of(decided, dataset),
                lambda o, r, code=code: any(a.code == code for a in r.alerts),
            )
            for dataset in PLAIN_SETS
            for code in ALERT_CODES
        },
        people_rates([(o, r.people_count) for o, r in decided]),
        median_ms(report),
    )


# --- The default detector -------------------------------------------------------------------


@dataclass(frozen=True)
class Contender:
    """What the default-detector rule weighs, measured on the tune split."""

    name: str
    banned_map: Estimate
    ms: Estimate
    permissive: bool
    models: int


def contender(name: str, scores: Scores) -> Contender:
    models = DETECTOR_MODELS[name]
    permissive = all(get_spec(model).permissive for model in models)
    return Contender(name, scores.tune_map, scores.tune_ms, permissive, len(models))


def choose_default(contenders: Sequence[Contender]) -> tuple[str, str]:
    """The default-detector rule (module docstring), and in words how it went."""
    best = max(contenders, key=lambda c: c.banned_map.value)
    pool = [c for c in contenders if c is best or tie(c.banned_map, best.banned_map)]
    steps = [f"best banned mAP {best.name}, tied with " + (_names(pool, best) or "none")]
    for criterion, narrowed in (
        ("licence", lambda p: [c for c in p if c.permissive] or p),
        ("speed", _fastest),
        ("simplicity", lambda p: [c for c in p if c.models == min(x.models for x in p)]),
    ):
        kept = narrowed(pool)
        if len(kept) < len(pool):
            steps.append(f"{criterion} keeps {', '.join(c.name for c in kept)}")
        pool = kept
    chosen = max(pool, key=lambda c: c.banned_map.value)
    return chosen.name, "; ".join(steps)


def _fastest(pool: list[Contender]) -> list[Contender]:
    """The fastest and those whose ms interval overlaps its (a tie)."""
    fastest = min(pool, key=lambda c: c.ms.value)
    return [c for c in pool if c is fastest or tie(c.ms, fastest.ms)]


def _names(pool: list[Contender], leave_out: Contender) -> str:
    return ", ".join(c.name for c in pool if c is not leave_out)


def licence(name: str) -> str:
    return " + ".join(
        dict.fromkeys(
            get_spec(model).license.split(";")[0].split(" (")[0] for model in DETECTOR_MODELS[name]
        )
    )


# --- Markdown -------------------------------------------------------------------------------


def _split_table(halves: dict[Split, list[Observation]]) -> list[str]:
    kinds = {
        "coco": ("COCO", "image", "images"),
        "exam": ("exam_objects", "block of 10 source frames", "blocks"),
        "desk": ("desk", "person", "people"),
        "lfw": ("LFW photos in a 640x480 frame", "person", "people"),
    }
    lines = ["| set | split unit | tune | report |", "|---|---|---|---|"]
    for dataset, (label, unit, plural) in kinds.items():
        cells = []
        for side in ("tune", "report"):
            own = of(halves[side], dataset)
            counted = {o.image.unit for o in own}
            samples = {o.image.sample for o in own}
            parts = [f"{len(counted)} {plural}"]
            if dataset == "exam":
                parts.append(f"{len(samples)} frames")
            if dataset != "coco":  # a COCO unit is an image
                parts.append(f"{len(own)} images")
            cells.append(", ".join(parts))
        lines.append(f"| {label} | {unit} | {cells[0]} | {cells[1]} |")
    return lines


def _ratio(k: float, n: float) -> str:
    return str(Rate(round(k), round(n)))


def render(
    scores: dict[str, Scores],
    chosen: tuple[str, str, str, str],
    halves: dict[Split, list[Observation]],
    faces_only: dict[str, UnitRate],
    notes: list[str],
    load: float,
) -> EvalReport:
    default, why, permissive, why_permissive = chosen
    lines = [
        "Command: `python -m proctor.eval objects --write` (also redraws "
        "`docs/objects_misses.jpg`). Rates: percent (count; 95% Wilson interval); exam_objects "
        "rates count each distinct webcam frame once (an augmented copy adds its share, hence "
        "halves) and desk and LFW rates each person once (a person adds the share of their "
        "frames). AP and mAP: value (95% bootstrap interval, units resampled). Speed: the "
        f"objects stage of `Pipeline.analyze`, median ms per frame, on {os.cpu_count()} CPU "
        f"cores (load average {load:.1f} when measured), detectors taking turns on each frame.",
        "",
        "Splits (every set dealt by its own unit):",
        "",
        *_split_table(halves),
        "",
        "**Default detector, chosen on the tune split** (banned mAP = mean AP@0.5 of cell "
        "phone, laptop, book and tv on COCO and of the exam_objects phones):",
        "",
        "| detector | licence | models | banned mAP@0.5 (tune) | ms per frame (tune) |",
        "|---|---|---|---|---|",
    ]
    for name, s in scores.items():
        models = len(DETECTOR_MODELS[name])
        lines.append(
            f"| {name} | {licence(name)} | {models} | {s.tune_map} | {s.tune_ms.format(0)} |"
        )
    lines += [
        "",
        f"Rule outcome: {why}: **{default}**. Permissive-only: {why_permissive}: **{permissive}**.",
        "",
        "**Banned objects, report split** (each detector at its tune thresholds, phone verifier "
        "off: the shipped phone decision is in [Held-up phone](#held-up-phone)):",
        "",
        "| detector | banned mAP@0.5 | exam phone AP@0.5 | exam phone boxes found | exam "
        "frames reporting a phone: phone held | wallet held | AirPods held | exam frames "
        "reporting laptop, book or tv | ms per frame |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in scores.items():
        lines.append(
            f"| {_bold(name, default)} | {s.banned_map} | {s.exam_ap} | {s.exam_recall} | "
            f"{s.held['cell phone']} | {s.held['wallet']} | {s.held['airpods']} | {s.absent} | "
            f"{s.ms.format(0)} |"
        )
    lines += [
        "",
        "**People count and plain frames, report split** (one person, nothing banned: desk "
        "frames and LFW photos; MULTIPLE_PEOPLE right = agrees with COCO on whether 2+ people "
        "are in view):",
        "",
        "| detector | person / faceless-person thr | COCO count exact | COCO MULTIPLE_PEOPLE "
        "right | exam frames counted as 1 | desk: BANNED_OBJECT | desk: MULTIPLE_PEOPLE | "
        "LFW: BANNED_OBJECT | LFW: MULTIPLE_PEOPLE |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in scores.items():
        lines.append(
            f"| {_bold(name, default)} | {s.thresholds[PERSON]:.2f} / {s.faceless:.2f} | "
            f"{s.people['coco exact']} | {s.people['coco multiple']} | {s.people['exam one']} | "
            f"{s.plain['desk BANNED_OBJECT']} | {s.plain['desk MULTIPLE_PEOPLE']} | "
            f"{s.plain['lfw BANNED_OBJECT']} | {s.plain['lfw MULTIPLE_PEOPLE']} |"
        )
    lines += [
        f"| faces alone (2+ faces) | | {faces_only['coco exact']} | "
        f"{faces_only['coco multiple']} | {faces_only['exam one']} | | "
        f"{faces_only['desk MULTIPLE_PEOPLE']} | | {faces_only['lfw MULTIPLE_PEOPLE']} |",
        "",
        "**Per class on COCO, report split**, at each detector's tune threshold (thr). "
        "Precision and recall at IoU >= 0.5; R32 = recall of boxes at least 32x32 px; false "
        "images = images without the class (not even in a crowd region) that report it:",
        "",
        "| detector | class | thr | boxes (>=32 px) | AP@0.5 | precision | recall | R32 | "
        "false images |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in scores.items():
        for c in CLASSES:
            n = s.coco[c]
            lines.append(
                f"| {_bold(name, default)} | {c} | {s.thresholds[c]:.2f} | {n.boxes:.0f} "
                f"({n.big:.0f}) | {s.coco_ap[c]} | {_ratio(n.true_positives, n.detections)} | "
                f"{_ratio(n.true_positives, n.boxes)} | {_ratio(n.big_found, n.big)} | "
                f"{s.false_images[c]} |"
            )
    lines += [f"\n{note}" for note in notes]
    d = scores[default]
    exam_units = f"report, {len({o.image.unit for o in of(halves['report'], 'exam')})} blocks"
    desk_people = f"report, {len({o.image.unit for o in of(halves['report'], 'desk')})} people"
    summary = [
        "**Banned objects and people count** "
        "([details](docs/accuracy.md#banned-objects-and-people-count)): default detector "
        f"**{default}** (permissive-only: **{permissive}**), chosen on the tune split by banned "
        "mAP; detectors whose 95% intervals overlap the best's tie with it, and a tie goes by "
        "licence (MIT/Apache before AGPL), then speed, then simplicity (one model before two). "
        f"Here: {why}. These are the detector's own figures (phone verifier off); the shipped "
        "phone decision is measured under **Held-up phone**.",
        "",
        f"| figure ({default}) | split | value (95% interval) |",
        "|---|---|---|",
        f"| banned mAP@0.5 (COCO phone, laptop, book, tv + webcam phones) | report, "
        f"{d.banned_map.units} images and blocks | {d.banned_map} |",
        f"| phone reported, webcam frames with a phone held up | {exam_units} | "
        f"{d.held['cell phone']} |",
        f"| phone reported, webcam frames with a wallet held up | {exam_units} | "
        f"{d.held['wallet']} |",
        f"| MULTIPLE_PEOPLE right (2+ people or not), COCO | report, "
        f"{d.people['coco multiple'].n} images | {d.people['coco multiple']} |",
        f"| BANNED_OBJECT on desk frames (one person, nothing banned), per person | "
        f"{desk_people} | {d.plain['desk BANNED_OBJECT']} |",
        f"| MULTIPLE_PEOPLE on desk frames, per person | {desk_people} | "
        f"{d.plain['desk MULTIPLE_PEOPLE']} |",
        f"| objects stage, median ms per frame ({os.cpu_count()} cores, load {load:.1f}) | "
        f"report, {d.ms.units} frames | {d.ms.format(0)} |",
    ]
    return EvalReport("\n".join(lines) + "\n", "\n".join(summary) + "\n")


def _bold(name: str, default: str) -> str:
    return f"**{name}**" if name == default else name


# --- The command ----------------------------------------------------------------------------


def check_code(scores: dict[str, Scores], default: str, permissive: str) -> None:
    """Say where the code's defaults differ from what the rules chose."""
    thresholds = {name: s.thresholds for name, s in scores.items()}
    if any(DEFAULT_THRESHOLDS.get(name) != t for name, t in thresholds.items()):
        print(f"NOTE: DEFAULT_THRESHOLDS should be {thresholds}")
    faceless = {name: s.faceless for name, s in scores.items()}
    if any(FACELESS_PERSON_THRESHOLDS.get(name) != t for name, t in faceless.items()):
        print(f"NOTE: FACELESS_PERSON_THRESHOLDS should be {faceless}")
    configured = (Settings().object_detector, Settings(permissive_only=True).object_detector)
    if configured != (default, permissive):
        print(f"NOTE: settings default to {configured}; the rule chose {(default, permissive)}")


def draw_misses(report: list[Observation], scores: Scores) -> str:
    """The contact sheet of the default's misses on the report split."""
    decided = judged(of(report, "coco", "exam"), rules(scores.thresholds, scores.faceless))
    misses = find_misses(
        [o.image for o, _ in decided],
        [o.seen.original(r.objects) for o, r in decided],
        MISS_CLASSES,
    )
    if not misses:
        return "no missed boxes to draw"
    size = write_contact_sheet([miss_tile(m) for m in misses], MISSES_FILE)
    return f"{len(misses)} missed boxes drawn in {MISSES_FILE.relative_to(ROOT)} ({size} bytes)"


def run(args: argparse.Namespace) -> EvalReport:
    eval_dir = args.eval_dir
    images = [
        *load_coco(eval_dir),
        *load_exam_objects(eval_dir),
        *load_desk(eval_dir),
        *load_lfw_frames(eval_dir),
    ]
    pipelines, notes = load_pipelines(args.models_dir)
    if not pipelines:
        raise SystemExit("no object detector is provisioned: run make models")
    seen = observe(pipelines, images)
    load = os.getloadavg()[0]
    halves = {name: observations(images, seen[name]) for name in pipelines}
    scores = {name: score(h) for name, h in halves.items()}
    contenders = [contender(name, s) for name, s in scores.items()]
    default, why = choose_default(contenders)
    permissive, why_permissive = choose_default(
        [c for c in contenders if c.permissive] or contenders
    )
    report = halves[default]["report"]
    faces = [(o, len(o.seen.faces)) for o in report]
    faces_only = people_rates(faces) | {
        f"{d} MULTIPLE_PEOPLE": rate(pairs_of(faces, d), lambda o, n: n >= 2) for d in PLAIN_SETS
    }
    check_code(scores, default, permissive)
    if args.write:
        print(draw_misses(report, scores[default]))
    return render(
        scores, (default, why, permissive, why_permissive), halves[default], faces_only, notes, load
    )


def phone_section(args: argparse.Namespace) -> EvalReport:
    """The held-up phone part (``proctor.eval.phone``), its README rows under a header."""
    report = phone.section(args)
    summary = [
        "**Held-up phone** ([details](docs/accuracy.md#held-up-phone)):",
        "",
        "| figure | split | value (95% interval) |",
        "|---|---|---|",
        report.summary,
    ]
    return EvalReport(report.details, "\n".join(summary))


#: Each part's block name and what writes it.
PARTS: dict[str, tuple[str, Callable[[argparse.Namespace], EvalReport]]] = {
    "detectors": ("objects", run),
    "phone": ("objects-phone", phone_section),
}


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--part", choices=list(PARTS), action="append", help="run only this part (repeatable)"
    )
    parser.add_argument(
        "--phone-data",
        type=Path,
        default=os.environ.get("PROCTOR_EVAL_PHONE_DATA"),
        help="extracted held-up phone sources (python -m tools.phone_data DIR and "
        "python -m tools.phone_data_coco DIR); default: $PROCTOR_EVAL_PHONE_DATA, else only "
        "the eval folder's sets",
    )


def main(argv: list[str] | None = None) -> int:
    return run_parts(PARTS, argv, __doc__, _options)
