"""Face detection and identity accuracy on real labelled images (``python -m proctor.eval faces``).

Data (``../shared/eval``, see its MANIFESTs):

* ``faces/identities``: 40 LFW identities x 6 tight 350x350 crops, one face each. Used
  as is, and placed in a 640x480 grey "webcam" frame (the face then covers what a student
  at a laptop covers), and composed side by side into 2-4 person frames for counting.
* ``fairness/detection``: 716 UTKFace crops, one adult face each, labelled by perceived
  group: per-group detection rate (also darkened) and per-group false accepts.

Identity: every LFW image is embedded once; all same-person pairs are genuine (600), all
other pairs impostors (28,080). The operating threshold rule, used for the defaults in
``proctor/faces/embedders.py``: the lowest cosine threshold, rounded up to 0.01, whose
false-accept rate on the LFW impostor pairs is at most 0.1 %.
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from proctor.analyzers.faces import FacesAnalyzer
from proctor.analyzers.identity import IdentityAnalyzer
from proctor.eval.common import eval_main
from proctor.services import build_services
from proctor.settings import Settings

TARGET_FAR = 0.001
WEBCAM_SIZE = (640, 480)
GREY = (127, 127, 127)
#: (detector, embedder) pairs evaluated: the default and the permissive-licence set.
BACKENDS = (("scrfd", "mobilefacenet"), ("yunet", "sface"))


@dataclass(frozen=True)
class Backend:
    faces: FacesAnalyzer
    identity: IdentityAnalyzer
    label: str


def load_backend(detector: str, embedder: str, models_dir: Path) -> Backend:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            models_dir=models_dir,
            student_db=Path(tmp) / "eval.sqlite3",
            faces={"detector": detector},
            identity={"embedder": embedder},
        )
        pipeline = build_services(settings).pipeline
    faces, identity = pipeline.get("faces"), pipeline.get("identity")
    if not isinstance(faces, FacesAnalyzer) or not isinstance(identity, IdentityAnalyzer):
        raise SystemExit(f"{detector}/{embedder} not loaded: {pipeline.status}")
    return Backend(faces, identity, f"{detector} + {embedder}")


def in_webcam_frame(face: np.ndarray, face_height: int = 240) -> np.ndarray:
    """Place a face crop, scaled to ``face_height`` px, in the middle of a 640x480 frame."""
    width, height = WEBCAM_SIZE
    scale = face_height / face.shape[0]
    small = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), GREY, np.uint8)
    y, x = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    frame[y : y + small.shape[0], x : x + small.shape[1]] = small
    return frame


def side_by_side(faces: list[np.ndarray], height: int = 300) -> np.ndarray:
    """Real face photos composed into one group frame, with a gap between people."""
    tiles = [cv2.resize(f, (height, height), interpolation=cv2.INTER_AREA) for f in faces]
    gap = np.full((height, height // 3, 3), GREY, np.uint8)
    row = [gap]
    for tile in tiles:
        row += [tile, gap]
    return cv2.copyMakeBorder(
        np.hstack(row), height // 3, height // 3, 0, 0, cv2.BORDER_CONSTANT, value=GREY
    )


def darken(image: np.ndarray) -> np.ndarray:
    return (255 * (image.astype(np.float32) / 255) ** 2).astype(np.uint8)


def lfw_images(eval_dir: Path) -> list[tuple[str, Path]]:
    root = eval_dir / "faces" / "identities"
    return [
        (person.name, path)
        for person in sorted(root.iterdir())
        if person.is_dir()
        for path in sorted(person.glob("*.jpg"))
    ]


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


def tar_far(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    return float((genuine >= threshold).mean()), float((impostor >= threshold).mean())


def best_accuracy(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """Threshold maximising balanced accuracy (mean of TAR and TRR), and that accuracy."""
    best = (0.0, 0.0)
    for threshold in np.arange(-0.2, 1.0, 0.005):
        tar, far = tar_far(genuine, impostor, float(threshold))
        accuracy = (tar + 1 - far) / 2
        if accuracy > best[1]:
            best = (float(threshold), accuracy)
    return best


def evaluate_detection(backend: Backend, eval_dir: Path) -> list[str]:
    images = [cv2.imread(str(p)) for _, p in lfw_images(eval_dir)]
    rows = []

    def count_rate(frames: list[np.ndarray], expected: int) -> str:
        counts = [len(backend.faces.find_faces(f)) for f in frames]
        exact = sum(c == expected for c in counts)
        return f"{exact}/{len(frames)} ({exact / len(frames):.1%})"

    rows.append(f"| LFW crops as is (350x350, 1 face) | {count_rate(images, 1)} |")
    rows.append(
        f"| LFW crops in a 640x480 frame (1 face) | "
        f"{count_rate([in_webcam_frame(i) for i in images], 1)} |"
    )
    for people in (2, 3, 4):
        groups = [
            side_by_side(images[start : start + 6 * people : 6])
            for start in range(0, len(images) - 6 * people, 6 * people)
        ]
        rows.append(
            f"| {people} LFW people side by side ({len(groups)} frames) | "
            f"{count_rate(groups, people)} |"
        )
    return rows


def evaluate_fairness_detection(backend: Backend, eval_dir: Path) -> list[str]:
    root = eval_dir / "fairness" / "detection"
    labels = json.loads((root / "labels.json").read_text())
    by_group: dict[str, list[np.ndarray]] = {}
    for name, info in sorted(labels.items()):
        by_group.setdefault(info["group"], []).append(cv2.imread(str(root / name)))
    rows = []
    for group, images in sorted(by_group.items()):
        found = sum(len(backend.faces.find_faces(i)) >= 1 for i in images)
        dark = sum(len(backend.faces.find_faces(darken(i))) >= 1 for i in images)
        rows.append(
            f"| {group} | {len(images)} | {found / len(images):.1%} | {dark / len(images):.1%} |"
        )
    return rows


def embed_lfw(backend: Backend, eval_dir: Path) -> tuple[np.ndarray, list[str], int]:
    vectors, labels, missed = [], [], 0
    for person, path in lfw_images(eval_dir):
        frame = in_webcam_frame(cv2.imread(str(path)))
        faces = backend.faces.find_faces(frame)
        if len(faces) == 0:
            missed += 1
            continue
        vectors.append(backend.identity.embed_faces(frame, faces.landmarks[:1])[0])
        labels.append(person)
    return np.stack(vectors), labels, missed


def fairness_far(backend: Backend, eval_dir: Path, threshold: float) -> list[str]:
    """Per-group false accepts: every cross-image pair within a group is an impostor pair."""
    root = eval_dir / "fairness" / "detection"
    labels = json.loads((root / "labels.json").read_text())
    vectors: dict[str, list[np.ndarray]] = {}
    for name, info in sorted(labels.items()):
        image = cv2.imread(str(root / name))
        faces = backend.faces.find_faces(image)
        if len(faces):
            vectors.setdefault(info["group"], []).append(
                backend.identity.embed_faces(image, faces.landmarks[:1])[0]
            )
    rows = []
    for group, vecs in sorted(vectors.items()):
        matrix = np.stack(vecs)
        sims = (matrix @ matrix.T)[np.triu_indices(len(matrix), k=1)]
        rows.append(f"| {group} | {len(sims)} | {(sims >= threshold).mean():.3%} |")
    return rows


def latency_ms(backend: Backend, eval_dir: Path, runs: int = 30) -> tuple[float, float]:
    frames = [in_webcam_frame(cv2.imread(str(p))) for _, p in lfw_images(eval_dir)[:runs]]
    detect, embed = [], []
    for frame in frames:
        started = time.perf_counter()
        faces = backend.faces.find_faces(frame)
        detected = time.perf_counter()
        backend.identity.embed_faces(frame, faces.landmarks[:1])
        detect.append((detected - started) * 1000)
        embed.append((time.perf_counter() - detected) * 1000)
    return statistics.median(detect), statistics.median(embed)


def run(eval_dir: Path, models_dir: Path) -> str:
    lines = ["Command: `python -m proctor.eval faces --write-readme` (2-core CPU).", ""]
    identity_rows, detection_rows, fairness_rows, far_rows = [], [], [], []
    for detector, embedder in BACKENDS:
        backend = load_backend(detector, embedder, models_dir)
        detection_rows.append(f"| **{backend.label}** | |")
        detection_rows += evaluate_detection(backend, eval_dir)
        fairness_rows += [
            f"| **{backend.label}** | | | |",
            *evaluate_fairness_detection(backend, eval_dir),
        ]
        vectors, labels, missed = embed_lfw(backend, eval_dir)
        genuine, impostor = pair_scores(vectors, labels)
        threshold = threshold_at_far(impostor, TARGET_FAR)
        tar, far = tar_far(genuine, impostor, threshold)
        tar_1 = tar_far(genuine, impostor, threshold_at_far(impostor, 0.01))[0]
        best_t, best_acc = best_accuracy(genuine, impostor)
        det_ms, emb_ms = latency_ms(backend, eval_dir)
        identity_rows.append(
            f"| {backend.label} | {len(genuine)} / {len(impostor)} | {missed} | {tar_1:.1%} | "
            f"**{threshold:.2f}** | {tar:.1%} | {far:.3%} | {best_acc:.1%} at {best_t:.3f} | "
            f"{det_ms:.1f} | {emb_ms:.1f} |"
        )
        far_rows += [
            f"| **{backend.label}** at {threshold:.2f} | | |",
            *fairness_far(backend, eval_dir, threshold),
        ]
    lines += [
        "Identity (LFW, 40 people x 6 photos, every pair; each photo in a 640x480 frame):",
        "",
        "| detector + embedder | genuine / impostor pairs | photos without a face | "
        "TAR at FAR 1% | threshold (FAR <= 0.1%) | TAR | FAR | best balanced accuracy | "
        "detect ms | embed ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *identity_rows,
        "",
        "Face count (exact count / frames):",
        "",
        "| set | exact face count |",
        "|---|---|",
        *detection_rows,
        "",
        "Detection by perceived group (UTKFace 200x200 crops; darkened = 255*(x/255)^2):",
        "",
        "| group | images | face found | face found, darkened |",
        "|---|---|---|---|",
        *fairness_rows,
        "",
        "False accepts by perceived group at the default threshold (UTKFace, every pair of "
        "different people within a group):",
        "",
        "| group | impostor pairs | FAR |",
        "|---|---|---|",
        *far_rows,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return eval_main("faces", run, argv, __doc__)
