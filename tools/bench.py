"""``python -m tools.bench``: per-analyzer latency of the full pipeline on real frames.

Runs the one entry point ``POST /analyze_frame`` runs, ``Pipeline.analyze`` (decode, every
enabled analyzer, response), on JPEG frames built from ``../shared/eval``: LFW faces placed
in a 640x480 webcam frame (one student enrolled through the same ``Enroller`` as
``POST /students``, in a temporary SQLite store, and claimed, so identity verifies) and the
exam_objects webcam frames. It prints the median and 90th percentile per stage, as the
pipeline times them. A benchmark, not a test: the numbers depend on the machine, so the
README names the machine they came from.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from proctor.analyzers.base import Claim
from proctor.enrollment import EnrollmentImage
from proctor.eval.cli import DEFAULT_EVAL_DIR
from proctor.eval.data import in_webcam_frame, lfw_images, read_image
from proctor.services import Services, build_services
from proctor.settings import Settings


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def frames(eval_dir: Path, count: int) -> tuple[bytes, list[bytes]]:
    """An enrollment photo of the first LFW person and ``count`` webcam-sized frames."""
    people = lfw_images(eval_dir)
    first = people[0][0]
    enroll = jpeg(in_webcam_frame(read_image(people[0][1])))
    faces = [jpeg(in_webcam_frame(read_image(p))) for name, p in people[1:] if name == first]
    webcam = sorted((eval_dir / "exam_objects" / "images").glob("*.jpg"))
    pool = faces + [path.read_bytes() for path in webcam[: max(0, count - len(faces))]]
    return enroll, (pool * (count // max(1, len(pool)) + 1))[:count]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(
    services: Services, enroll: bytes, batch: list[bytes], warmup: int
) -> dict[str, list[float]]:
    """Enroll the bench student, then analyze every frame with their claim: the pipeline's
    own timings of each stage, in milliseconds."""
    services.students.create(
        "bench",
        "Bench Student",
        services.enroller.embed([EnrollmentImage("enrollment", enroll)]),
        services.enroller.model,
    )
    claim = Claim("bench", None)
    for data in batch[:warmup]:
        services.pipeline.analyze(data, claim, services.galleries.current())
    timings: dict[str, list[float]] = {}
    for data in batch:
        # A fresh gallery snapshot per frame, as each request takes one.
        analysis = services.pipeline.analyze(data, claim, services.galleries.current())
        for stage, ms in analysis.response.timings_ms.items():
            timings.setdefault(stage, []).append(ms)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    if not args.eval_dir.is_dir():
        raise SystemExit(f"labelled images not found at {args.eval_dir}")

    enroll, batch = frames(args.eval_dir, args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        services = build_services(
            Settings(models_dir=args.models_dir, student_db=Path(tmp) / "bench.sqlite3")
        )
        try:
            timings = run(services, enroll, batch, args.warmup)
        finally:
            services.close()
    print(
        f"{len(batch)} frames (640x480 JPEG), one request at a time, "
        f"analyzers: {', '.join(services.pipeline.analyzers)}"
    )
    print()
    print("| stage | median ms | p90 ms |")
    print("|---|---|---|")
    for stage, values in timings.items():
        print(f"| {stage} | {statistics.median(values):.1f} | {percentile(values, 90):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
