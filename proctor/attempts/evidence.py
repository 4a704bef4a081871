"""Evidence JPEGs: the frame that opened an incident and the one at its peak, downscaled, with
what the analyzers found drawn on it (faces with the matched name, objects with label and
score), so a reviewer sees why the service flagged it.

Only written when ``attempts.evidence`` is on. Files live under ``attempts.evidence_dir`` as
``<attempt_id>/<incident_id>-<kind>.jpg`` and are written to a temporary name first, then
renamed, so a crash never leaves a half-written JPEG under a name the store points at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import cv2
import numpy as np

from proctor.analyzers.faces import FacesResult
from proctor.analyzers.identity import IdentityResult
from proctor.analyzers.objects import ObjectsResult
from proctor.pipeline import Analysis

FACE_COLOUR = (60, 200, 60)  # BGR
STRANGER_COLOUR = (0, 165, 255)
OBJECT_COLOUR = (40, 40, 230)
JPEG_QUALITY = 80


def annotated(analysis: Analysis, max_side: int) -> np.ndarray:
    """The analysed frame, downscaled to ``max_side``, with faces and objects drawn."""
    ctx = analysis.context
    image = ctx.frame.image
    scale = min(1.0, max_side / max(image.shape[:2]))
    canvas = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    faces = ctx.results.get("faces")
    identity = ctx.results.get("identity")
    if isinstance(faces, FacesResult):
        names = identity.matches if isinstance(identity, IdentityResult) else []
        for index, box in enumerate(faces.faces.boxes):
            match = names[index] if index < len(names) else None
            known = match is not None and match.name is not None
            label = match.name if known else "unknown"  # type: ignore[union-attr]
            if match is not None and match.score is not None:
                label += f" {match.score:.2f}"
            _box(canvas, box * scale, label, FACE_COLOUR if known else STRANGER_COLOUR)
    objects = ctx.results.get("objects")
    if isinstance(objects, ObjectsResult):
        found = objects.objects
        for label, score, box in zip(found.labels, found.scores, found.boxes, strict=True):
            _box(canvas, box * scale, f"{label} {score:.2f}", OBJECT_COLOUR)
    return canvas


def _box(canvas: np.ndarray, box: np.ndarray, label: str, colour: tuple[int, int, int]) -> None:
    x0, y0, x1, y1 = (round(float(v)) for v in box)
    cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, 2)
    (width, height), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
    top = max(0, y0 - height - 6)
    cv2.rectangle(canvas, (x0, top), (x0 + width + 6, top + height + 6), colour, -1)
    cv2.putText(
        canvas, label, (x0 + 3, top + height + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255)
    )


class EvidenceFolder:
    """Where evidence JPEGs are written, read and deleted."""

    def __init__(self, root: Path, max_side: int) -> None:
        self.root = root
        self.max_side = max_side

    def write(self, attempt_id: str, incident_id: str, kind: str, analysis: Analysis) -> str:
        """Store the annotated frame; returns its path relative to the folder."""
        relative = f"{attempt_id}/{incident_id}-{kind}.jpg"
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        ok, data = cv2.imencode(
            ".jpg", annotated(analysis, self.max_side), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
        )
        if not ok:
            raise RuntimeError("the evidence frame could not be encoded")
        partial = target.with_name(f".{target.name}.tmp")
        partial.write_bytes(data.tobytes())
        os.replace(partial, target)
        return relative

    def path(self, relative: str) -> Path:
        return self.root / relative

    def delete(self, relatives: list[str]) -> None:
        """Remove these files, and their attempts' folders once empty."""
        for relative in relatives:
            target = self.root / relative
            target.unlink(missing_ok=True)
            if target.parent != self.root and target.parent.is_dir():
                with contextlib.suppress(OSError):  # other evidence of that attempt remains
                    target.parent.rmdir()

    def delete_attempt(self, attempt_id: str) -> None:
        shutil.rmtree(self.root / attempt_id, ignore_errors=True)

    def orphans(self, known: set[str], older_than: float) -> list[str]:
        """Files no evidence row points at (a crash between writing a file and committing its
        row leaves one), last written before ``older_than`` (Unix seconds) so that a file
        another process is about to record is left alone: the purge deletes them too."""
        if not self.root.is_dir():
            return []
        return [
            str(path.relative_to(self.root))
            for path in self.root.glob("*/*.jpg")
            if str(path.relative_to(self.root)) not in known and path.stat().st_mtime < older_than
        ]
