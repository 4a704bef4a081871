"""Face detection and identity accuracy on real labelled images (``python -m proctor.eval faces``).

Data (``../shared/eval``, see its MANIFESTs):

* ``faces/identities``: 40 LFW identities x 6 tight 350x350 crops, one face each, split by
  person (``proctor.eval.splits``): 20 tune persons, 20 report persons. Each photo is analyzed
  in a 640x480 grey "webcam" frame (the face then covers what a student at a laptop covers);
  the report persons' photos are also counted as is and composed side by side into 2-4
  person frames.
* Per perceived group (``fairness/``): detection under webcam conditions, false accepts,
  their spread and 1:N false identifications are measured by ``python -m proctor.eval
  fairness`` (``proctor.eval.fairness_detection``, ``proctor.eval.fairness_identity``).

Every frame goes through ``Pipeline.analyze`` (``only=["faces"]`` to count faces,
``only=["identity"]`` for the embedding of the largest face, with an empty gallery), so the
evaluation measures exactly what the service runs.

Identity threshold rule (the defaults in ``proctor/analyzers/identity.py``): on the tune
persons' pairs (same person: genuine; different persons: impostor), the lowest cosine
similarity, rounded up to 0.01, whose false-accept rate is at most 0.1 %. TAR and FAR at that
threshold are then measured on the report persons' pairs, with a Wilson interval over pairs
and, since pairs share people, a bootstrap interval over persons (which is too narrow in its
turn when there are only a few errors). The same is done for FAR 1 %. Two backends are a tie
when either kind of interval overlaps.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from proctor.analyzers.base import Claim, FrameContext
from proctor.analyzers.faces import FacesResult
from proctor.analyzers.identity import DEFAULT_THRESHOLDS, IdentityResult
from proctor.eval.cli import EvalReport, eval_main
from proctor.eval.data import in_webcam_frame, lfw_split, read_image, side_by_side
from proctor.eval.splits import assign
from proctor.eval.stats import Estimate, Rate, bootstrap, tie
from proctor.gallery import Gallery
from proctor.models.faces.backends import DEFAULT_MIN_SCORES
from proctor.pipeline import Pipeline
from proctor.services import build_pipeline
from proctor.settings import NON_PERMISSIVE_BACKENDS as NON_PERMISSIVE
from proctor.settings import Settings

TARGET_FAR = 0.001
SECOND_FAR = 0.01
#: (detector, embedder) pairs evaluated, the default first: the permissive set and the
#: non-commercial one.
BACKENDS = (("yunet", "sface"), ("scrfd", "mobilefacenet"))
GROUP_SIZES = (2, 3, 4)
SCORE_GRID = tuple(round(0.3 + 0.05 * i, 2) for i in range(14))  # 0.30 ... 0.95
LATENCY_FRAMES = 30

Photo = tuple[str, np.ndarray]  # (unit: person or pseudo-identity, image)


@dataclass(frozen=True)
class Backend:
    detector: str
    embedder: str
    pipeline: Pipeline

    @property
    def label(self) -> str:
        return f"{self.detector} + {self.embedder}"

    def analyze(self, image: np.ndarray, *, embed: bool) -> FrameContext:
        """The pipeline on one frame: faces only, or faces and their embeddings."""
        empty = Gallery(self.embedder, 0)
        only = ["identity"] if embed else ["faces"]
        return self.pipeline.analyze(image, Claim(), empty, only=only).context

    def count(self, image: np.ndarray) -> int:
        return len(self.analyze(image, embed=False).result("faces", FacesResult).faces)


def load_backend(detector: str, embedder: str, models_dir: Path) -> Backend:
    settings = Settings(
        models_dir=models_dir,
        analyzers=["faces", "identity"],
        faces={"detector": detector},
        identity={"embedder": embedder},
    )
    pipeline = build_pipeline(settings)
    if pipeline.get("identity") is None:
        raise SystemExit(f"{detector}/{embedder} not loaded: {pipeline.status}")
    return Backend(detector, embedder, pipeline)


@dataclass(frozen=True)
class Embedded:
    """The largest face's embedding of every photo with a face, and each photo's face count."""

    units: list[str]  # of the embedded photos
    vectors: np.ndarray  # (embedded photos, dim), unit length
    counts: list[int]  # faces found, per photo (embedded or not)


def embed(backend: Backend, photos: list[Photo]) -> Embedded:
    units, vectors, counts = [], [], []
    for unit, image in photos:
        ctx = backend.analyze(image, embed=True)
        found = ctx.result("identity", IdentityResult).embeddings
        counts.append(len(ctx.result("faces", FacesResult).faces))
        if len(found):
            units.append(unit)
            vectors.append(found[0])
    return Embedded(units, np.stack(vectors), counts)


def pair_scores(embeddings: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarities of all genuine and all impostor pairs (each pair once)."""
    sims = embeddings @ embeddings.T
    same = np.equal.outer(labels, labels)
    upper = np.triu(np.ones_like(same, bool), k=1)
    return sims[same & upper], sims[~same & upper]


def threshold_at_far(impostor: np.ndarray, far: float) -> float:
    """Lowest threshold (rounded up to 0.01) with FAR <= ``far``."""
    ordered = np.sort(impostor)[::-1]
    allowed = math.floor(far * len(ordered))
    raw = ordered[allowed] if allowed < len(ordered) else ordered[-1]
    return math.floor(float(raw) * 100 + 1) / 100


@dataclass(frozen=True)
class PairCounts:
    """Accepted and total pairs between every two units (off the diagonal) and within each
    unit (on it), so a rate can be recomputed for any multiset of units: a bootstrap over
    people rather than over pairs, which share people and are not independent."""

    accepted: np.ndarray  # (units, units), symmetric
    total: np.ndarray

    @classmethod
    def of(
        cls,
        units: list[str],
        vectors: np.ndarray,
        threshold: float,
        keep: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    ) -> PairCounts:
        """From every pair of photos (``units[i]``, ``vectors[i]``), units in sorted order;
        ``keep(unit_a, unit_b)`` (indices into that order) masks which pairs count."""
        names = sorted(set(units))
        index = np.searchsorted(names, units)
        onehot = np.eye(len(names))[index]
        pairs = np.triu(np.ones((len(index), len(index)), bool), k=1)
        if keep is not None:
            pairs &= keep(index[:, None], index[None, :])
        hits = pairs & (vectors @ vectors.T >= threshold)

        def by_unit(mask: np.ndarray) -> np.ndarray:
            counts = onehot.T @ mask.astype(np.float64) @ onehot
            return np.rint(counts + counts.T - np.diag(np.diag(counts))).astype(np.int64)

        return cls(by_unit(hits), by_unit(pairs))

    @cached_property
    def _between(self) -> tuple[np.ndarray, np.ndarray]:
        off = ~np.eye(len(self.total), dtype=bool)
        return self.accepted * off, self.total * off

    def _weights(self, weights: np.ndarray | None) -> np.ndarray:
        return np.ones(len(self.total), np.int64) if weights is None else weights

    def genuine(self, weights: np.ndarray | None = None) -> Rate:
        """Pairs within one unit (each unit counted as often as it is weighted)."""
        w = self._weights(weights)
        return Rate(int(w @ np.diag(self.accepted)), int(w @ np.diag(self.total)))

    def impostor(self, weights: np.ndarray | None = None) -> Rate:
        """Pairs of different units (copies of one unit in a resample are not paired)."""
        w = self._weights(weights)
        accepted, total = self._between
        return Rate(int(w @ accepted @ w) // 2, int(w @ total @ w) // 2)

    def over_units(self, rate: Callable[[PairCounts, np.ndarray], Rate]) -> Estimate:
        """``rate`` with a bootstrap interval over units."""
        n = len(self.total)
        return bootstrap(
            list(range(n)), lambda chosen: rate(self, np.bincount(chosen, minlength=n)).value
        )


@dataclass(frozen=True)
class OperatingPoint:
    threshold: float
    tune_far: Rate
    tar: Rate
    far: Rate
    tar_units: Estimate  # TAR with a bootstrap interval over report persons
    far_units: Estimate


def operating_point(
    embedded: Embedded, tune: set[str], report: set[str], far: float
) -> OperatingPoint:
    """The threshold at ``far`` on the tune persons' pairs, measured on the report persons'."""

    def pairs(units: set[str], threshold: float) -> PairCounts:
        rows = [i for i, unit in enumerate(embedded.units) if unit in units]
        return PairCounts.of([embedded.units[i] for i in rows], embedded.vectors[rows], threshold)

    rows = [i for i, unit in enumerate(embedded.units) if unit in tune]
    _, impostor = pair_scores(embedded.vectors[rows], [embedded.units[i] for i in rows])
    threshold = threshold_at_far(impostor, far)
    counts = pairs(report, threshold)
    return OperatingPoint(
        threshold,
        pairs(tune, threshold).impostor(),
        counts.genuine(),
        counts.impostor(),
        counts.over_units(PairCounts.genuine),
        counts.over_units(PairCounts.impostor),
    )


def group_frames(photos: list[Photo], people: int) -> list[np.ndarray]:
    """Frames of ``people`` different persons side by side: photo j of each of consecutive
    persons, for every j and every run of persons (no person twice in a frame)."""
    by_person: dict[str, list[np.ndarray]] = {}
    for person, image in photos:
        by_person.setdefault(person, []).append(image)
    persons = sorted(by_person)
    shots = min(len(images) for images in by_person.values())
    return [
        side_by_side([by_person[p][j] for p in persons[start : start + people]])
        for j in range(shots)
        for start in range(0, len(persons) - people + 1, people)
    ]


@dataclass
class BackendResult:
    backend: str  # "detector + embedder"
    names: tuple[str, str]  # detector, embedder
    at_target: OperatingPoint
    at_second: OperatingPoint
    report_misses: int
    counts: dict[str, Rate]  # face-count set -> exact count rate

    @property
    def embedder(self) -> str:
        return self.names[1]


def exact(counts: list[int], expected: int) -> Rate:
    return Rate(sum(c == expected for c in counts), len(counts))


def evaluate(
    backend: Backend,
    split: dict[str, list[Photo]],
    desk: list[Photo],
) -> BackendResult:
    webcam = [(p, in_webcam_frame(image)) for p, image in split["tune"] + split["report"]]
    embedded = embed(backend, webcam)
    tune = {p for p, _ in split["tune"]}
    report = {p for p, _ in split["report"]}
    at_target = operating_point(embedded, tune, report, TARGET_FAR)
    report_counts = embedded.counts[len(split["tune"]) :]
    counts = {
        "LFW crops as is (350x350, 1 face)": exact(
            [backend.count(image) for _, image in split["report"]], 1
        ),
        "LFW crops in a 640x480 frame (1 face)": exact(report_counts, 1),
    }
    for people in GROUP_SIZES:
        frames = group_frames(split["report"], people)
        counts[f"{people} LFW people side by side"] = exact(
            [backend.count(f) for f in frames], people
        )
    counts["real desk frames (webcams, 1 face)"] = exact(
        [backend.count(image) for _, image in desk], 1
    )
    return BackendResult(
        backend.label,
        (backend.detector, backend.embedder),
        at_target,
        operating_point(embedded, tune, report, SECOND_FAR),
        sum(c == 0 for c in report_counts),
        counts,
    )


def latencies_ms(
    backends: list[Backend], frames: list[np.ndarray]
) -> dict[str, tuple[float, float]]:
    """Median detect and embed milliseconds per backend. The backends take turns on each
    frame, so a machine busy with other work slows them alike."""
    times: dict[str, tuple[list[float], list[float]]] = {b.label: ([], []) for b in backends}
    for frame in frames:
        for backend in backends:
            timings = backend.analyze(frame, embed=True).timings_ms
            times[backend.label][0].append(timings["faces"])
            times[backend.label][1].append(timings["identity"])
    return {
        label: (statistics.median(detect), statistics.median(embedded))
        for label, (detect, embedded) in times.items()
    }


def render(
    results: list[BackendResult],
    split: dict[str, list[Photo]],
    latency: dict[str, tuple[float, float]],
    score_rows: list[str],
) -> list[str]:
    tune_persons = len({p for p, _ in split["tune"]})
    report_persons = len({p for p, _ in split["report"]})
    lines = [
        "Command: `python -m proctor.eval faces --write`.",
        "",
        f"Identity threshold chosen on the **tune** split (LFW, {tune_persons} persons x 6 "
        "photos, every pair; each photo in a 640x480 frame). Rule: the lowest cosine, rounded "
        "up to 0.01, whose FAR on the tune impostor pairs is at most 0.1%:",
        "",
        "| detector + embedder | threshold chosen | `DEFAULT_THRESHOLDS` | tune FAR at it |",
        "|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.backend} | **{r.at_target.threshold:.2f}** | "
            f"{DEFAULT_THRESHOLDS[r.embedder]:.2f} | {r.at_target.tune_far.percent(3)} |"
        )
    lines += [
        "",
        "Face detector minimum score chosen on the **tune** split (LFW tune persons in a "
        "640x480 frame and side by side in 2-4, and the tune persons' real desk frames). Rule: "
        "the grid value with an exact face count on the most frames, ties to the lowest "
        "(`DEFAULT_MIN_SCORES` in `proctor/models/faces/backends.py`; nearby grid values shown):",
        "",
        "| detector | min score | exact face count, tune frames |",
        "|---|---|---|",
        *score_rows,
        "",
        f"Identity on the **report** split ({report_persons} other persons x 6 photos, every "
        "pair) at the tune thresholds. Intervals: Wilson over pairs, which treats pairs as "
        "independent though they share people, and a bootstrap over persons, itself too narrow "
        "when errors are this few; read the wider:",
        "",
        "| detector + embedder | threshold | TAR | TAR, person bootstrap | FAR | "
        "FAR, person bootstrap | photos without a face |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        point = r.at_target
        lines.append(
            f"| {r.backend} | {point.threshold:.2f} | {point.tar} | "
            f"{_percent(point.tar_units)} | {point.far.percent(3)} | "
            f"{_percent(point.far_units, 3)} | {r.report_misses} |"
        )
    lines += [
        "",
        "At FAR 1% (threshold chosen the same way on tune, measured on report), and the "
        f"median milliseconds per 640x480 frame over {LATENCY_FRAMES} report frames, the "
        "backends taking turns (2-core CPU, load average "
        f"{os.getloadavg()[0]:.1f}: informative only):",
        "",
        "| detector + embedder | threshold | TAR | FAR | detect ms | embed ms |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        point = r.at_second
        lines.append(
            f"| {r.backend} | {point.threshold:.2f} | {point.tar} | {point.far.percent(2)} | "
            f"{latency[r.backend][0]:.1f} | {latency[r.backend][1]:.1f} |"
        )
    if len(results) == 2:
        a, b = (r.at_target for r in results)
        verdicts = {
            "TAR": tie(a.tar, b.tar) or tie(a.tar_units, b.tar_units),
            "FAR": tie(a.far, b.far) or tie(a.far_units, b.far_units),
        }
        permissive = [r.backend for r in results if not set(r.names) & NON_PERMISSIVE]
        lines += [
            "",
            f"{results[0].backend} vs {results[1].backend} on the report split at their "
            "thresholds (a tie when either kind of interval overlaps): "
            + ", ".join(f"{k} **{'a tie' if v else 'a difference'}**" for k, v in verdicts.items())
            + f". A tie goes to the licence first; permissive: {', '.join(permissive) or 'none'}.",
        ]
    lines += [
        "",
        f"Face count on the **report** split (exact count / frames; the group frames put photo "
        f"j of {'/'.join(map(str, GROUP_SIZES))} different report persons side by side):",
        "",
        "| set | " + " | ".join(r.backend for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for title in results[0].counts:
        lines.append(f"| {title} | " + " | ".join(str(r.counts[title]) for r in results) + " |")
    lines += [
        "",
        "Detection under webcam conditions, false accepts and 1:N false identifications by "
        "perceived group: [Fairness](#fairness) (`python -m proctor.eval fairness`).",
    ]
    return lines


def _percent(estimate: Estimate, digits: int = 1) -> str:
    """A bootstrapped rate as ``99.7% (99.0-100.0%)``."""
    if math.isnan(estimate.value):
        return "n/a"
    return (
        f"{100 * estimate.value:.{digits}f}% ({100 * estimate.low:.{digits}f}-"
        f"{100 * estimate.high:.{digits}f}%)"
    )


def summary(results: list[BackendResult], split: dict[str, list[Photo]]) -> str:
    persons = len({p for p, _ in split["report"]})
    rows = []
    for r in results:
        point = r.at_target
        rows.append(
            f"| identity TAR / FAR, {r.backend} at {point.threshold:.2f} (LFW) | report, "
            f"{persons} persons | {point.tar} / {point.far.percent(3)} |"
        )
    default = results[0]
    rows += [
        f"| one face found in a 640x480 frame, {default.backend} (LFW) | report, {persons} "
        f"persons | {default.counts['LFW crops in a 640x480 frame (1 face)']} |",
    ]
    return "\n".join(
        [
            "**Faces and identity** ([details](docs/accuracy.md#faces-and-identity)):",
            "",
            "| figure | split | value (95% interval) |",
            "|---|---|---|",
            *rows,
        ]
    )


def desk_split(eval_dir: Path) -> dict[str, list[Photo]]:
    """``desk/`` frames (real webcams, one person each) split by person."""
    frames = [
        (folder.name, path)
        for folder in sorted((eval_dir / "desk" / "images").iterdir())
        if folder.is_dir()
        for path in sorted(folder.glob("*.jpg"))
    ]
    sides = assign(person for person, _ in frames)
    out: dict[str, list[Photo]] = {"tune": [], "report": []}
    for person, path in frames:
        out[sides[person]].append((person, read_image(path)))
    return out


def counting_frames(lfw: list[Photo], desk: list[Photo]) -> list[tuple[np.ndarray, int]]:
    """Frames with a known face count: LFW photos in a webcam frame and side by side, and
    real desk frames (one person)."""
    frames = [(in_webcam_frame(image), 1) for _, image in lfw]
    frames += [(f, n) for n in GROUP_SIZES for f in group_frames(lfw, n)]
    return frames + [(image, 1) for _, image in desk]


def choose_min_score(
    detector: str, models_dir: Path, frames: list[tuple[np.ndarray, int]]
) -> tuple[float, list[str]]:
    """The detector's minimum face score by its rule: on the tune frames, the grid value
    whose face count is exact on the most frames; ties to the lowest value (a face missed is
    a NO_FACE accusation, an extra one a MULTIPLE_FACES one: equal counts favour finding)."""
    settings = Settings(
        models_dir=models_dir,
        analyzers=["faces"],
        faces={"detector": detector, "min_score": SCORE_GRID[0]},
    )
    pipeline = build_pipeline(settings)
    empty = Gallery(settings.face_embedder, 0)
    scores = [
        pipeline.analyze(image, Claim(), empty).context.result("faces", FacesResult).faces.scores
        for image, _ in frames
    ]
    exact_at = {
        t: Rate(
            sum(int((s >= t).sum()) == n for s, (_, n) in zip(scores, frames, strict=True)),
            len(frames),
        )
        for t in SCORE_GRID
    }
    best = max(exact_at.values(), key=lambda r: r.k).k
    chosen = min(t for t, r in exact_at.items() if r.k == best)
    rows = [
        f"| {detector} | {t:.2f}{' **chosen**' if t == chosen else ''} | {exact_at[t]} |"
        for t in SCORE_GRID
        if abs(t - chosen) <= 0.151 or t in (SCORE_GRID[0], SCORE_GRID[-1])
    ]
    return chosen, rows


def run(args: argparse.Namespace) -> EvalReport:
    split = {
        side: [(person, read_image(path)) for person, path in photos]
        for side, photos in lfw_split(args.eval_dir).items()
    }
    desk = desk_split(args.eval_dir)
    score_rows: list[str] = []
    for detector, _ in BACKENDS:
        chosen, rows = choose_min_score(
            detector, args.models_dir, counting_frames(split["tune"], desk["tune"])
        )
        score_rows += rows
        if chosen != DEFAULT_MIN_SCORES[detector]:
            print(
                f"WARNING: the tune split chooses min_score {chosen:.2f} for {detector}; "
                f"DEFAULT_MIN_SCORES has {DEFAULT_MIN_SCORES[detector]:.2f}"
            )
    backends = [
        load_backend(detector, embedder, args.models_dir) for detector, embedder in BACKENDS
    ]
    results = [evaluate(backend, split, desk["report"]) for backend in backends]
    frames = [in_webcam_frame(image) for _, image in split["report"][:LATENCY_FRAMES]]
    latency = latencies_ms(backends, frames)
    for r in results:
        chosen = r.at_target.threshold
        if DEFAULT_THRESHOLDS[r.embedder] != chosen:
            print(
                f"WARNING: the tune split chooses {chosen:.2f} for {r.embedder}; "
                f"DEFAULT_THRESHOLDS in proctor/analyzers/identity.py has "
                f"{DEFAULT_THRESHOLDS[r.embedder]:.2f}"
            )
        else:
            print(f"tune split: {r.embedder} threshold {chosen:.2f} (the default)")
    return EvalReport(
        "\n".join(render(results, split, latency, score_rows)), summary(results, split)
    )


def main(argv: list[str] | None = None) -> int:
    return eval_main("faces", run, argv, __doc__)
