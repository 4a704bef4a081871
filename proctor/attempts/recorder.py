"""Record an analysed frame in its attempt: the store's transaction, then the evidence files and
webhook events that follow from what the frame changed.

The store decides incidents; this layer only adds what lives outside the database. Evidence is
written after the frame's transaction committed (a crash in between leaves an orphan file that
the purge removes, never a row pointing at a missing file), and webhook events are queued, never
sent inline.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from proctor.attempts.evidence import EvidenceFolder
from proctor.attempts.incidents import Change
from proctor.attempts.webhook import WebhookSender
from proctor.geometry.neutral import Bearing, Neutral, neutral_from
from proctor.pipeline import Analysis
from proctor.schemas import AnalyzeResponse
from proctor.store.attempts import AttemptStore, EvidenceFile, FrameIn, Recorded

log = logging.getLogger(__name__)
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
#: A file without a row is an orphan only once it is this old (its row may be committing).
ORPHAN_AGE_S = 600.0


@dataclass(frozen=True)
class FrameMeta:
    """What the caller says about a frame besides its pixels."""

    attempt_id: str
    captured_at: float | None  # Unix seconds; None: time of receipt
    seq: int | None


class AttemptRecorder:
    def __init__(
        self,
        store: AttemptStore,
        evidence: EvidenceFolder,
        keep_evidence: bool,
        webhook: WebhookSender | None,
        webhook_min_severity: str,
        neutral_frames: int = 0,
        neutral_max_offset_deg: float = 0.0,
    ) -> None:
        self.store = store
        self.neutral_frames = neutral_frames
        self.neutral_max_offset_deg = neutral_max_offset_deg
        self.evidence = evidence  # read and purged even while keeping evidence is off
        self.keep_evidence = keep_evidence
        self.webhook = webhook
        self.min_rank = SEVERITY_RANK[webhook_min_severity]

    def neutral(self, attempt_id: str) -> Neutral | None:
        """The student's neutral pose in this attempt, once its first frames fixed it."""
        if self.neutral_frames <= 0:
            return None
        bearings = self.store.first_bearings(attempt_id, self.neutral_frames)
        return neutral_from(bearings, self.neutral_frames, self.neutral_max_offset_deg)

    def record(self, meta: FrameMeta, analysis: Analysis) -> Recorded:
        response = analysis.response
        received = time.time()
        recorded = self.store.record(
            FrameIn(
                attempt_id=meta.attempt_id,
                exam_id=response.exam_id,
                student_id=analysis.context.claim.student_id,
                captured_at=received if meta.captured_at is None else meta.captured_at,
                seq=meta.seq,
                received_at=received,
                codes={
                    alert.code: (
                        alert.severity,
                        1.0 if alert.confidence is None else alert.confidence,
                    )
                    for alert in response.alerts
                },
                bearing=bearing_of(response),
            )
        )
        if recorded.frame_id is not None:
            self._keep_evidence(meta.attempt_id, recorded, analysis)
            self._announce(meta.attempt_id, recorded.changes)
        return recorded

    def end(self, attempt_id: str) -> list[Change]:
        changes = self.store.end(attempt_id, time.time())
        if self.webhook is not None:
            view = self.store.get(attempt_id)
            self.webhook.notify(
                "attempt.ended",
                {
                    "attempt_id": attempt_id,
                    "exam_id": view.summary.exam_id,
                    "student_id": view.summary.student_id,
                    "frames": view.summary.frames,
                    "risk_score": view.risk.score,
                    "incidents": len(view.incidents),
                },
            )
        return changes

    def delete(self, attempt_id: str) -> None:
        paths = self.store.delete(attempt_id)
        self.evidence.delete(paths)
        self.evidence.delete_attempt(attempt_id)

    def forget_student(self, student_id: str) -> int:
        """Delete every attempt of this student (rows, evidence files and folders); returns
        how many attempts there were."""
        ids, paths = self.store.delete_for_student(student_id)
        self.evidence.delete(paths)
        for attempt_id in ids:
            self.evidence.delete_attempt(attempt_id)
        return len(ids)

    def purge(self, evidence_days: float, attempt_days: float | None) -> int:
        """Delete expired evidence and attempts (rows and files), and orphan files; returns
        how many files were removed."""
        now = time.time()
        paths = self.store.purge(
            now - evidence_days * 86400,
            None if attempt_days is None else now - attempt_days * 86400,
        )
        paths += self.evidence.orphans(self.store.all_evidence_paths(), now - ORPHAN_AGE_S)
        self.evidence.delete(paths)
        return len(paths)

    def _keep_evidence(self, attempt_id: str, recorded: Recorded, analysis: Analysis) -> None:
        if not self.keep_evidence:
            return
        for change in recorded.changes:
            incident = change.incident
            kinds = []
            if change.state == "opened":
                kinds.append("open")
            if incident.peak_frame_id == recorded.frame_id:
                kinds.append("peak")
            for kind in kinds:
                path = self.evidence.write(attempt_id, incident.id, kind, analysis)
                replaced = self.store.add_evidence(
                    attempt_id,
                    EvidenceFile(incident.id, kind, recorded.frame_id or 0, path, time.time()),
                )
                if replaced:
                    self.evidence.delete([replaced])

    def _announce(self, attempt_id: str, changes: list[Change]) -> None:
        if self.webhook is None:
            return
        for change in changes:
            incident = change.incident
            if change.state != "opened" or SEVERITY_RANK[incident.severity] < self.min_rank:
                continue
            self.webhook.notify(
                "incident.opened",
                {
                    "attempt_id": attempt_id,
                    "incident_id": incident.id,
                    "code": incident.code,
                    "severity": incident.severity,
                    "start": incident.start,
                    "peak_confidence": incident.peak_confidence,
                },
            )


def bearing_of(response: AnalyzeResponse) -> Bearing | None:
    """The primary face's measured head pose and gaze, as the neutral pose is made of."""
    if response.head_pose is None:
        return None
    gaze = response.gaze
    return Bearing(
        head_yaw_deg=response.head_pose.yaw_deg,
        head_pitch_deg=response.head_pose.pitch_deg,
        gaze_yaw_deg=None if gaze is None else gaze.yaw_deg,
        gaze_pitch_deg=None if gaze is None else gaze.pitch_deg,
    )
