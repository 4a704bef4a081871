"""Fairness of identity (``python -m proctor.eval fairness --part identity``).

Four measurements, all on real photos (``../shared/eval``; nothing synthetic stands in for a
person):

1. **1:1 false accepts per group.** Every pair of different UTKFace pseudo-identities of one
   perceived group is an impostor pair (there are no identity labels: no TAR from this set).
   FAR per group at the embedder's global threshold (``DEFAULT_THRESHOLDS``, chosen on LFW),
   pooled FAR over all within-group pairs, and the spread = highest group FAR / pooled FAR
   with a bootstrap interval over pseudo-identities. Also over same-gender pairs only (the
   harder, fairer comparison). Report split.
2. **A remedy for the spread: cohort score normalisation.** Each face gets its own "how
   alike it looks to strangers" level, the mean of its top-``k`` cosine similarities to a
   cohort of faces that are not enrolled (the **tune** split's UTKFace crops); a pair's
   score becomes ``cos - (level_a + level_b) / 2``. ``k`` (the smallest tune spread) and the
   threshold (the lowest one whose tune pooled FAR is at most the raw threshold's tune
   pooled FAR) are chosen on tune; pooled FAR and spread are measured on report. It is kept
   only if it narrows the spread without raising pooled FAR.
3. **True accepts per group**: no set on disk has identities with several photos *and*
   group labels (fairness/MANIFEST.md, "Verification set: none"), so none is reported.
4. **1:N identification** (a frame with no ``student_id``). Probes are **report**-split
   UTKFace crops: people who are not enrolled. A gallery of N students is a seeded draw of
   N faces (one per identity) from every other face on disk: the other UTKFace crops (one
   per pseudo-identity cluster, so the MANIFEST's clustering rule already keeps known
   same-person pairs out), one LFW photo per person, one desk frame per person, one live
   NUAA/MSU frame per subject, one frontal Pointing'04 photo per person, the AFLW2000
   photos, and any ``--gallery-dir`` faces; a padding face whose cosine to any face kept
   before it is >= 0.75 (the MANIFEST's rule (c)) is dropped as a possible duplicate.
   FPIR = share of probes whose best gallery match passes the 1:N rule, per group. The
   true-identification rate (TIR): LFW persons enrolled with photos 1-3 inside the padded
   gallery, probed with photos 4-6 (right person, and passing the rule).

   The 1:N rule (``identify_threshold`` in ``proctor/analyzers/identity.py``) is fitted on
   the **tune** probes: for per-comparison false-match rates p on a grid, the (1 - p)
   quantile of each group's tune impostor scores (tune probes against the tune pool), the
   highest over groups, fitted by least squares as ``t = a + b * log10(1 / p)`` (an
   exponential score tail). A non-enrolled face meets N gallery rows, so p = target / N
   keeps FPIR near the target: ``t(N) = max(t_1:1, a + b * log10(N / target))``.

All of it is measured with the default YuNet + SFace; SCRFD + MobileFaceNet gets the 1:1
spread and its own fitted 1:N rule (a compact table). More gallery faces: ``--gallery-dir``
where the command offers it, or ``PROCTOR_EVAL_GALLERY_DIR``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from proctor.analyzers.identity import (
    DEFAULT_THRESHOLDS,
    IDENTIFY_TAILS,
    IdentityResult,
    identify_threshold,
)
from proctor.eval.cli import EvalReport
from proctor.eval.data import headpose_images, in_webcam_frame, lfw_images, read_image
from proctor.eval.faces import Backend, PairCounts, load_backend
from proctor.eval.fairness_data import fairness_photos, fairness_split
from proctor.eval.splits import Split, assign
from proctor.eval.stats import Estimate, Rate, bootstrap

#: The backend measured in full (the service's default detector and embedder), then the
#: other backend, whose 1:N tail is fitted the same way.
DETECTOR, EMBEDDER = "yunet", "sface"
OTHER = ("scrfd", "mobilefacenet")
#: Cosine at or above which two photos are taken for one person (the fairness MANIFEST's
#: clustering rule (c)); padding faces that close to a kept face are dropped.
SAME_PERSON = 0.75
#: Cohort sizes tried for the normalisation (the top-k mean); chosen on tune.
COHORT_K = (5, 10, 20, 50)
#: Gallery sizes asked for; sizes above the faces on disk are reported as not measurable.
GALLERY_SIZES = (100, 1_000, 10_000)
#: Per-comparison false-match rates the 1:N tail is fitted on (each needs >= 5 tune pairs
#: above its quantile in every group).
TAIL_GRID = (1e-2, 5e-3, 2e-3, 1e-3, 5e-4, 2e-4, 1e-4)
#: A best match this close between two UTKFace crops is flagged as a probable same-person
#: pair: the top pairs above it, inspected, are mostly one celebrity in two clusters.
LIKELY_SAME = 0.5
#: Margins over the second-best match evaluated with the 1:N rule.
MARGINS = (0.0, 0.02, 0.05)
ENROLLED_PHOTOS = 3  # LFW photos 1-3 enrolled, 4-6 probe
#: The 1:N target the rule is fitted for (the default of ``identity.identify_target_fpir``).
TARGET_FPIR = 0.01
SEED = 20261130


@dataclass(frozen=True)
class Face:
    """One embedded face: its identity, where it came from, and its labels."""

    unit: str  # identity: UTKFace pseudo-identity (file), LFW person, desk person, ...
    source: str  # utkface, lfw, desk, nuaa/msu, pointing04, aflw2000, gallery-dir
    vector: np.ndarray
    group: str | None = None  # perceived group (UTKFace only)
    gender: str | None = None
    side: Split | None = None  # UTKFace and LFW split; None for padding
    photo: int = 0  # index among the identity's photos (LFW)


@dataclass
class Loaded:
    utk: list[Face]
    lfw: list[Face]  # all six photos of every LFW person
    padding: list[Face]  # faces of identities from the other sets (deduplicated)
    missed: dict[str, int] = field(default_factory=dict)  # source -> photos with no face


def _embed(backend: Backend, image: np.ndarray) -> np.ndarray | None:
    found = backend.analyze(image, embed=True).result("identity", IdentityResult).embeddings
    return found[0] if len(found) else None


def padding_images(eval_dir: Path, gallery_dir: Path | None) -> list[tuple[str, str, Path]]:
    """``(source, identity, path)``: one photo per identity from the sets that are neither
    probes nor enrolled (desk, NUAA/MSU live frames, Pointing'04 frontal, AFLW2000), then
    ``gallery_dir`` (``<dir>/<identity>/<photo>`` or ``<dir>/<photo>`` = one identity each),
    up to ``ENROLLED_PHOTOS`` photos per identity there: a student enrolled with several
    photos is several gallery rows, as in the service."""
    out: list[tuple[str, str, Path]] = []
    desk = eval_dir / "desk" / "images"
    for folder in sorted(p for p in desk.iterdir() if p.is_dir()):
        frames = sorted(folder.glob("*.jpg"))
        if frames:
            out.append(("desk", folder.name, frames[0]))
    root = eval_dir / "spoof_frames"
    labels = json.loads((root / "labels.json").read_text())
    seen: set[str] = set()
    for name, info in sorted(labels.items()):
        if info["label"] == "live" and info["subject"] not in seen:
            seen.add(info["subject"])
            out.append(("nuaa/msu", info["subject"], root / "images" / name))
    for image in headpose_images(eval_dir):
        if image.dataset == "aflw2000-3d":
            out.append(("aflw2000", image.unit, image.path))
        elif image.frontal and image.unit not in seen:
            seen.add(image.unit)
            out.append(("pointing04", image.unit, image.path))
    if gallery_dir is not None:
        photos: dict[str, int] = {}
        for path in sorted(gallery_dir.rglob("*")):
            if path.suffix.lower() in {".jpg", ".jpeg", ".png"}:
                # a folder per identity, or LFW-style flat names (Name_0001.jpg)
                flat = re.sub(r"_\d+$", "", path.stem)
                unit = path.parent.name if path.parent != gallery_dir else flat
                if unit in seen or photos.get(unit, 0) >= ENROLLED_PHOTOS:
                    continue
                photos[unit] = photos.get(unit, 0) + 1
                out.append(("gallery-dir", unit, path))
    return out


def load(
    eval_dir: Path,
    models_dir: Path,
    gallery_dir: Path | None = None,
    backend_names: tuple[str, str] = (DETECTOR, EMBEDDER),
) -> Loaded:
    backend = load_backend(*backend_names, models_dir)
    missed: dict[str, int] = {}

    def embed(source: str, image: np.ndarray) -> np.ndarray | None:
        vector = _embed(backend, image)
        if vector is None:
            missed[source] = missed.get(source, 0) + 1
        return vector

    photos = fairness_photos(eval_dir)
    sides = {p.file: side for side, items in fairness_split(photos).items() for p in items}
    utk = []
    for p in photos:
        vector = embed("utkface", p.image)
        if vector is not None:
            utk.append(Face(p.file, "utkface", vector, p.group, p.gender, sides[p.file]))
    lfw_sides = assign(person for person, _ in lfw_images(eval_dir))
    lfw, counter = [], dict[str, int]()
    for person, path in lfw_images(eval_dir):
        index = counter[person] = counter.get(person, 0) + 1
        vector = embed("lfw", in_webcam_frame(read_image(path)))
        if vector is not None:
            lfw.append(Face(person, "lfw", vector, side=lfw_sides[person], photo=index))
    padding = []
    for source, unit, path in padding_images(eval_dir, gallery_dir):
        vector = embed(source, read_image(path))
        if vector is not None:
            padding.append(Face(unit, source, vector))
    unique = deduplicate(padding, np.stack([f.vector for f in utk + lfw]))
    if len(unique) < len(padding):
        missed["duplicate (cos >= 0.75)"] = len(padding) - len(unique)
    return Loaded(utk, lfw, unique, missed)


def deduplicate(padding: list[Face], base: np.ndarray) -> list[Face]:
    """The padding faces, in order, less any within ``SAME_PERSON`` of a ``base`` face or of
    another identity's padding face kept before it (an identity's own photos may be alike)."""
    if not padding:
        return []
    vectors = np.stack([f.vector for f in padding]).astype(np.float32)
    clear = (vectors @ base.T.astype(np.float32)).max(axis=1) < SAME_PERSON
    units = np.array([f"{f.source}/{f.unit}" for f in padding])
    kept = np.zeros(len(padding), bool)
    for i in range(len(padding)):
        others = kept[:i] & (units[:i] != units[i])
        kept[i] = clear[i] and not (vectors[:i][others] @ vectors[i] >= SAME_PERSON).any()
    return [f for f, k in zip(padding, kept, strict=True) if k]


# --- 1:1 false accepts per group -------------------------------------------------------


@dataclass(frozen=True)
class GroupFar:
    threshold: float
    group: dict[str, Rate]
    same_gender: dict[str, Rate]
    pooled: Rate
    spread: Estimate  # highest group FAR / pooled FAR, bootstrap over pseudo-identities
    likely_same: dict[str, int]  # accepted pairs at raw cos >= LIKELY_SAME, per group


def group_far(
    faces: list[Face], scores: np.ndarray, threshold: float, raw: np.ndarray | None = None
) -> GroupFar:
    """False accepts among different pseudo-identities of one group (``scores[i, j]`` the
    pair's score, ``raw`` the pair's cosine when the score is not); each face is one
    pseudo-identity, so pairs of faces are pairs of units."""
    groups = np.array([f.group for f in faces])
    genders = np.array([f.gender for f in faces])
    within = np.equal.outer(groups, groups) & ~np.eye(len(faces), dtype=bool)
    same_gender = within & np.equal.outer(genders, genders)
    names = sorted({str(g) for g in groups})
    members = {g: (groups == g).astype(np.int64) for g in names}

    def counts(mask: np.ndarray) -> PairCounts:
        return PairCounts((mask & (scores >= threshold)).astype(np.int64), mask.astype(np.int64))

    pairs, gendered = counts(within), counts(same_gender)

    def per_group(table: PairCounts, weights: np.ndarray) -> dict[str, Rate]:
        return {g: table.impostor(weights * members[g]) for g in names}

    def spread(weights: np.ndarray) -> float:
        pooled = pairs.impostor(weights).value
        worst = max(r.value for r in per_group(pairs, weights).values())
        return worst / pooled if pooled else math.nan

    n = len(faces)
    ones = np.ones(n, np.int64)
    ratio = bootstrap(list(range(n)), lambda chosen: spread(np.bincount(chosen, minlength=n)))
    cosine = scores if raw is None else raw
    likely = counts(within & (cosine >= LIKELY_SAME))
    return GroupFar(
        threshold,
        per_group(pairs, ones),
        per_group(gendered, ones),
        pairs.impostor(),
        ratio,
        {g: r.k for g, r in per_group(likely, ones).items()},
    )


def threshold_for_rate(scores: np.ndarray, mask: np.ndarray, rate: float) -> float:
    """The lowest threshold (rounded up to 0.001) whose share of ``scores[mask]`` at or
    above it is at most ``rate``."""
    ordered = np.sort(scores[np.triu(mask, k=1)])[::-1]
    allowed = math.floor(rate * len(ordered) + 1e-9)
    raw = ordered[allowed] if allowed < len(ordered) else ordered[-1]
    return math.floor(float(raw) * 1000 + 1) / 1000


# --- remedy: cohort score normalisation ----------------------------------------------


def cohort_levels(vectors: np.ndarray, cohort: np.ndarray, k: int, *, self_in: bool) -> np.ndarray:
    """Each vector's mean cosine to its ``k`` most similar cohort faces (``self_in``: the
    vectors are the cohort's own rows, and a face is not its own cohort)."""
    sims = vectors @ cohort.T
    if self_in:
        np.fill_diagonal(sims, -np.inf)
    top = -np.sort(-sims, axis=1)[:, :k]
    return top.mean(axis=1)


def normalised(scores: np.ndarray, levels: np.ndarray) -> np.ndarray:
    return scores - (levels[:, None] + levels[None, :]) / 2


@dataclass(frozen=True)
class Remedy:
    k: int
    threshold: float
    tune_raw: GroupFar
    tune: GroupFar
    report: GroupFar
    kept: bool


def within_groups(faces: list[Face]) -> np.ndarray:
    groups = np.array([f.group for f in faces])
    return np.equal.outer(groups, groups) & ~np.eye(len(faces), dtype=bool)


def try_remedy(tune: list[Face], report: list[Face], raw_threshold: float, raw: GroupFar) -> Remedy:
    """Cohort normalisation with the tune faces as the cohort: k and the threshold chosen on
    tune, measured on report (see the module docstring)."""
    tv = np.stack([f.vector for f in tune])
    rv = np.stack([f.vector for f in report])
    tune_scores = tv @ tv.T
    tune_raw = group_far(tune, tune_scores, raw_threshold)
    mask = within_groups(tune)
    best: tuple[float, int, float, GroupFar] | None = None
    for k in COHORT_K:
        scores = normalised(tune_scores, cohort_levels(tv, tv, k, self_in=True))
        threshold = threshold_for_rate(scores, mask, tune_raw.pooled.value)
        result = group_far(tune, scores, threshold, tune_scores)
        if best is None or result.spread.value < best[0]:
            best = (result.spread.value, k, threshold, result)
    assert best is not None
    _, k, threshold, tuned = best
    report_raw = rv @ rv.T
    report_scores = normalised(report_raw, cohort_levels(rv, tv, k, self_in=False))
    measured = group_far(report, report_scores, threshold, report_raw)
    kept = measured.spread.value < raw.spread.value and measured.pooled.value <= raw.pooled.value
    return Remedy(k, threshold, tune_raw, tuned, measured, kept)


# --- 1:N identification ---------------------------------------------------------------


def fit_tail(impostor: dict[str, np.ndarray]) -> tuple[float, float, list[tuple[float, float]]]:
    """``(a, b, points)``: the least-squares line ``t = a + b * log10(1 / p)`` through the
    highest-over-groups (1 - p) quantile of each group's impostor scores, for the p of
    ``TAIL_GRID`` that every group has at least 5 pairs above."""
    smallest = min(len(s) for s in impostor.values())
    points = []
    for p in TAIL_GRID:
        if p * smallest < 5:
            continue
        t = max(float(np.quantile(s, 1 - p)) for s in impostor.values())
        points.append((p, t))
    x = np.array([math.log10(1 / p) for p, _ in points])
    y = np.array([t for _, t in points])
    b, a = np.polyfit(x, y, 1)
    return round(float(a), 3), round(float(b), 3), points


@dataclass(frozen=True)
class Draw:
    """A probe set against a gallery draw: each probe's best and second-best scores."""

    gallery_rows: int
    best: np.ndarray
    second: np.ndarray
    correct: np.ndarray  # best match is the probe's own identity (TIR probes)
    likely_same: np.ndarray  # best match another UTKFace crop at cos >= LIKELY_SAME


def top_two(scores: np.ndarray, student: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per probe row: best and second-best per-student score (a student's score is their
    best row, as in ``Gallery.similarities``) and the best student's index (students are
    numbered 0, 1, ... in ``student``)."""
    order = np.argsort(student, kind="stable")
    ordered = student[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    per_student = np.maximum.reduceat(scores[:, order], starts, axis=1)
    rows = np.arange(len(scores))
    who = per_student.argmax(axis=1)
    best = per_student[rows, who]
    if per_student.shape[1] < 2:
        return best, np.full(len(scores), -np.inf), ordered[starts][who]
    second = np.partition(per_student, -2, axis=1)[:, -2]
    return best, second, ordered[starts][who]


def fpir_draw(probes: list[Face], pool: list[Face], size: int, seed: int) -> Draw:
    """Each probe against a gallery of ``size`` enrolled faces: whole identities of the pool
    (all their photos: one student, several rows) in a seeded order until ``size`` rows, the
    last one cut short; the probe itself left out."""
    identities: dict[tuple[str, str], list[int]] = {}
    for i, face in enumerate(pool):
        identities.setdefault((face.source, face.unit), []).append(i)
    order = list(identities)
    rng = np.random.default_rng(seed)
    picked: list[int] = []
    student: list[int] = []
    for number in rng.permutation(len(order)):
        rows = identities[order[number]][: size - len(picked)]
        picked += rows
        student += [int(number)] * len(rows)
        if len(picked) >= size:
            break
    vectors = np.stack([pool[i].vector for i in picked])
    scores = np.stack([p.vector for p in probes]) @ vectors.T
    for row, probe in enumerate(probes):
        own = [c for c, i in enumerate(picked) if pool[i] is probe]
        scores[row, own] = -np.inf
    best, second, who = top_two(scores, np.array(student))
    utk = {number for number, key in enumerate(order) if key[0] == "utkface"}
    likely = np.array([w in utk for w in who]) & (best >= LIKELY_SAME)
    return Draw(len(picked), best, second, np.zeros(len(probes), bool), likely)


def tir_draw(lfw: list[Face], persons: set[str], pool: list[Face], size: int, seed: int) -> Draw:
    """``persons`` enrolled with photos 1-3, padded with pool faces to ``size`` students,
    probed with photos 4-6."""
    enrolled = [f for f in lfw if f.unit in persons and f.photo <= ENROLLED_PHOTOS]
    probes = [f for f in lfw if f.unit in persons and f.photo > ENROLLED_PHOTOS]
    names = sorted(persons)
    rng = np.random.default_rng(seed)
    pad = max(0, min(size - len(names), len(pool)))
    picked = rng.choice(len(pool), size=pad, replace=False)
    vectors = np.stack([f.vector for f in enrolled] + [pool[i].vector for i in picked])
    student = np.array(
        [names.index(f.unit) for f in enrolled] + list(range(len(names), len(names) + pad))
    )
    scores = np.stack([p.vector for p in probes]) @ vectors.T
    best, second, who = top_two(scores, student)
    truth = np.array([names.index(p.unit) for p in probes])
    return Draw(len(vectors), best, second, who == truth, np.zeros(len(probes), bool))


def accepted(draw: Draw, threshold: float, margin: float) -> np.ndarray:
    return (draw.best >= threshold) & (draw.best - draw.second >= margin)


def per_group_rates(probes: list[Face], hits: np.ndarray) -> dict[str, Rate]:
    groups = sorted({str(p.group) for p in probes})
    out = {g: Rate(0, 0) for g in groups}
    for probe, hit in zip(probes, hits, strict=True):
        r = out[str(probe.group)]
        out[str(probe.group)] = Rate(r.k + int(hit), r.n + 1)
    out["all"] = Rate(int(hits.sum()), len(hits))
    return out


@dataclass
class Identification:
    tail: tuple[float, float]
    points: list[tuple[float, float]]
    pool_size: dict[Split, int]
    sizes: list[int]  # gallery sizes measured (what the data allows)
    fpir_old: dict[int, dict[str, Rate]]  # at the 1:1 threshold
    fpir_new: dict[float, dict[int, dict[str, Rate]]]  # margin -> size -> group -> rate
    likely_same: dict[int, dict[str, int]]  # size -> group -> false IDs (rule) flagged
    tir_old: dict[int, Rate]
    tir_new: dict[float, dict[int, Rate]]
    tune_fpir: dict[int, dict[str, Rate]]  # the rule (no margin) on the tune probes
    thresholds: dict[int, float]  # gallery rows (FPIR draws) -> t(N)


def identification(loaded: Loaded, threshold_11: float, target: float) -> Identification:
    tune = [f for f in loaded.utk if f.side == "tune"]
    report = [f for f in loaded.utk if f.side == "report"]
    lfw_single = [f for f in loaded.lfw if f.photo == 1]

    def pool_for(side: Split) -> list[Face]:
        """Gallery faces: tune probes draw from the tune half only, report probes from all."""
        utk = tune if side == "tune" else loaded.utk
        return utk + lfw_single + loaded.padding

    tune_pool = pool_for("tune")
    tv = np.stack([f.vector for f in tune])
    pv = np.stack([f.vector for f in tune_pool])
    impostor: dict[str, list[np.ndarray]] = {}
    for i, probe in enumerate(tune):
        row = tv[i] @ pv.T
        row = row[[j for j, f in enumerate(tune_pool) if f is not probe]]
        impostor.setdefault(str(probe.group), []).append(row)
    a, b, points = fit_tail({g: np.concatenate(rows) for g, rows in impostor.items()})
    report_pool = pool_for("report")
    sizes = sorted({n for n in GALLERY_SIZES if n <= len(report_pool) - 1} | {len(report_pool) - 1})
    fpir_old: dict[int, dict[str, Rate]] = {}
    fpir_new: dict[float, dict[int, dict[str, Rate]]] = {m: {} for m in MARGINS}
    tune_fpir: dict[int, dict[str, Rate]] = {}
    likely: dict[int, dict[str, int]] = {}
    thresholds: dict[int, float] = {}
    for size in sizes:
        draw = fpir_draw(report, report_pool, size, SEED + size)
        t = identify_threshold(threshold_11, (a, b), draw.gallery_rows, target)
        thresholds[size] = t
        fpir_old[size] = per_group_rates(report, accepted(draw, threshold_11, 0.0))
        flagged = per_group_rates(report, accepted(draw, t, 0.0) & draw.likely_same)
        likely[size] = {g: r.k for g, r in flagged.items()}
        for m in MARGINS:
            fpir_new[m][size] = per_group_rates(report, accepted(draw, t, m))
        tune_size = min(size, len(tune_pool) - 1)
        tdraw = fpir_draw(tune, tune_pool, tune_size, SEED + size)
        tt = identify_threshold(threshold_11, (a, b), tdraw.gallery_rows, target)
        tune_fpir[size] = per_group_rates(tune, accepted(tdraw, tt, 0.0))
    persons = {f.unit for f in loaded.lfw if f.side == "report"}
    tir_pool = loaded.utk + [f for f in lfw_single if f.unit not in persons] + loaded.padding
    tir_old: dict[int, Rate] = {}
    tir_new: dict[float, dict[int, Rate]] = {m: {} for m in MARGINS}
    for size in sizes:
        draw = tir_draw(loaded.lfw, persons, tir_pool, size, SEED + size)
        t = identify_threshold(threshold_11, (a, b), draw.gallery_rows, target)
        hits = accepted(draw, threshold_11, 0.0) & draw.correct
        tir_old[size] = Rate(int(hits.sum()), len(hits))
        for m in MARGINS:
            hits = accepted(draw, t, m) & draw.correct
            tir_new[m][size] = Rate(int(hits.sum()), len(hits))
    return Identification(
        (a, b),
        points,
        {"tune": len(tune_pool), "report": len(report_pool)},
        sizes,
        fpir_old,
        fpir_new,
        likely,
        tir_old,
        tir_new,
        tune_fpir,
        thresholds,
    )


# --- report ------------------------------------------------------------------------


def _far_table(title: str, results: list[tuple[str, GroupFar]]) -> list[str]:
    groups = list(results[0][1].group)
    lines = [
        title,
        "",
        "| group | "
        + " | ".join(
            f"{name}: FAR | {name}: same-gender FAR | {name}: of the false accepts, "
            f"cos >= {LIKELY_SAME}"
            for name, _ in results
        )
        + " |",
        "|---|" + "---|---|---|" * len(results),
    ]
    for g in groups:
        cells = [
            f"{r.group[g].percent(3)} | {r.same_gender[g].percent(3)} | {r.likely_same[g]}"
            for _, r in results
        ]
        lines.append(f"| {g} | " + " | ".join(cells) + " |")
    lines.append(
        "| pooled | "
        + " | ".join(f"{r.pooled.percent(3)} | | {sum(r.likely_same.values())}" for _, r in results)
        + " |"
    )
    lines.append(
        "| spread (highest / pooled) | "
        + " | ".join(f"{r.spread.format(1, units=False)} | |" for _, r in results)
        + " |"
    )
    return lines


def _worst(rates: dict[str, Rate]) -> tuple[str, Rate]:
    return max(((g, r) for g, r in rates.items() if g != "all"), key=lambda item: item[1].value)


def render(
    loaded: Loaded,
    raw: GroupFar,
    remedy: Remedy,
    ident: Identification,
    threshold_11: float,
    target: float,
) -> tuple[str, str]:
    report = [f for f in loaded.utk if f.side == "report"]
    sources: dict[str, int] = {}
    for f in loaded.padding:
        sources[f.source] = sources.get(f.source, 0) + 1
    lines = [
        "### Identity",
        "",
        f"Backend: {DETECTOR} + {EMBEDDER}. Faces embedded: {len(loaded.utk)} UTKFace crops "
        f"({len(report)} report, {len(loaded.utk) - len(report)} tune), "
        f"{len({f.unit for f in loaded.lfw})} LFW persons x 6 photos in a 640x480 frame, and "
        f"{len(loaded.padding)} padding identities ("
        + ", ".join(f"{n} {s}" for s, n in sorted(sources.items()))
        + "). Photos without a face or dropped: "
        + (", ".join(f"{n} {s}" for s, n in sorted(loaded.missed.items())) or "none")
        + ".",
        "",
        *_far_table(
            f"**1:1 false accepts by perceived group**, report split, every pair of different "
            f"pseudo-identities within a group, at the global threshold {threshold_11:.2f} "
            "(`DEFAULT_THRESHOLDS`, chosen on LFW). Wilson intervals over pairs; the spread's "
            "interval is a bootstrap over pseudo-identities:",
            [("raw cosine", raw)],
        ),
        "",
        f"**Remedy tried: cohort score normalisation** (score = cos - mean of the two faces' "
        f"top-k cosine to the tune-split cohort of {len(loaded.utk) - len(report)} non-enrolled "
        f"faces). Chosen on tune: k = {remedy.k} (smallest tune spread over k in "
        f"{', '.join(map(str, COHORT_K))}), threshold {remedy.threshold:.3f} (tune pooled FAR "
        f"{remedy.tune.pooled.percent(3)} vs raw {remedy.tune_raw.pooled.percent(3)}; tune "
        f"spread {remedy.tune.spread.format(1, units=False)} vs raw "
        f"{remedy.tune_raw.spread.format(1, units=False)}). On report:",
        "",
        *_far_table("", [("raw cosine", raw), ("cohort-normalised", remedy.report)])[2:],
        "",
        "Verdict: **"
        + ("kept" if remedy.kept else "not kept")
        + "** (the rule: keep only if the report spread narrows and the report pooled FAR does "
        "not rise, point estimates; overlapping intervals make either a tie).",
        "",
        "**True-accept rate per group: not measured.** No photo set on disk has identities "
        'with several photos *and* group labels (fairness/MANIFEST.md, "Verification set: '
        "none\"; LFW's 40 persons carry no group labels and none are assigned here).",
        "",
        "**1:N identification** (no `student_id` claimed). Probes: the report split's "
        f"{len(report)} UTKFace crops, people who are not enrolled. Gallery of N: a seeded "
        f"draw of N identities, one face each, from the pool of {ident.pool_size['report']} "
        "faces (the other UTKFace crops of both splits, one LFW photo per person, the padding "
        "above), the probe itself left out. The pool is what the disk holds, so N = "
        f"{', '.join(map(str, ident.sizes))} are measured; "
        + ", ".join(str(n) for n in GALLERY_SIZES if n not in ident.sizes)
        + " are **not measurable** without more faces (see the README). "
        "FPIR = share of probes whose best match passes the rule.",
        "",
        f"The rule, fitted on the tune split (tune probes against the {ident.pool_size['tune']}"
        "-face tune pool; per-comparison quantiles, highest over groups): "
        + ", ".join(f"p={p:g}: {t:.3f}" for p, t in ident.points)
        + f" -> t = {ident.tail[0]:.3f} + {ident.tail[1]:.3f} * log10(1/p); "
        f"t(N) = max({threshold_11:.2f}, a + b * log10(N / {target:g})). Thresholds at the "
        "measured sizes: "
        + ", ".join(f"N={n}: {t:.3f}" for n, t in ident.thresholds.items())
        + ".",
        "",
        f"| gallery N | group | FPIR, 1:1 threshold (before) | FPIR, 1:N rule (report) | "
        f"of which the match is a UTKFace crop at cos >= {LIKELY_SAME} | FPIR, 1:N rule (tune) |",
        "|---|---|---|---|---|---|",
    ]
    for n in ident.sizes:
        for g, rate in ident.fpir_new[0.0][n].items():
            tune_rate = ident.tune_fpir[n].get(g)
            lines.append(
                f"| {n} | {g} | {ident.fpir_old[n][g].percent(2)} | {rate.percent(2)} | "
                f"{ident.likely_same[n][g]} | {tune_rate.percent(2) if tune_rate else ''} |"
            )
    persons = len({f.unit for f in loaded.lfw if f.side == "report"})
    lines += [
        "",
        f"True-identification rate (TIR): the {persons} report LFW persons enrolled with photos "
        f"1-{ENROLLED_PHOTOS} inside a gallery padded to N students, probed with photos "
        f"{ENROLLED_PHOTOS + 1}-6 (right person and passing the rule; no group labels). "
        "And the margin over the second-best student, with the rule:",
        "",
        "| gallery N | TIR, 1:1 threshold | "
        + " | ".join(
            f"TIR, rule, margin {m:.2f} | worst-group FPIR, margin {m:.2f}" for m in MARGINS
        )
        + " |",
        "|---|---|" + "---|---|" * len(MARGINS),
    ]
    for n in ident.sizes:
        cells = []
        for m in MARGINS:
            g, rate = _worst(ident.fpir_new[m][n])
            cells.append(f"{ident.tir_new[m][n].percent(1)} | {g} {rate.percent(2)}")
        lines.append(f"| {n} | {ident.tir_old[n].percent(1)} | " + " | ".join(cells) + " |")
    summary_rows = [
        f"| highest per-group FAR / pooled FAR at {threshold_11:.2f}, {EMBEDDER} (UTKFace) | "
        f"report, {len(report)} pseudo-identities | {raw.spread.format(1, units=False)} |",
        f"| same, cohort-normalised (remedy, {'kept' if remedy.kept else 'not kept'}) | report | "
        f"{remedy.report.spread.format(1, units=False)}; pooled FAR "
        f"{remedy.report.pooled.percent(3)} vs {raw.pooled.percent(3)} |",
    ]
    for n in ident.sizes:
        g, rate = _worst(ident.fpir_new[0.0][n])
        og, old = _worst(ident.fpir_old[n])
        summary_rows.append(
            f"| 1:N FPIR, worst group, gallery {n} (UTKFace probes) | report, {len(report)} "
            f"probes | {g} {rate.percent(2)} (1:1 threshold before: {og} {old.percent(2)}) |"
        )
    for n in GALLERY_SIZES:
        if n not in ident.sizes:
            summary_rows.append(
                f"| 1:N FPIR, worst group, gallery {n:,} | report | not measurable: "
                f"{ident.pool_size['report']} distinct faces on disk |"
            )
    largest = ident.sizes[-1]
    summary_rows.append(
        f"| 1:N TIR, gallery {largest} (LFW, {persons} persons) | report | "
        f"{ident.tir_new[0.0][largest].percent(1)} |"
    )
    return "\n".join(lines), "\n".join(summary_rows)


def render_other(name: str, threshold_11: float, raw: GroupFar, ident: Identification) -> str:
    """The other backend: its spread and its own fitted 1:N rule, compactly."""
    a, b = ident.tail
    lines = [
        f"**{name}** (the non-commercial backend), the same measurements: 1:1 threshold "
        f"{threshold_11:.2f}; report pooled FAR {raw.pooled.percent(3)}, spread "
        f"{raw.spread.format(1, units=False)} (worst group "
        f"{max(raw.group, key=lambda g: raw.group[g].value)}). Its 1:N tail, fitted on tune: "
        f"t = {a:.3f} + {b:.3f} * log10(1/p).",
        "",
        "| gallery N | t(N) | worst-group FPIR, 1:1 threshold | worst-group FPIR, 1:N rule | "
        "TIR, 1:1 threshold | TIR, 1:N rule |",
        "|---|---|---|---|---|---|",
    ]
    for n in ident.sizes:
        og, old = _worst(ident.fpir_old[n])
        g, new = _worst(ident.fpir_new[0.0][n])
        lines.append(
            f"| {n} | {ident.thresholds[n]:.3f} | {og} {old.percent(2)} | {g} {new.percent(2)} | "
            f"{ident.tir_old[n].percent(1)} | {ident.tir_new[0.0][n].percent(1)} |"
        )
    return "\n".join(lines)


def measure(
    eval_dir: Path, models_dir: Path, gallery_dir: Path | None, names: tuple[str, str]
) -> tuple[Loaded, GroupFar, Remedy | None, Identification]:
    """Everything for one backend (the remedy for the default one only)."""
    loaded = load(eval_dir, models_dir, gallery_dir, names)
    threshold = DEFAULT_THRESHOLDS[names[1]]
    tune = [f for f in loaded.utk if f.side == "tune"]
    report = [f for f in loaded.utk if f.side == "report"]
    rv = np.stack([f.vector for f in report])
    raw = group_far(report, rv @ rv.T, threshold)
    remedy = try_remedy(tune, report, threshold, raw) if names[1] == EMBEDDER else None
    ident = identification(loaded, threshold, TARGET_FPIR)
    if ident.tail != IDENTIFY_TAILS.get(names[1]):
        print(
            f"WARNING: the tune split fits the {names[1]} 1:N tail {ident.tail}; "
            f"IDENTIFY_TAILS in proctor/analyzers/identity.py has {IDENTIFY_TAILS.get(names[1])}"
        )
    return loaded, raw, remedy, ident


def section(args: argparse.Namespace) -> EvalReport:
    gallery_dir = args.gallery_dir or os.environ.get("PROCTOR_EVAL_GALLERY_DIR")
    folder = Path(gallery_dir) if gallery_dir else None
    loaded, raw, remedy, ident = measure(
        args.eval_dir, args.models_dir, folder, (DETECTOR, EMBEDDER)
    )
    assert remedy is not None
    details, summary = render(loaded, raw, remedy, ident, DEFAULT_THRESHOLDS[EMBEDDER], TARGET_FPIR)
    _, other_raw, _, other = measure(args.eval_dir, args.models_dir, folder, OTHER)
    other_text = render_other(
        f"{OTHER[0]} + {OTHER[1]}", DEFAULT_THRESHOLDS[OTHER[1]], other_raw, other
    )
    return EvalReport(details + "\n\n" + other_text, summary)
