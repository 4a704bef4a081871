"""Passive spoof check on real live and attack images (``python -m proctor.eval spoof``).

Data (``../shared/eval``, see its MANIFESTs):

* ``spoof_frames``: 228 full webcam-like frames of 22 subjects (NUAA: a printed photo held
  up by hand, paper edges visible; MSU-MFSD: a print or an iPad/iPhone replay filling the
  view). This is the case that matters in an exam, and the one the threshold is chosen on.
* ``desk``: 190 real webcam frames of 29 people alone at their desks (all live): the
  live people of an exam, added to the live side of the frames, split by person.
* ``spoof``: 465 tight face crops from eight repositories (one or two people each; phone or
  monitor replays, many of unknown medium). The crops leave the models little of the
  context they were trained on; they are reported at the same threshold, nothing is chosen
  on them.

Both are split by subject (``proctor.eval.splits``; the frames per source, so each side
holds NUAA and MSU subjects). Every image goes through ``Pipeline.analyze`` with the faces
and spoof analyzers, both MiniFASNet models loaded, so V2 alone, V1SE alone and the fused
pair are scored from the same crops the service cuts.

Threshold rule, per model choice, on the **tune** frames: the lowest grid value at which the
upper end of the 95 % interval of the BPCER (live frames called spoof) is at most 5 %, so as
many attacks as possible are caught while the issue's BPCER target holds with confidence,
not only on average. A live student called an attack is the error that must not happen (the
signed active challenge, ``/liveness``, is the strong check), and the tune BPCER rests on a
few dozen people: a threshold that just meets 5 % on them (0.35) gave 17.5 % on the report
people. The shipped model choice is the one with the lowest tune APCER at its
threshold; ties (overlapping Wilson intervals) go to the fused pair (the reference use).
The report split is also shown at a few higher thresholds, for deployments that would
rather miss attacks than accuse live students: nothing is chosen from those rows.

One explainable cue is tried: the share of high-frequency energy in the face (a print or a
re-filmed screen loses fine detail). Its limit is chosen on tune (the highest value keeping
the combined tune BPCER at most 5 %) and it would be kept only if the report split showed
an APCER gain beyond the intervals without a BPCER loss beyond them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from proctor.analyzers.base import Claim
from proctor.analyzers.faces import FacesResult
from proctor.analyzers.spoof import SpoofResult, spoof_score
from proctor.eval.cli import EvalReport, eval_main
from proctor.eval.data import read_image
from proctor.eval.splits import Split, assign, split_by_group
from proctor.eval.stats import Rate, tie
from proctor.gallery import Gallery
from proctor.pipeline import Pipeline
from proctor.services import build_pipeline
from proctor.settings import Settings

TARGET_BPCER = 0.05
GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))  # 0.05 ... 0.95
SHOWN_THRESHOLDS = (0.5, 0.7, 0.9, 0.95)
CUE_GRID = tuple(round(0.15 + 0.01 * i, 2) for i in range(16))  # 0.15 ... 0.30
#: Score of each model choice from the per-model real-class probabilities.
VARIANTS: dict[str, Callable[[dict[str, float]], float]] = {
    "fused": spoof_score,
    "v2": lambda real: spoof_score({"v2": real["v2"]}),
    "v1se": lambda real: spoof_score({"v1se": real["v1se"]}),
}
FREQ_SIDE = 128  # the face is resampled to this square before its spectrum is taken
FREQ_CUTOFF = 0.25  # "high" frequencies: beyond this fraction of the sampling rate


@dataclass(frozen=True)
class Scored:
    """One labelled image and what the pipeline said about it."""

    label: str  # live / spoof
    attack: str  # print / replay / unknown / none
    subject: str
    source: str  # nuaa / msu for the frames; the repository for the crops
    split: Split
    real: dict[str, float]  # per model real-class probability; empty when no face
    sharpness: float  # high-frequency share of the face's spectrum (nan when no face)
    cues: tuple[str, ...]

    @property
    def spoof(self) -> bool:
        return self.label == "spoof"

    def score(self, variant: str) -> float:
        return VARIANTS[variant](self.real)


def high_frequency_share(image: np.ndarray, box: np.ndarray) -> float:
    """Share of the face's spectral energy (DC and the lowest ring left out) above
    ``FREQ_CUTOFF`` of the sampling rate, on a fixed-size grey face: the tried cue."""
    x_min, y_min, x_max, y_max = (int(v) for v in box)
    grey = cv2.cvtColor(image[max(y_min, 0) : y_max, max(x_min, 0) : x_max], cv2.COLOR_BGR2GRAY)
    face = cv2.resize(grey, (FREQ_SIDE, FREQ_SIDE), interpolation=cv2.INTER_AREA).astype(float)
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(face - face.mean())))
    ys, xs = np.mgrid[:FREQ_SIDE, :FREQ_SIDE] - FREQ_SIDE // 2
    radius = np.hypot(ys, xs) / FREQ_SIDE
    return float(spectrum[radius > FREQ_CUTOFF].sum() / spectrum[radius > 2 / FREQ_SIDE].sum())


def load_pipeline(models_dir: Path) -> Pipeline:
    settings = Settings(
        models_dir=models_dir, analyzers=["faces", "spoof"], spoof={"models": "fused"}
    )
    pipeline = build_pipeline(settings)
    if pipeline.get("spoof") is None:
        raise SystemExit(f"spoof analyzer not loaded: {pipeline.status['spoof'].error}")
    return pipeline


@dataclass(frozen=True)
class Labelled:
    """One image of a spoof set, its labels and its split."""

    path: Path
    label: dict[str, str]
    split: Split


def labelled(
    root: Path,
    images: str,
    group_of: Callable[[dict[str, str]], str],
) -> list[Labelled]:
    """Every image of one set, split by subject within each ``group_of`` group."""
    labels: dict[str, dict[str, str]] = json.loads((root / "labels.json").read_text())
    names = sorted(labels)
    sides = split_by_group(names, lambda n: labels[n]["subject"], lambda n: group_of(labels[n]))
    split_of = {name: side for side, members in sides.items() for name in members}
    return [Labelled(root / images / n, labels[n], split_of[n]) for n in names]


def spoof_frames(eval_dir: Path) -> list[Labelled]:
    """The full frames, split by subject within NUAA and within MSU."""
    return labelled(eval_dir / "spoof_frames", "images", frames_source)


def spoof_crops(eval_dir: Path) -> list[Labelled]:
    """The tight crops, split by subject (= repository) all together: splitting within
    each repository would put every one of them on the tune side."""
    return labelled(eval_dir / "spoof", ".", lambda _: "crops")


def desk_frames(eval_dir: Path) -> list[Labelled]:
    """``desk/``: real webcam frames of people alone at their desks, all live, split by
    person as every evaluation splits them (more live people for the BPCER side)."""
    paths = sorted((eval_dir / "desk" / "images").glob("*/*.jpg"))
    sides = assign(path.parent.name for path in paths)
    return [
        Labelled(
            path,
            {"label": "live", "attack": "", "subject": f"desk:{path.parent.name}"},
            sides[path.parent.name],
        )
        for path in paths
    ]


def score_set(
    pipeline: Pipeline, items: list[Labelled], source_of: Callable[[dict[str, str]], str]
) -> list[Scored]:
    """What the pipeline says about each image."""
    nobody = Gallery(pipeline.settings.face_embedder, 0)
    out = []
    for item in items:
        ctx = pipeline.analyze(read_image(item.path), Claim(), nobody).context
        faces = ctx.result("faces", FacesResult).faces
        result = ctx.result("spoof", SpoofResult)
        sharpness = (
            high_frequency_share(ctx.frame.image, faces.boxes[0]) if len(faces) else float("nan")
        )
        out.append(
            Scored(
                item.label["label"],
                item.label["attack"] or "none",
                item.label["subject"],
                source_of(item.label),
                item.split,
                result.real,
                sharpness,
                tuple(result.cues),
            )
        )
    return out


def frames_source(label: dict[str, str]) -> str:
    return label["subject"].split(":")[0]


def crops_source(label: dict[str, str]) -> str:
    return label["subject"].removeprefix("repo:")


def judged(items: list[Scored], split: Split) -> list[Scored]:
    return [i for i in items if i.split == split and i.real]


def bpcer(items: list[Scored], said_spoof: Callable[[Scored], bool]) -> Rate:
    live = [i for i in items if not i.spoof]
    return Rate(sum(said_spoof(i) for i in live), len(live))


def apcer(items: list[Scored], said_spoof: Callable[[Scored], bool]) -> Rate:
    attacks = [i for i in items if i.spoof]
    return Rate(sum(not said_spoof(i) for i in attacks), len(attacks))


def at(variant: str, threshold: float) -> Callable[[Scored], bool]:
    return lambda item: item.score(variant) >= threshold


def choose_threshold(tune: list[Scored], variant: str) -> float:
    """The rule in the module docstring."""
    allowed = [t for t in GRID if bpcer(tune, at(variant, t)).interval[1] <= TARGET_BPCER]
    if not allowed:
        raise SystemExit(f"no threshold keeps the tune BPCER of {variant} under 5% with confidence")
    return min(allowed)


def choose_cue(tune: list[Scored], variant: str, threshold: float) -> float:
    """Highest sharpness limit (below it: spoof) keeping the combined tune BPCER at 5%."""
    model = at(variant, threshold)
    allowed = [
        c
        for c in CUE_GRID
        if bpcer(tune, lambda i, c=c: model(i) or i.sharpness < c).value <= TARGET_BPCER
    ]
    return max(allowed, default=CUE_GRID[0])


@dataclass(frozen=True)
class Choice:
    variant: str
    threshold: float
    tune_bpcer: Rate
    tune_apcer: Rate


def rows_for(items: list[Scored], said_spoof: Callable[[Scored], bool], title: str) -> list[str]:
    """BPCER, APCER overall, per attack type and per source, as table rows."""
    rows = [
        f"| {title}: BPCER | {bpcer(items, said_spoof)} |",
        f"| {title}: APCER, all attacks | {apcer(items, said_spoof)} |",
    ]
    for attack in sorted({i.attack for i in items if i.spoof}):
        chosen = [i for i in items if i.attack == attack]
        rows.append(f"| {title}: APCER, {attack} | {apcer(chosen, said_spoof)} |")
    for source in sorted({i.source for i in items}):
        chosen = [i for i in items if i.source == source]
        rows.append(
            f"| {title}: {source} BPCER / APCER | {bpcer(chosen, said_spoof)} / "
            f"{apcer(chosen, said_spoof)} |"
        )
    return rows


def run(args: argparse.Namespace) -> EvalReport:
    pipeline = load_pipeline(args.models_dir)
    frames = score_set(
        pipeline, spoof_frames(args.eval_dir) + desk_frames(args.eval_dir), frames_source
    )
    crops = score_set(pipeline, spoof_crops(args.eval_dir), crops_source)
    tune, report = judged(frames, "tune"), judged(frames, "report")
    choices = []
    for variant in VARIANTS:
        threshold = choose_threshold(tune, variant)
        rule = at(variant, threshold)
        choices.append(Choice(variant, threshold, bpcer(tune, rule), apcer(tune, rule)))
    best = min(choices, key=lambda c: c.tune_apcer.value)
    fused = choices[0]
    shipped = fused if tie(fused.tune_apcer, best.tune_apcer) else best
    defaults = Settings().spoof
    if (defaults.models, defaults.threshold) != (shipped.variant, shipped.threshold):
        print(
            f"WARNING: the tune split chooses spoof.models={shipped.variant} threshold "
            f"{shipped.threshold:.2f}; the defaults are {defaults.models} "
            f"{defaults.threshold:.2f}"
        )
    model = at(shipped.variant, shipped.threshold)
    cue = choose_cue(tune, shipped.variant, shipped.threshold)

    def with_cue(item: Scored) -> bool:
        return model(item) or item.sharpness < cue

    cue_gain = not tie(apcer(report, with_cue), apcer(report, model)) and (
        apcer(report, with_cue).value < apcer(report, model).value
    )
    cue_cost = not tie(bpcer(report, with_cue), bpcer(report, model)) and (
        bpcer(report, with_cue).value > bpcer(report, model).value
    )
    keep_cue = cue_gain and not cue_cost
    if keep_cue:
        print("WARNING: the sharpness cue gains on the report split; the analyzer lacks it")
    details = render(frames, crops, choices, shipped, cue, model, with_cue, keep_cue, tune, report)
    return EvalReport("\n".join(details), summary(report, crops, shipped, model))


def render(
    frames: list[Scored],
    crops: list[Scored],
    choices: list[Choice],
    shipped: Choice,
    cue: float,
    model: Callable[[Scored], bool],
    with_cue: Callable[[Scored], bool],
    keep_cue: bool,
    tune: list[Scored],
    report: list[Scored],
) -> list[str]:
    def subjects(items: list[Scored]) -> int:
        return len({i.subject for i in items})

    clamped = sum("box_clamped" in i.cues for i in frames)
    reduced = sum("scale_reduced" in i.cues for i in frames)
    lines = [
        "Command: `python -m proctor.eval spoof --write`. ISO/IEC 30107-3 terms: **APCER** = "
        "attacks accepted as live, **BPCER** = live people called attacks; each with its count "
        "and 95% Wilson interval over images (frames of one subject are correlated, so the "
        "intervals are too narrow; read them as the least uncertainty there is).",
        "",
        f"**Full frames** (`spoof_frames`, live and attacks, plus the live people of "
        f"`desk`): tune {len(tune)} frames of {subjects(tune)} subjects, report {len(report)} "
        f"frames of {subjects(report)} other subjects (split by subject within NUAA, MSU and "
        f"desk). A face was found in "
        f"{sum(bool(i.real) for i in frames)}/{len(frames)} frames; the 4.0x crop needed its "
        f"scale reduced in {reduced} and the enlarged box shifted inside the frame in "
        f"{clamped} (cues `scale_reduced`, `box_clamped`), as the reference does.",
        "",
        "Threshold per model choice, chosen on **tune** (rule in `proctor/eval/spoof.py`: "
        "the lowest value on a 0.05 grid whose tune BPCER is at most 5% with 95% "
        "confidence: the upper end of its interval), and what it gives on **report**:",
        "",
        "| models | threshold | tune BPCER | tune APCER | report BPCER | report APCER |",
        "|---|---|---|---|---|---|",
    ]
    for c in choices:
        rule = at(c.variant, c.threshold)
        mark = " **shipped**" if c is shipped else ""
        lines.append(
            f"| {c.variant}{mark} | {c.threshold:.2f} | {c.tune_bpcer} | {c.tune_apcer} | "
            f"{bpcer(report, rule)} | {apcer(report, rule)} |"
        )
    lines += [
        "",
        f"The shipped check ({shipped.variant}, threshold {shipped.threshold:.2f}) on the "
        "**report** frames, per attack type and per source:",
        "",
        "| figure | value (95% interval) |",
        "|---|---|",
        *rows_for(report, model, "full frames"),
        "",
        f"The same report frames at higher thresholds ({shipped.variant}; informative only, "
        "nothing is chosen from them):",
        "",
        "| threshold | report BPCER | report APCER |",
        "|---|---|---|",
        *[
            f"| {t:.2f} | {bpcer(report, at(shipped.variant, t))} | "
            f"{apcer(report, at(shipped.variant, t))} |"
            for t in SHOWN_THRESHOLDS
        ],
        "",
        f"Tried cue: share of high-frequency energy in the face below {cue:.2f} also means spoof "
        "(limit chosen on tune). It is "
        + (
            "**kept**"
            if keep_cue
            else "**not kept**: the report split shows no gain beyond "
            "the intervals, or a BPCER cost"
        )
        + ":",
        "",
        "| split | model alone: BPCER / APCER | model + cue: BPCER / APCER |",
        "|---|---|---|",
    ]
    for side, items in (("tune", tune), ("report", report)):
        lines.append(
            f"| {side} | {bpcer(items, model)} / {apcer(items, model)} | "
            f"{bpcer(items, with_cue)} / {apcer(items, with_cue)} |"
        )
    crop_report = judged(crops, "report")
    missed = [i for i in crops if i.split == "report" and not i.real]
    lines += [
        "",
        f"**Tight crops** (`spoof`, report split: {len(crop_report)} crops with a face of "
        f"{subjects(crop_report)} repositories; no face found in {len(missed)} more) at the "
        "same threshold. The crops leave the 2.7x and 4.0x boxes almost no context (the scale "
        f"was reduced in {sum('scale_reduced' in i.cues for i in crop_report)} of them):",
        "",
        "| figure | value (95% interval) |",
        "|---|---|",
        *rows_for(crop_report, model, "crops"),
    ]
    return lines


def summary(
    report: list[Scored], crops: list[Scored], shipped: Choice, model: Callable[[Scored], bool]
) -> str:
    crop_report = judged(crops, "report")
    subjects = len({i.subject for i in report})
    return "\n".join(
        [
            "**Passive spoof check** ([details](docs/accuracy.md#passive-spoof-check)), "
            f"MiniFASNet {shipped.variant} at {shipped.threshold:.2f}:",
            "",
            "| figure | split | value (95% interval) |",
            "|---|---|---|",
            f"| BPCER, full webcam frames | report, {subjects} subjects | {bpcer(report, model)} |",
            f"| APCER, full webcam frames (print + replay) | report, {subjects} subjects | "
            f"{apcer(report, model)} |",
            f"| BPCER / APCER, tight face crops | report | {bpcer(crop_report, model)} / "
            f"{apcer(crop_report, model)} |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    return eval_main("spoof", run, argv, __doc__)
