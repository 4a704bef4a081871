"""``python -m proctor.eval fairness --part alerts``: clean-frame alert rate per group.

How often does a student who is alone, facing the screen, with nothing banned in view, get
any alert? Goal (the fairness issue): at most 1 % for every group.

Data (``../shared/eval``, see its MANIFESTs):

* **Composites, per perceived group.** Each UTKFace crop of ``fairness/detection`` on the
  **report** half of the pseudo-identities (``fairness_split``; nothing is tuned here, so the
  tune half is not used) is placed into a 640x480 frame over a real photograph of an empty
  room (``proctor.eval.fairness_data.in_room``: scaled to 230 px, feathered ellipse, slightly
  below centre; the room chosen by a hash of the file name).
* **Desk frames.** ``desk/``: 190 real webcam frames of 29 people alone at their desks, nothing
  banned in view. No group labels (none are assigned here): reported per person and pooled,
  split by person as every evaluation splits them (the spoof and object thresholds were
  chosen with the tune persons among their live frames, so the report persons are the
  headline).

Every frame goes through the real default pipeline (``build_pipeline(Settings())``, every
default analyzer) with a claim, so identity has a real answer: each person is enrolled, all
of them in one gallery per set (as in an exam with many students), and each frame claims its
own person. A UTKFace person is enrolled from the crop itself (the embedding the identity
analyzer gives on the unplaced crop, as ``proctor.enrollment`` does); a desk person from their
first frame (by file name) that shows exactly one face, and probed with their other frames.
A person who cannot be enrolled (no single face on the enrollment image) is left out and
counted.

A composite **is** a pasted photograph, so the passive spoof check may flag it, rightly or
wrongly: composite rates are shown with every analyzer and again without SPOOF_SUSPECTED.
The desk frames are live webcam frames and count every analyzer.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from proctor.analyzers.base import Claim
from proctor.analyzers.identity import IdentityResult
from proctor.eval.cli import EvalReport
from proctor.eval.data import read_image
from proctor.eval.fairness_data import (
    FACE_WIDTH,
    FairnessPhoto,
    background_for,
    fairness_photos,
    fairness_split,
    in_room,
    room_backgrounds,
)
from proctor.eval.neutral import Looks, judged
from proctor.eval.splits import SPLITS, Split, assign
from proctor.eval.stats import Rate
from proctor.gallery import Gallery
from proctor.geometry.neutral import neutral_from
from proctor.pipeline import Pipeline
from proctor.services import build_pipeline
from proctor.settings import Settings

GOAL = 0.01
SPOOF = "SPOOF_SUSPECTED"
ALL_GROUPS = "ALL"


@dataclass(frozen=True)
class Probe:
    """One frame of one enrolled person and the alert codes the pipeline raised on it."""

    person: str
    group: str  # perceived group for composites; "desk" for the desk frames
    split: Split
    codes: tuple[str, ...]
    banned: tuple[str, ...] = ()  # the banned classes reported (BANNED_OBJECT's cause)
    room: str = ""  # the background a composite was placed on (its index)
    looks: Looks | None = None  # what head pose and gaze measured (to judge from a neutral)


# --- pure helpers --------------------------------------------------------------------------


def alerted(codes: Iterable[str], exclude: frozenset[str] = frozenset()) -> bool:
    """Whether any alert not in ``exclude`` was raised."""
    return any(code not in exclude for code in codes)


def frame_rate(probes: Sequence[Probe], exclude: frozenset[str] = frozenset()) -> Rate:
    """Share of frames with any alert (``exclude`` left out)."""
    return Rate(sum(alerted(p.codes, exclude) for p in probes), len(probes))


def person_rate(probes: Sequence[Probe], exclude: frozenset[str] = frozenset()) -> Rate:
    """Share of persons with any alert on any of their frames."""
    hit: dict[str, bool] = {}
    for p in probes:
        hit[p.person] = hit.get(p.person, False) or alerted(p.codes, exclude)
    return Rate(sum(hit.values()), len(hit))


def code_counts(probes: Sequence[Probe]) -> Counter[str]:
    """Per alert code, the number of frames on which it fired (once per frame)."""
    return Counter(code for p in probes for code in set(p.codes))


def banned_counts(probes: Sequence[Probe]) -> Counter[str]:
    """Per banned class, the number of frames on which it was reported."""
    return Counter(name for p in probes for name in set(p.banned))


def listed(counts: Counter[str]) -> str:
    """``a 3, b 1``: most frequent first; ``none`` when empty."""
    return ", ".join(f"{k} {counts[k]}" for k in sorted(counts, key=lambda k: (-counts[k], k)))


def by_group(probes: Sequence[Probe]) -> dict[str, list[Probe]]:
    """Probes per group, groups sorted, plus ``ALL`` last."""
    groups: dict[str, list[Probe]] = {}
    for p in sorted(probes, key=lambda p: p.group):
        groups.setdefault(p.group, []).append(p)
    groups[ALL_GROUPS] = list(probes)
    return groups


def worst_group(probes: Sequence[Probe], exclude: frozenset[str] = frozenset()) -> tuple[str, Rate]:
    """The group with the highest frame-level alert rate (ties: the larger count, then name)."""
    rates = {g: frame_rate(ps, exclude) for g, ps in by_group(probes).items() if g != ALL_GROUPS}
    name = max(sorted(rates), key=lambda g: (rates[g].value, rates[g].k))
    return name, rates[name]


def group_table(probes: Sequence[Probe], not_enrolled: Counter[str]) -> list[str]:
    rows = [
        "| group | persons (= frames) | not enrolled | any alert, every analyzer | "
        f"any alert, without {SPOOF} |",
        "|---|---|---|---|---|",
    ]
    for group, ps in by_group(probes).items():
        missing = sum(not_enrolled.values()) if group == ALL_GROUPS else not_enrolled[group]
        name = f"**{group}**" if group == ALL_GROUPS else group
        rows.append(
            f"| {name} | {len(ps)} | {missing} | {frame_rate(ps)} | "
            f"{frame_rate(ps, frozenset({SPOOF}))} |"
        )
    return rows


def code_table(probes: Sequence[Probe]) -> list[str]:
    """Frames per alert code (columns: groups and ALL), codes by total count."""
    groups = by_group(probes)
    totals = code_counts(probes)
    if not totals:
        return ["No alert fired on any frame."]
    counts = {g: code_counts(ps) for g, ps in groups.items()}
    rows = [
        "| code | " + " | ".join(f"{g} (n={len(groups[g])})" for g in groups) + " |",
        "|---|" + "---|" * len(groups),
    ]
    for code in sorted(totals, key=lambda c: (-totals[c], c)):
        rows.append(f"| {code} | " + " | ".join(str(counts[g][code]) for g in groups) + " |")
    return rows


def room_notes(probes: Sequence[Probe]) -> list[str]:
    """What BANNED_OBJECT reported on the composites, and on how many of the rooms."""
    flagged = [p for p in probes if "BANNED_OBJECT" in p.codes]
    if not flagged:
        return ["BANNED_OBJECT did not fire on any composite."]
    rooms = {p.room for p in probes}
    per_room = Counter(p.room for p in flagged)
    return [
        f"BANNED_OBJECT on the composites: classes reported (frames) "
        f"{listed(banned_counts(flagged))}; on frames over {len(per_room)} of the "
        f"{len(rooms)} rooms used (most: "
        + ", ".join(
            f"room {r}: {per_room[r]} of {sum(p.room == r for p in probes)} frames"
            for r in sorted(per_room, key=lambda r: (-per_room[r], r))[:3]
        )
        + "). The rooms' COCO annotations show no banned object.",
    ]


def desk_tables(probes: Sequence[Probe], attempt: Sequence[Probe]) -> list[str]:
    """Single frames and the same frames judged from the person's neutral, per split."""
    rows = [
        "| persons | probe frames | frames with any alert: single frames | "
        "in an attempt | persons with any alert: single frames | in an attempt |",
        "|---|---|---|---|---|---|",
    ]
    for side in (*SPLITS, "both"):
        alone = [p for p in probes if side in (p.split, "both")]
        judged = [p for p in attempt if side in (p.split, "both")]
        rows.append(
            f"| {side}, {len({p.person for p in alone})} persons | {len(alone)} | "
            f"{frame_rate(alone)} | {frame_rate(judged)} | {person_rate(alone)} | "
            f"{person_rate(judged)} |"
        )
    rows += [
        "",
        f"Frames per alert code (both splits), single frames: "
        f"{listed(code_counts(probes)) or 'none'}; in an attempt: "
        f"{listed(code_counts(attempt)) or 'none'}. Banned classes reported (frames): "
        f"{listed(banned_counts(probes)) or 'none'}.",
        "",
        "| person | split | probe frames | frames with any alert, in an attempt | "
        "codes (frames), in an attempt |",
        "|---|---|---|---|---|",
    ]
    persons = sorted({(p.split, p.person) for p in attempt})
    for number, (side, person) in enumerate(persons, start=1):
        ps = [p for p in attempt if p.person == person]
        mine = code_counts(ps)
        named = ", ".join(f"{c} {mine[c]}" for c in sorted(mine)) or "-"
        rows.append(f"| desk person {number} | {side} | {len(ps)} | {frame_rate(ps)} | {named} |")
    return rows


# --- running the pipeline ------------------------------------------------------------------


def room_index(file: str, backgrounds: list[np.ndarray]) -> int:
    """Which of ``backgrounds`` ``background_for`` gives ``file``."""
    chosen = background_for(file, backgrounds)
    return next(i for i, b in enumerate(backgrounds) if b is chosen)


def enroll_embedding(pipeline: Pipeline, image: np.ndarray) -> np.ndarray | None:
    """The embedding enrollment would store for ``image``; None unless exactly one face."""
    nobody = Gallery(pipeline.settings.face_embedder, 0)
    analysis = pipeline.analyze(image, Claim(), nobody, only=["identity"])
    if analysis.response.face_count != 1:
        return None
    return analysis.context.result("identity", IdentityResult).embeddings[0]


def run_probes(
    pipeline: Pipeline,
    gallery: Gallery,
    frames: Iterable[tuple[str, str, Split, str, Callable[[], np.ndarray]]],
) -> list[Probe]:
    """Each ``(person, group, split, room, load)`` frame through the whole pipeline, claimed
    as ``person``."""
    out = []
    for person, group, split, room, load in frames:
        analysis = pipeline.analyze(load(), Claim(student_id=person), gallery)
        response = analysis.response
        codes = tuple(a.code for a in response.alerts)
        banned = tuple(response.banned_objects)
        out.append(Probe(person, group, split, codes, banned, room, Looks.of(analysis)))
    return out


def in_attempt(pipeline: Pipeline, probes: Sequence[Probe]) -> list[Probe]:
    """Each desk frame judged as in an attempt: pose and gaze from the person's neutral, here
    the medians over their *other* frames (the service takes an attempt's first
    ``attempts.neutral_frames``; a desk person has about six frames, all from one sitting)."""
    limit = pipeline.settings.attempts.neutral_max_offset_deg
    out = []
    for probe in probes:
        others = [
            b
            for p in probes
            if p.person == probe.person and p is not probe and p.looks is not None
            if (b := p.looks.bearing()) is not None
        ]
        neutral = neutral_from(others, len(others), limit)
        if neutral is None or probe.looks is None:
            out.append(probe)
            continue
        readings = {code: ("", 1.0) for code in probe.codes}
        codes = tuple(judged(pipeline, readings, probe.looks, neutral))
        out.append(replace(probe, codes=codes))
    return out


def quiet_rooms(pipeline: Pipeline, backgrounds: list[np.ndarray]) -> list[np.ndarray]:
    """The rooms on which the service, with nobody in them, raises nothing but NO_FACE: a
    room it mistakes for one with a phone or a person would measure the detector, not how the
    student's face is treated."""
    nobody = Gallery(pipeline.settings.face_embedder, 0)
    return [
        room
        for room in backgrounds
        if {a.code for a in pipeline.analyze(room, Claim(), nobody).response.alerts} <= {"NO_FACE"}
    ]


def composite_probes(
    pipeline: Pipeline, photos: Sequence[FairnessPhoto], backgrounds: list[np.ndarray]
) -> tuple[list[Probe], Counter[str]]:
    """Each UTKFace crop enrolled from the crop itself and probed in its room."""
    rows, not_enrolled, enrolled = [], Counter[str](), []
    for photo in photos:
        embedding = enroll_embedding(pipeline, photo.image)
        if embedding is None:
            not_enrolled[photo.group] += 1
            continue
        rows.append((photo.file, photo.group, embedding))
        enrolled.append(photo)
    gallery = Gallery.from_rows(pipeline.settings.face_embedder, 1, rows)
    frames = [
        (
            p.file,
            p.group,
            "report",
            str(room_index(p.file, backgrounds)),
            lambda p=p: in_room(p.image, background_for(p.file, backgrounds)),
        )
        for p in enrolled
    ]
    return run_probes(pipeline, gallery, frames), not_enrolled


def desk_folders(eval_dir: Path) -> list[Path]:
    """One folder of frames per desk person, sorted."""
    return sorted(p for p in (eval_dir / "desk" / "images").iterdir() if p.is_dir())


def desk_probes(pipeline: Pipeline, folders: Sequence[Path]) -> tuple[list[Probe], int]:
    """Each desk person enrolled from their first single-face frame, probed with the rest;
    persons split as every evaluation splits them (by the split of all ``folders``)."""
    sides = assign(folder.name for folder in folders)
    rows, frames, not_enrolled = [], [], 0
    for folder in folders:
        paths = sorted(folder.glob("*.jpg"))
        first = next(
            (
                (i, e)
                for i, path in enumerate(paths)
                if (e := enroll_embedding(pipeline, read_image(path))) is not None
            ),
            None,
        )
        if first is None:
            not_enrolled += 1
            continue
        person = folder.name
        rows.append((person, person, first[1]))
        for probe in paths[first[0] + 1 :]:
            frames.append((person, "desk", sides[person], "", lambda q=probe: read_image(q)))
    gallery = Gallery.from_rows(pipeline.settings.face_embedder, 1, rows)
    return run_probes(pipeline, gallery, frames), not_enrolled


# --- the section ---------------------------------------------------------------------------


def report(
    composites: Sequence[Probe],
    not_enrolled: Counter[str],
    desk: Sequence[Probe],
    desk_attempt: Sequence[Probe],
    desk_not_enrolled: int,
    analyzers: Sequence[str],
    rooms: tuple[int, int],
) -> EvalReport:
    """The Markdown of the part from the probes (no model runs here)."""
    no_spoof = frozenset({SPOOF})
    details = [
        "### Clean-frame alerts per group",
        "",
        "How often a student who is alone, facing the screen, with nothing banned in view, "
        f"gets **any** alert (goal: at most {100 * GOAL:.0f} % for every group). Every frame "
        "goes through the real pipeline with the default analyzers "
        f"({', '.join(analyzers)}), claiming the enrolled student in front of the camera.",
        "",
        "**How the frames were made.** Each UTKFace crop of the report half of the "
        "pseudo-identities (the tune half is not used: nothing is chosen here) is scaled to "
        f"{FACE_WIDTH} px and blended through a feathered ellipse into a 640x480 frame, "
        "slightly below centre, over a real photograph of an empty room (COCO indoor images "
        "with no person and nothing banned, kept only if the service itself raises nothing "
        f"but NO_FACE on the empty room: {rooms[0]} of {rooms[1]}; one room per face, chosen "
        "by a hash of its file name). Each person is enrolled from their unplaced crop (the "
        "embedding the identity analyzer gives on it, as enrollment stores it), all of "
        "them in one gallery, and each "
        "frame claims its own person. **What this cannot show:** a body or shoulders, the "
        "face lit like the room, a real webcam's noise, blur and auto-exposure, a student "
        "moving, glasses or headphones the crop does not already show; and the face is a "
        "photograph pasted into a photograph, so the passive spoof check may flag it rightly "
        "or wrongly: the rates are shown with every analyzer and without SPOOF_SUSPECTED. "
        "Groups are UTKFace's perceived race labels (annotator- or model-assigned, not "
        "self-reported; a coarse proxy for skin tone). One frame per person, so frames are "
        "independent units.",
        "",
        *group_table(composites, not_enrolled),
        "",
        "Frames on which each alert code fired, per group (a frame can raise several):",
        "",
        *code_table(composites),
        "",
        *room_notes(composites),
        "",
        "**Real desk frames** (``desk/``: 190 webcam frames of 29 people alone at their "
        "desks, nothing banned in view; mostly young South and East Asian men, no group "
        "labels, so reported per person and pooled). Each person is enrolled from their "
        "first frame (by file name) that shows exactly one face and probed with their "
        "other frames; every analyzer counts. In an attempt, head pose and gaze are judged "
        "from the student's neutral pose (``proctor.geometry.neutral``): here each frame is "
        "judged from the medians over the person's other frames, all from one sitting. "
        "Persons are split as every evaluation splits "
        "them; the spoof and object thresholds were chosen with the tune persons among "
        "their live frames, so the report persons are the figure to quote. A person's "
        "frames are near-duplicate bursts: the person-level rate is the independent one."
        + (f" {desk_not_enrolled} person(s) could not be enrolled." if desk_not_enrolled else ""),
        "",
        *desk_tables(desk, desk_attempt),
    ]
    group, worst = worst_group(composites)
    group_ns, worst_ns = worst_group(composites, no_spoof)
    desk_report = [p for p in desk if p.split == "report"]
    report_persons = len({p.person for p in desk_report})
    summary = [
        f"| worst-group clean-frame alert rate, every analyzer ({group}; UTKFace in rooms) "
        f"| report, {len(composites)} persons | {worst} |",
        f"| worst-group clean-frame alert rate, without {SPOOF} ({group_ns}; UTKFace in "
        f"rooms) | report, {len(composites)} persons | {worst_ns} |",
        f"| desk frames with any alert (real webcam frames), single frames | report, "
        f"{report_persons} persons | {frame_rate(desk_report)} |",
        f"| desk frames with any alert, in an attempt (judged from the person's neutral pose) "
        f"| report, {report_persons} persons | "
        f"{frame_rate([p for p in desk_attempt if p.split == 'report'])} |",
    ]
    return EvalReport("\n".join(details), "\n".join(summary))


def section(args: argparse.Namespace) -> EvalReport:
    settings = Settings(models_dir=args.models_dir)
    pipeline = build_pipeline(settings)
    missing = [name for name in settings.analyzers if pipeline.get(name) is None]
    if missing:
        why = "; ".join(f"{n}: {pipeline.status[n].error}" for n in missing)
        raise SystemExit(f"default analyzers not loaded: {why}")
    photos = fairness_split(fairness_photos(args.eval_dir))["report"]
    rooms = room_backgrounds(args.eval_dir)
    quiet = quiet_rooms(pipeline, rooms)
    composites, not_enrolled = composite_probes(pipeline, photos, quiet)
    desk, desk_not_enrolled = desk_probes(pipeline, desk_folders(args.eval_dir))
    return report(
        composites,
        not_enrolled,
        desk,
        in_attempt(pipeline, desk),
        desk_not_enrolled,
        settings.analyzers,
        (len(quiet), len(rooms)),
    )
