"""``python -m proctor.bench``: per-analyzer latency of the full pipeline on real frames.

Runs the same function as ``POST /analyze_frame`` (decode, pipeline, response) on JPEG
frames built from ``../shared/eval``: LFW faces placed in a 640x480 webcam frame (one
student enrolled and claimed, so identity verifies) and the exam_objects webcam frames.
It prints the median and 90th percentile per stage. A benchmark, not a test: the numbers
depend on the machine, so the README names the machine they came from.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from proctor.api.routes.analyze import analyze_bytes
from proctor.enrollment import EnrollmentImage
from proctor.eval.common import DEFAULT_EVAL_DIR
from proctor.eval.faces import in_webcam_frame, lfw_images
from proctor.services import build_services
from proctor.settings import Settings


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def frames(eval_dir: Path, count: int) -> tuple[bytes, list[bytes]]:
    """An enrollment photo of the first LFW person and ``count`` webcam-sized frames."""
    people = lfw_images(eval_dir)
    first = people[0][0]
    enroll = jpeg(in_webcam_frame(cv2.imread(str(people[0][1]))))
    faces = [jpeg(in_webcam_frame(cv2.imread(str(p)))) for name, p in people[1:] if name == first]
    webcam = sorted((eval_dir / "exam_objects" / "images").glob("*.jpg"))
    pool = faces + [path.read_bytes() for path in webcam[: max(0, count - len(faces))]]
    return enroll, (pool * (count // max(1, len(pool)) + 1))[:count]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proctor.bench", description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        services = build_services(
            Settings(models_dir=args.models_dir, student_db=Path(tmp) / "bench.sqlite3")
        )
        enroll, batch = frames(args.eval_dir, args.frames)
        services.students.create(
            "bench",
            "Bench Student",
            services.enroller.embed([EnrollmentImage("e", enroll)]),
            services.enroller.model,
        )
        for data in batch[: args.warmup]:
            analyze_bytes(services, data, "bench", None)
        timings: dict[str, list[float]] = {}
        for data in batch:
            result = analyze_bytes(services, data, "bench", None)
            for stage, ms in result.timings_ms.items():
                timings.setdefault(stage, []).append(ms)
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
