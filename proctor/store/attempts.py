"""Exam attempts: recorded frames, the incidents derived from them, reviews and evidence rows.

Recording a frame is one transaction that holds the attempt's row lock (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite's write lock): the attempt is created on its first frame, the
frame row is appended (a repeated ``seq`` is recognised and not counted again), the incident
tracker is stepped (or, for a frame that arrives out of capture order, replayed over all the
attempt's frames), and the incidents and risk scores are written. Concurrent frames of one
attempt, through one process or several replicas on one database, therefore queue on that
lock and never lose an update; a crash leaves the frame and its incidents either all stored
or not at all. Frames keep alert codes and confidences only, never pixels.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from proctor.attempts.incidents import (
    Change,
    CodeRule,
    Incident,
    Observation,
    Tracker,
    replay,
)
from proctor.attempts.risk import CodeWeight, Risk, Scored, risk_score
from proctor.errors import (
    AttemptEndedError,
    AttemptMismatchError,
    AttemptNotFoundError,
    IncidentNotFoundError,
)
from proctor.geometry.neutral import Bearing
from proctor.store.db import Database
from proctor.store.schema import AttemptRow, EvidenceRow, FrameRow, IncidentRow

Verdict = Literal["confirmed", "dismissed"]
AttemptOrder = Literal["risk", "recent", "started"]


@dataclass(frozen=True)
class FrameIn:
    """One analysed frame to record in an attempt."""

    attempt_id: str
    exam_id: str | None
    student_id: str | None
    captured_at: float  # Unix seconds
    seq: int | None
    received_at: float
    codes: Mapping[str, tuple[str, float]]  # alert code -> (severity, confidence)
    bearing: Bearing | None = None  # the primary face's angles, when measured


@dataclass(frozen=True)
class Recorded:
    attempt_id: str
    frames: int
    frame_id: int | None  # None when the frame repeated a seq and was not recorded again
    changes: list[Change]


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    verdict: Verdict | None
    note: str | None
    reviewed_at: float | None


@dataclass(frozen=True)
class AttemptSummary:
    attempt_id: str
    exam_id: str | None
    student_id: str | None
    status: str
    frames: int
    started_at: float
    last_frame_at: float
    ended_at: float | None
    risk_score: float  # as stored with the last frame or review
    reviewed_risk_score: float


@dataclass(frozen=True)
class AttemptView:
    summary: AttemptSummary
    incidents: list[IncidentView]
    risk: Risk
    reviewed_risk: Risk


@dataclass(frozen=True)
class EvidenceFile:
    incident_id: str
    kind: str
    frame_id: int
    path: str
    created_at: float


@dataclass
class Scoring:
    """Incident rules and risk weights per code, from the settings."""

    rules: dict[str, CodeRule]
    weights: dict[str, CodeWeight] = field(default_factory=dict)

    def risk(self, incidents: Iterable[Incident]) -> Risk:
        return risk_score(
            (
                Scored(i.code, i.duration_s, i.peak_confidence, self.rules[i.code].full_confidence)
                for i in incidents
                if i.code in self.rules
            ),
            self.weights,
        )


class AttemptStore:
    def __init__(self, db: Database, scoring: Scoring) -> None:
        self.db = db
        self.scoring = scoring

    # -- recording ---------------------------------------------------------------------------

    def record(self, frame: FrameIn) -> Recorded:
        """Append a frame to its attempt (created on its first frame) and update incidents."""
        with self.db.write() as session:
            attempt = self._locked(session, frame)
            if attempt.status == "ended":
                raise AttemptEndedError(f"attempt {frame.attempt_id!r} has ended")
            for name in ("exam_id", "student_id"):
                if getattr(attempt, name) != getattr(frame, name):
                    raise AttemptMismatchError(
                        f"attempt {frame.attempt_id!r} belongs to {name} "
                        f"{getattr(attempt, name)!r}, not {getattr(frame, name)!r}"
                    )
            if frame.seq is not None and self._has_seq(session, frame.attempt_id, frame.seq):
                return Recorded(frame.attempt_id, attempt.frames, None, [])
            row = FrameRow(
                attempt_id=frame.attempt_id,
                seq=frame.seq,
                captured_at=frame.captured_at,
                received_at=frame.received_at,
                codes=json.dumps({code: list(reading) for code, reading in frame.codes.items()}),
                **({} if frame.bearing is None else asdict(frame.bearing)),
            )
            session.add(row)
            session.flush()
            observation = Observation(frame.captured_at, frame.seq, row.id, dict(frame.codes))
            tracker = self._tracker(attempt)
            in_order = tracker.last_time is None or frame.captured_at >= tracker.last_time
            if in_order:
                changes = tracker.step(observation)
                self._write_incidents(session, attempt.attempt_id, [c.incident for c in changes])
            else:
                before = {i.id: i for i in tracker.incidents()}
                tracker = replay(
                    attempt.attempt_id, self.scoring.rules, self._observations(session, attempt)
                )
                changes = _changes_around(before, tracker.incidents(), observation)
                self._replace_incidents(session, attempt.attempt_id, tracker.incidents())
            attempt.frames += 1
            attempt.started_at = min(attempt.started_at, frame.captured_at)
            attempt.last_frame_at = max(attempt.last_frame_at, frame.captured_at)
            self._save(session, attempt, tracker)
            return Recorded(attempt.attempt_id, attempt.frames, row.id, changes)

    def end(self, attempt_id: str, at: float) -> list[Change]:
        """Close the attempt and its open incidents (a no-op for an ended attempt)."""
        with self.db.write() as session:
            attempt = self._get_locked(session, attempt_id)
            if attempt.status == "ended":
                return []
            tracker = self._tracker(attempt)
            changes = tracker.finish()
            self._write_incidents(session, attempt_id, [c.incident for c in changes])
            attempt.status = "ended"
            attempt.ended_at = at
            self._save(session, attempt, tracker)
            return changes

    def review(
        self, attempt_id: str, incident_id: str, verdict: Verdict, note: str | None, at: float
    ) -> IncidentView:
        with self.db.write() as session:
            attempt = self._get_locked(session, attempt_id)
            row = session.get(IncidentRow, (attempt_id, incident_id))
            if row is None:
                raise IncidentNotFoundError(
                    f"attempt {attempt_id!r} has no incident {incident_id!r}"
                )
            row.verdict, row.note, row.reviewed_at = verdict, note, at
            session.flush()
            self._save(session, attempt, self._tracker(attempt))
            return _view(row)

    def delete(self, attempt_id: str) -> list[str]:
        """Remove the attempt and everything about it; returns its evidence file paths."""
        with self.db.write() as session:
            if session.get(AttemptRow, attempt_id) is None:
                raise AttemptNotFoundError(f"attempt {attempt_id!r} does not exist")
            paths = self._evidence_paths(session, [attempt_id])
            self._delete_attempts(session, [attempt_id])
            return paths

    def delete_for_student(self, student_id: str) -> tuple[list[str], list[str]]:
        """Remove every attempt claimed by this student, with all its rows; returns the
        attempts' ids and their evidence file paths."""
        with self.db.write() as session:
            ids = list(
                session.scalars(
                    select(AttemptRow.attempt_id)
                    .where(AttemptRow.student_id == student_id)
                    .with_for_update()
                ).all()
            )
            paths = self._evidence_paths(session, ids)
            self._delete_attempts(session, ids)
            return ids, paths

    # -- evidence ----------------------------------------------------------------------------

    def add_evidence(self, attempt_id: str, evidence: EvidenceFile) -> str | None:
        """Record an evidence file (replacing that incident's file of the same kind); returns
        the path it replaced, if any, for the caller to delete."""
        with self.db.write() as session:
            # The attempt's row lock, as for a frame: on PostgreSQL two replicas storing the
            # same incident's evidence would otherwise both find no row and both insert it.
            session.execute(
                select(AttemptRow.attempt_id)
                .where(AttemptRow.attempt_id == attempt_id)
                .with_for_update()
            )
            old = session.scalar(
                select(EvidenceRow).where(
                    EvidenceRow.attempt_id == attempt_id,
                    EvidenceRow.incident_id == evidence.incident_id,
                    EvidenceRow.kind == evidence.kind,
                )
            )
            replaced = None
            if old is not None:
                replaced = old.path if old.path != evidence.path else None
                old.frame_id, old.path, old.created_at = (
                    evidence.frame_id,
                    evidence.path,
                    evidence.created_at,
                )
            else:
                session.add(EvidenceRow(attempt_id=attempt_id, **evidence.__dict__))
            return replaced

    def evidence(self, attempt_id: str, incident_id: str) -> list[EvidenceFile]:
        with self.db.read() as session:
            if session.get(IncidentRow, (attempt_id, incident_id)) is None:
                raise IncidentNotFoundError(
                    f"attempt {attempt_id!r} has no incident {incident_id!r}"
                )
            rows = session.scalars(
                select(EvidenceRow)
                .where(EvidenceRow.attempt_id == attempt_id)
                .where(EvidenceRow.incident_id == incident_id)
                .order_by(EvidenceRow.kind)  # open before peak
            ).all()
            return [
                EvidenceFile(r.incident_id, r.kind, r.frame_id, r.path, r.created_at) for r in rows
            ]

    def all_evidence_paths(self) -> set[str]:
        with self.db.read() as session:
            return set(session.scalars(select(EvidenceRow.path)).all())

    def purge(self, evidence_before: float, attempts_before: float | None) -> list[str]:
        """Delete evidence created before ``evidence_before`` and whole attempts whose last
        frame is older than ``attempts_before``; returns the evidence paths to delete."""
        with self.db.write() as session:
            expired = (
                session.scalars(  # locked: a frame arriving meanwhile waits for the purge
                    select(AttemptRow.attempt_id)
                    .where(AttemptRow.last_frame_at < attempts_before)
                    .with_for_update()
                ).all()
                if attempts_before is not None
                else []
            )
            paths = self._evidence_paths(session, list(expired))
            self._delete_attempts(session, list(expired))
            old = session.scalars(
                select(EvidenceRow).where(EvidenceRow.created_at < evidence_before)
            ).all()
            paths += [row.path for row in old]
            session.execute(delete(EvidenceRow).where(EvidenceRow.created_at < evidence_before))
            return paths

    # -- reading -----------------------------------------------------------------------------

    def first_bearings(self, attempt_id: str, limit: int) -> list[Bearing]:
        """The primary face's angles on the attempt's first ``limit`` measured frames, in
        capture order (none for an attempt not started yet)."""
        with self.db.read() as session:
            rows = session.execute(
                select(
                    FrameRow.head_yaw_deg,
                    FrameRow.head_pitch_deg,
                    FrameRow.gaze_yaw_deg,
                    FrameRow.gaze_pitch_deg,
                )
                .where(FrameRow.attempt_id == attempt_id, FrameRow.head_yaw_deg.is_not(None))
                .order_by(FrameRow.captured_at, FrameRow.id)
                .limit(limit)
            ).all()
        return [Bearing(*row) for row in rows]

    def get(self, attempt_id: str) -> AttemptView:
        with self.db.read() as session:
            attempt = session.get(AttemptRow, attempt_id)
            if attempt is None:
                raise AttemptNotFoundError(f"attempt {attempt_id!r} does not exist")
            rows = session.scalars(
                select(IncidentRow)
                .where(IncidentRow.attempt_id == attempt_id)
                .order_by(IncidentRow.start, IncidentRow.code)
            ).all()
            views = [_view(row) for row in rows]
        incidents = [v.incident for v in views]
        kept = [v.incident for v in views if v.verdict != "dismissed"]
        return AttemptView(
            _summary(attempt), views, self.scoring.risk(incidents), self.scoring.risk(kept)
        )

    def list(
        self, exam_id: str | None, order: AttemptOrder, limit: int, offset: int
    ) -> tuple[list[AttemptSummary], int]:
        """A page of attempts (of one exam, or all) and how many there are in all."""
        query = select(AttemptRow)
        counting = select(func.count()).select_from(AttemptRow)
        if exam_id is not None:
            query = query.where(AttemptRow.exam_id == exam_id)
            counting = counting.where(AttemptRow.exam_id == exam_id)
        ordering = {
            "risk": (AttemptRow.risk_score.desc(), AttemptRow.attempt_id),
            "recent": (AttemptRow.last_frame_at.desc(), AttemptRow.attempt_id),
            "started": (AttemptRow.started_at, AttemptRow.attempt_id),
        }[order]
        with self.db.read() as session:
            rows = session.scalars(query.order_by(*ordering).limit(limit).offset(offset)).all()
            total = session.scalar(counting) or 0
        return [_summary(row) for row in rows], total

    # -- internals ---------------------------------------------------------------------------

    def _locked(self, session: Session, frame: FrameIn) -> AttemptRow:
        """The attempt's row, created if absent, locked for this transaction."""
        session.execute(
            self.db.insert_ignoring_duplicates(AttemptRow.__table__).values(
                attempt_id=frame.attempt_id,
                exam_id=frame.exam_id,
                student_id=frame.student_id,
                status="active",
                started_at=frame.captured_at,
                last_frame_at=frame.captured_at,
                frames=0,
                risk_score=0.0,
                reviewed_risk_score=0.0,
                tracker="{}",
            )
        )
        return self._get_locked(session, frame.attempt_id)

    @staticmethod
    def _get_locked(session: Session, attempt_id: str) -> AttemptRow:
        attempt = session.scalar(
            select(AttemptRow).where(AttemptRow.attempt_id == attempt_id).with_for_update()
        )
        if attempt is None:
            raise AttemptNotFoundError(f"attempt {attempt_id!r} does not exist")
        return attempt

    @staticmethod
    def _has_seq(session: Session, attempt_id: str, seq: int) -> bool:
        found = session.scalar(
            select(FrameRow.id).where(FrameRow.attempt_id == attempt_id, FrameRow.seq == seq)
        )
        return found is not None

    def _tracker(self, attempt: AttemptRow) -> Tracker:
        return Tracker.from_json(
            attempt.attempt_id, self.scoring.rules, json.loads(attempt.tracker)
        )

    @staticmethod
    def _observations(session: Session, attempt: AttemptRow) -> list[Observation]:
        rows = session.scalars(
            select(FrameRow).where(FrameRow.attempt_id == attempt.attempt_id)
        ).all()
        return [
            Observation(
                r.captured_at,
                r.seq,
                r.id,
                {code: (reading[0], reading[1]) for code, reading in json.loads(r.codes).items()},
            )
            for r in rows
        ]

    def _save(self, session: Session, attempt: AttemptRow, tracker: Tracker) -> None:
        incidents = tracker.incidents()
        dismissed = set(
            session.scalars(
                select(IncidentRow.id).where(
                    IncidentRow.attempt_id == attempt.attempt_id,
                    IncidentRow.verdict == "dismissed",
                )
            ).all()
        )
        attempt.tracker = json.dumps(tracker.to_json())
        attempt.risk_score = self.scoring.risk(incidents).score
        attempt.reviewed_risk_score = self.scoring.risk(
            i for i in incidents if i.id not in dismissed
        ).score

    @staticmethod
    def _write_incidents(session: Session, attempt_id: str, incidents: list[Incident]) -> None:
        for incident in incidents:
            row = session.get(IncidentRow, (attempt_id, incident.id))
            if row is None:
                row = IncidentRow(attempt_id=attempt_id, id=incident.id)
                session.add(row)
            _copy(incident, row)

    def _replace_incidents(
        self, session: Session, attempt_id: str, incidents: list[Incident]
    ) -> None:
        """After a replay: keep the rows (and reviews) of incidents that still exist."""
        keep = {i.id for i in incidents}
        session.execute(
            delete(IncidentRow).where(
                IncidentRow.attempt_id == attempt_id, IncidentRow.id.not_in(keep)
            )
        )
        self._write_incidents(session, attempt_id, incidents)

    @staticmethod
    def _evidence_paths(session: Session, attempt_ids: list[str]) -> list[str]:
        if not attempt_ids:
            return []
        return list(
            session.scalars(
                select(EvidenceRow.path).where(EvidenceRow.attempt_id.in_(attempt_ids))
            ).all()
        )

    @staticmethod
    def _delete_attempts(session: Session, attempt_ids: list[str]) -> None:
        """Every row of these attempts (explicitly, child tables first: no reliance on
        cascades, which SQLite only honours with foreign keys switched on)."""
        if not attempt_ids:
            return
        for table in (EvidenceRow, IncidentRow, FrameRow):
            session.execute(delete(table).where(table.attempt_id.in_(attempt_ids)))
        session.execute(delete(AttemptRow).where(AttemptRow.attempt_id.in_(attempt_ids)))


def _summary(row: AttemptRow) -> AttemptSummary:
    return AttemptSummary(
        row.attempt_id,
        row.exam_id,
        row.student_id,
        row.status,
        row.frames,
        row.started_at,
        row.last_frame_at,
        row.ended_at,
        row.risk_score,
        row.reviewed_risk_score,
    )


def _copy(incident: Incident, row: IncidentRow) -> None:
    row.code = incident.code
    row.severity = incident.severity
    row.start = incident.start
    row.end = incident.end
    row.last_seen = incident.last_seen
    row.frames = incident.frames
    row.peak_confidence = incident.peak_confidence
    row.opened_frame_id = incident.opened_frame_id
    row.peak_frame_id = incident.peak_frame_id


def _view(row: IncidentRow) -> IncidentView:
    incident = Incident(
        id=row.id,
        code=row.code,
        severity=row.severity,  # type: ignore[arg-type]
        start=row.start,
        end=row.end,
        last_seen=row.last_seen,
        frames=row.frames,
        peak_confidence=row.peak_confidence,
        opened_frame_id=row.opened_frame_id,
        peak_frame_id=row.peak_frame_id,
    )
    return IncidentView(incident, row.verdict, row.note, row.reviewed_at)  # type: ignore[arg-type]


def _changes_around(
    before: dict[str, Incident], after: list[Incident], frame: Observation
) -> list[Change]:
    """What a late frame changed, after a replay: incidents that are new are ``opened``, ones
    that lost their end are ``ongoing`` again, ones that gained one are ``closed``, and an
    unchanged incident spanning the frame's time is ``ongoing``."""
    changes = []
    for incident in after:
        old = before.get(incident.id)
        if old is None:
            changes.append(Change(incident, "opened"))
        elif old.end is not None and incident.end is None:
            changes.append(Change(incident, "ongoing"))
        elif old.end is None and incident.end is not None:
            changes.append(Change(incident, "closed"))
        elif incident.start <= frame.time <= (incident.end or incident.last_seen):
            changes.append(Change(incident, "ongoing"))
    return changes
