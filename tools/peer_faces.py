"""The PyPI peer of the bench: what a Python developer assembles without proctor.

``face_recognition`` (dlib's HOG face detector and its 128-d ResNet embedding, from
``dlib-bin`` and ``face-recognition-models``) run on the bench's frames. It is started by
``tools/bench.py`` with the interpreter of its own virtual environment (``.bench-peer``), never
imported by proctor: it reads one JSON job on stdin and writes one JSON answer on stdout.

Job: ``{"enroll": {person: jpeg path}, "frames": [[jpeg path, person], ...], "embed": [jpeg
path, ...], "warmup": n}``. Answer: per frame the milliseconds of detection + embedding +
comparison with the claimed person, the faces found and whether the claim verified at the
library's default tolerance (0.6); per ``embed`` image its embedding (or null without a face).
"""

from __future__ import annotations

import json
import sys
import time

import face_recognition
import numpy as np

TOLERANCE = 0.6  # face_recognition's default distance for "the same person"


def encode(image: np.ndarray) -> tuple[int, list[np.ndarray]]:
    boxes = face_recognition.face_locations(image)
    return len(boxes), face_recognition.face_encodings(image, boxes)


def main() -> int:
    job = json.load(sys.stdin)
    enrolled: dict[str, np.ndarray] = {}
    for person, path in job["enroll"].items():
        _, found = encode(face_recognition.load_image_file(path))
        if found:
            enrolled[person] = found[0]
    frames = [(face_recognition.load_image_file(p), person) for p, person in job["frames"]]
    for image, _ in frames[: job["warmup"]]:
        encode(image)
    results = []
    for image, person in frames:
        started = time.perf_counter()
        count, found = encode(image)
        verified = False
        if person in enrolled and found:
            verified = bool(
                min(face_recognition.face_distance(found, enrolled[person])) <= TOLERANCE
            )
        ms = (time.perf_counter() - started) * 1000
        results.append({"ms": ms, "faces": count, "verified": verified})
    embedded = []
    for path in job["embed"]:
        _, found = encode(face_recognition.load_image_file(path))
        embedded.append(found[0].tolist() if found else None)
    json.dump({"frames": results, "enrolled": sorted(enrolled), "embed": embedded}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
