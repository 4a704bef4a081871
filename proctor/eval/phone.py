"""The held-up phone, approach by approach: ``python -m proctor.eval objects --part phone``.

Frames: ``proctor.eval.phone_data`` (shared exam_objects, desk and COCO; with
``--phone-data DIR`` the extracted COCO val2017, stock-video and earbuds-case sources).
Every figure is measured on the **report** side; the verifier's head and its operating
point were chosen on the tune side (``python -m tools.train_phone_verifier``, out-of-fold).

Each frame goes through the faces analyzer, then the objects analyzer's own steps, each
timed: the detector on the frame (``first_look``), the detector on the region around and
below the face (``second_look``), the verifier on the proposals (``verify``). The approaches
are then ``judge`` on the same candidates under different rules:

* **detector**: the frame's boxes, the detector's cell phone threshold;
* **detector + second look**: both looks' boxes, the same threshold;
* **detector + verifier**: the frame's proposals, decided by the verifier;
* **second look + verifier**: both looks' proposals, the verifier.

Each verifier approach uses its own operating point (``PHONE_OPERATING_POINTS``); the
shipped default (bold) is the one ``ObjectsSettings`` runs: the verifier without the second
look, which tied it on tune recall at the cost of a second detector pass.

A frame reports a phone when ``cell phone`` is among its banned objects. Recall counts phone
frames, false alarms look-alike and plain frames; each distinct frame counts once (an
augmented copy adds its share; desk people once each). ms: median per frame of the steps the
approach runs, on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from proctor.analyzers.base import Claim
from proctor.analyzers.faces import FacesResult
from proctor.analyzers.objects import (
    FRAME,
    SECOND_LOOK,
    Candidates,
    ObjectsAnalyzer,
    PhoneRules,
    Rules,
    judge,
)
from proctor.eval.cli import EvalReport
from proctor.eval.metrics import UnitRate, unit_rate
from proctor.eval.phone_data import KINDS, PHONE, PhoneFrame, phone_frames
from proctor.gallery import Gallery
from proctor.models.objects.backends import PHONE_OPERATING_POINTS
from proctor.pipeline import Pipeline
from proctor.services import build_pipeline
from proctor.settings import ObjectsSettings, Settings

GOALS = {"phone": 0.8, "lookalike": 0.10, "plain": 0.01}


@dataclass(frozen=True)
class Approach:
    name: str
    second_look: bool
    verifier: bool


APPROACHES = (
    Approach("detector", False, False),
    Approach("detector + second look", True, False),
    Approach("detector + verifier", False, True),
    Approach("second look + verifier", True, True),
)
#: The lowest phone floor of the operating points: every proposal any approach may verify.
VERIFY_FLOOR = min(floor for floor, _ in PHONE_OPERATING_POINTS.values())


def shipped() -> Approach:
    """The approach the default settings run (the verifier on, the second look as chosen)."""
    second_look = ObjectsSettings().second_look
    return next(a for a in APPROACHES if a.verifier and a.second_look == second_look)


@dataclass(frozen=True)
class PhoneSeen:
    """One frame as the objects analyzer's steps saw it, and each step's time."""

    frame: PhoneFrame
    candidates: Candidates  # both looks, every proposal >= the floor verified
    faces: np.ndarray
    ms: dict[str, float]  # first, second, verify_first, verify_all


def phone_pipeline(models_dir: Path, **objects: object) -> Pipeline:
    """Faces + objects at the default settings but for ``objects`` (the eval verifies from
    ``VERIFY_FLOOR``; training runs without the verifier)."""
    settings = Settings(models_dir=models_dir, analyzers=["faces", "objects"], objects=objects)
    return build_pipeline(settings)


def _timed(step, *args) -> tuple[object, float]:
    started = time.perf_counter()
    value = step(*args)
    return value, 1000 * (time.perf_counter() - started)


def observe(frames: list[PhoneFrame], pipeline: Pipeline) -> list[PhoneSeen]:
    analyzer = pipeline.get("objects")
    if not isinstance(analyzer, ObjectsAnalyzer) or analyzer.verifier is None:
        raise SystemExit("the objects analyzer or its phone verifier is not provisioned")
    gallery = Gallery(pipeline.settings.face_embedder, 0)
    seen = []
    for frame in frames:
        ctx = pipeline.analyze(frame.image.picture(), Claim(), gallery, only=["faces"]).context
        image = ctx.frame.image
        faces = ctx.result("faces", FacesResult).faces
        first, first_ms = _timed(analyzer.first_look, image)
        second, second_ms = _timed(analyzer.second_look, image, faces)
        parts = [(first, FRAME)] + ([(second, SECOND_LOOK)] if second is not None else [])
        only_first = Candidates.joined(parts[:1])
        _, verify_first = _timed(analyzer.verify, image, only_first, VERIFY_FLOOR)
        candidates = Candidates.joined(parts)
        _, verify_all = _timed(analyzer.verify, image, candidates, VERIFY_FLOOR)
        ms = {
            "first": first_ms,
            "second": second_ms,
            "verify_first": verify_first,
            "verify_all": verify_all,
        }
        seen.append(PhoneSeen(frame, candidates, faces.boxes, ms))
    return seen


def approach_rules(base: Rules, approach: Approach) -> Rules:
    """The analyzer's rules under ``approach``: its own operating point with the verifier."""
    floor, threshold = PHONE_OPERATING_POINTS[approach.second_look]
    return Rules(
        base.banned,
        base.thresholds,
        base.faceless_threshold,
        base.face_in_person,
        PhoneRules(floor, threshold if approach.verifier else None),
        base.merge_iou,
        base.listed,
    )


def reports_phone(seen: PhoneSeen, rules: Rules, approach: Approach) -> bool:
    candidates = seen.candidates
    if not approach.second_look:
        candidates = candidates[candidates.looks == FRAME]
    return PHONE in judge(candidates, seen.faces, rules).banned


def approach_ms(seen: PhoneSeen, approach: Approach) -> float:
    ms = seen.ms["first"]
    if approach.second_look:
        ms += seen.ms["second"]
    if approach.verifier:
        ms += seen.ms["verify_all" if approach.second_look else "verify_first"]
    return ms


def rates(seen: list[PhoneSeen], hits: list[bool]) -> dict[str, UnitRate]:
    out = {}
    for kind in KINDS:
        mine = [(s, h) for s, h in zip(seen, hits, strict=True) if s.frame.kind == kind]
        out[kind] = unit_rate([h for _, h in mine], [s.frame.image.sample for s, _ in mine])
    return out


def table(seen: list[PhoneSeen], base: Rules) -> list[str]:
    sources = sorted({s.frame.source for s in seen})
    lines = [
        "| approach | source | phone frames: recall | look-alike frames: false alarms "
        "| plain frames: false alarms | ms per frame (median) |",
        "|---|---|---|---|---|---|",
    ]
    for approach in APPROACHES:
        rules = approach_rules(base, approach)
        hits = [reports_phone(s, rules, approach) for s in seen]
        ms = statistics.median(approach_ms(s, approach) for s in seen)
        for source in [*sources, "pooled"]:
            mine = [i for i, s in enumerate(seen) if source in ("pooled", s.frame.source)]
            found = rates([seen[i] for i in mine], [hits[i] for i in mine])
            cells = [str(found[k]) if found[k].n else "" for k in KINDS]
            label = f"**{source}**" if source == "pooled" else source
            name = f"**{approach.name}**" if approach == shipped() else approach.name
            lines.append(f"| {name} | {label} | {' | '.join(cells)} | {ms:.0f} |")
    return lines


def goal_lines(seen: list[PhoneSeen], base: Rules) -> tuple[list[str], dict[str, UnitRate]]:
    default = shipped()
    rules = approach_rules(base, default)
    pooled = rates(seen, [reports_phone(s, rules, default) for s in seen])
    lines = []
    for kind, goal in GOALS.items():
        rate = pooled[kind]
        low, high = rate.interval
        if kind == "phone":
            met, shown, sense = rate.value >= goal, low >= goal, ">="
        else:
            met, shown, sense = rate.value <= goal, high <= goal, "<="
        verdict = "met" if met else "not met"
        if met and not shown:
            verdict += " by the estimate; the 95% interval still reaches past the goal"
        lines.append(
            f"- {kind} frames: {rate} against the goal {sense} {100 * goal:.0f}%: {verdict}"
        )
    return lines, pooled


def section(args: argparse.Namespace) -> EvalReport:
    frames = [f for f in phone_frames(args.eval_dir, args.phone_data) if f.side == "report"]
    pipeline = phone_pipeline(args.models_dir, phone_floor=VERIFY_FLOOR, hands=False)
    analyzer = pipeline.get("objects")
    assert isinstance(analyzer, ObjectsAnalyzer)
    seen = observe(frames, pipeline)
    base = analyzer.rules
    goals, pooled = goal_lines(seen, base)
    counts = {k: sum(1 for f in frames if f.kind == k) for k in KINDS}
    details = "\n".join(
        [
            "Command: `python -m proctor.eval objects --part phone --phone-data DIR --write` "
            "(`DIR` from `python -m tools.phone_data DIR` and `python -m tools.phone_data_coco "
            "DIR`; without it only the shared sets are measured). Report split only: "
            f"{counts['phone']} phone, {counts['lookalike']} look-alike and {counts['plain']} "
            "plain images. Rates: percent (frames; 95% Wilson interval), each distinct frame "
            "once (an augmented copy adds its share; desk people once each). Detector: "
            f"{pipeline.settings.object_detector}, cell phone threshold "
            f"{base.thresholds.get(PHONE)}; verifier operating points (phone floor, "
            "threshold; chosen on tune out-of-fold by `python -m tools.train_phone_verifier`): "
            f"frame alone {PHONE_OPERATING_POINTS[False]}, with the second look "
            f"{PHONE_OPERATING_POINTS[True]}; the shipped default in bold. "
            f"ms: this machine ({os.cpu_count()} CPU cores, load average "
            f"{os.getloadavg()[0]:.1f}), the objects steps only.",
            "",
            *table(seen, base),
            "",
            f"Per-frame goals, shipped default ({shipped().name}), report split pooled:",
            "",
            *goals,
        ]
    )
    alone = APPROACHES[0]
    before = rates(seen, [reports_phone(s, approach_rules(base, alone), alone) for s in seen])
    summary = "\n".join(
        f"| {label}: {alone.name} -> {shipped().name} | report, {pooled[kind].n} frames or people "
        f"| {before[kind]} -> {pooled[kind]} |"
        for kind, label in (
            ("phone", "phone frames reporting the phone"),
            ("lookalike", "look-alike frames called a phone"),
            ("plain", "plain frames called a phone"),
        )
    )
    return EvalReport(details, summary)
