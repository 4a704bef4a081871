"""Incidents from persistence: one frame's alerts become an incident on the attempt's timeline
only when they last.

Per alert code (``CodeRule``), each frame casts a *vote* between 0 and 1: nothing when the code
is absent, ``min(1, confidence / full_confidence)`` when it fired, so a phone seen at 0.9 is a
full vote and a phone at 0.2 a fraction of one. An incident **opens** when the votes of the last
``window`` frames add up to ``votes_to_open``, or when the code has fired on every frame for
``hold_s`` seconds; it starts at the first firing frame of that window. It **closes** once the
code has been absent for ``clear_s`` seconds (longer than it takes to open: hysteresis), and ends
at its last firing frame. A dropped frame is just a longer interval, so it never splits an
incident; only clear time does. Duplicate evidence collapses before voting: two faces and two
people are one ``MULTIPLE_PEOPLE`` incident (``ALIASES``).

The tracker is a pure state machine over frames in capture order. Its state is plain JSON, so
the store can keep it with the attempt and step it one frame at a time; a frame that arrives out
of order makes the store replay the attempt's frames from the start instead (``replay``), which
gives the same incidents as if the frames had come in order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["low", "medium", "high"]
IncidentState = Literal["opened", "ongoing", "closed"]

#: Codes that report the same fact as another code: voted as that code.
ALIASES: dict[str, str] = {"MULTIPLE_FACES": "MULTIPLE_PEOPLE"}


@dataclass(frozen=True)
class CodeRule:
    """How persistent one alert code must be to become an incident (from the settings)."""

    votes_to_open: float
    window: int
    hold_s: float
    clear_s: float
    full_confidence: float = 1.0


@dataclass(frozen=True)
class Observation:
    """What one frame said, reduced to what the tracker needs."""

    time: float  # capture time, seconds (Unix)
    seq: int | None
    frame_id: int  # the store's id of the frame (evidence points at it)
    codes: Mapping[str, tuple[Severity, float]]  # code -> (severity, confidence 0..1)


@dataclass
class Incident:
    id: str
    code: str
    severity: Severity
    start: float
    end: float | None  # None while open
    last_seen: float  # last firing frame
    frames: int  # firing frames in it
    peak_confidence: float
    opened_frame_id: int
    peak_frame_id: int

    @property
    def duration_s(self) -> float:
        return (self.end if self.end is not None else self.last_seen) - self.start


@dataclass
class _CodeState:
    votes: list[tuple[float, float, int, float]] = field(default_factory=list)  # t, vote, id, conf
    run_start: float | None = None  # when the current unbroken run of firing frames began
    open: Incident | None = None


@dataclass(frozen=True)
class Change:
    """What one frame did to one incident (the frame response lists these)."""

    incident: Incident
    state: IncidentState


def incident_id(attempt_id: str, code: str, start: float) -> str:
    """Stable for the same attempt, code and start, so a replay keeps ids (and reviews)."""
    return hashlib.sha1(f"{attempt_id}|{code}|{round(start * 1000)}".encode()).hexdigest()[:12]


class Tracker:
    """The incident state of one attempt, stepped frame by frame in capture order."""

    def __init__(self, attempt_id: str, rules: Mapping[str, CodeRule]) -> None:
        self.attempt_id = attempt_id
        self.rules = dict(rules)
        self.codes: dict[str, _CodeState] = {}
        self.closed: list[Incident] = []
        self.last_time: float | None = None

    def step(self, frame: Observation) -> list[Change]:
        """Feed the next frame (``frame.time`` >= the previous one's); return what changed."""
        codes = collapse(frame.codes)
        changes: list[Change] = []
        for code in sorted(set(self.codes) | set(codes)):
            rule = self.rules.get(code)
            if rule is None:
                continue
            state = self.codes.setdefault(code, _CodeState())
            fired = codes.get(code)
            change = self._step_code(code, rule, state, frame, fired)
            if change is not None:
                changes.append(change)
        self.last_time = frame.time
        return changes

    def _step_code(
        self,
        code: str,
        rule: CodeRule,
        state: _CodeState,
        frame: Observation,
        fired: tuple[Severity, float] | None,
    ) -> Change | None:
        confidence = fired[1] if fired else 0.0
        vote = min(1.0, confidence / rule.full_confidence) if fired else 0.0
        state.votes = [*state.votes, (frame.time, vote, frame.frame_id, confidence)][-rule.window :]
        if fired and state.run_start is None:
            state.run_start = frame.time
        if not fired:
            state.run_start = None
        incident = state.open
        if incident is not None:
            if fired:
                incident.last_seen = frame.time
                incident.frames += 1
                if confidence > incident.peak_confidence:
                    incident.peak_confidence = confidence
                    incident.peak_frame_id = frame.frame_id
                return Change(incident, "ongoing")
            if frame.time - incident.last_seen >= rule.clear_s:
                incident.end = incident.last_seen
                state.open = None
                self.closed.append(incident)
                return Change(incident, "closed")
            return Change(incident, "ongoing")  # a short gap continues the incident
        if not fired:
            return None
        held = state.run_start is not None and frame.time - state.run_start >= rule.hold_s
        if sum(v for _, v, _, _ in state.votes) < rule.votes_to_open and not held:
            return None
        firing = [(t, fid, conf) for t, v, fid, conf in state.votes if v > 0]
        start = firing[0][0]
        if held and state.run_start is not None:
            start = min(start, state.run_start)
        peak = max(firing, key=lambda item: item[2])
        assert fired is not None
        state.open = Incident(
            id=incident_id(self.attempt_id, code, start),
            code=code,
            severity=fired[0],
            start=start,
            end=None,
            last_seen=frame.time,
            frames=len(firing),
            peak_confidence=peak[2],
            opened_frame_id=frame.frame_id,
            peak_frame_id=peak[1],
        )
        return Change(state.open, "opened")

    def finish(self) -> list[Change]:
        """Close every open incident (the attempt ended)."""
        changes = []
        for state in self.codes.values():
            if state.open is not None:
                state.open.end = state.open.last_seen
                self.closed.append(state.open)
                changes.append(Change(state.open, "closed"))
                state.open = None
        return changes

    def incidents(self) -> list[Incident]:
        """Every incident, closed and open, by start time."""
        opened = [s.open for s in self.codes.values() if s.open is not None]
        return sorted([*self.closed, *opened], key=lambda i: (i.start, i.code))

    def to_json(self) -> dict[str, Any]:
        return {
            "last_time": self.last_time,
            "closed": [asdict(i) for i in self.closed],
            "codes": {
                code: {
                    "votes": state.votes,
                    "run_start": state.run_start,
                    "open": None if state.open is None else asdict(state.open),
                }
                for code, state in self.codes.items()
            },
        }

    @classmethod
    def from_json(
        cls, attempt_id: str, rules: Mapping[str, CodeRule], data: Mapping[str, Any]
    ) -> Tracker:
        tracker = cls(attempt_id, rules)
        tracker.last_time = data.get("last_time")
        tracker.closed = [Incident(**i) for i in data.get("closed", [])]
        for code, raw in data.get("codes", {}).items():
            tracker.codes[code] = _CodeState(
                votes=[tuple(v) for v in raw["votes"]],  # type: ignore[misc]
                run_start=raw["run_start"],
                open=None if raw["open"] is None else Incident(**raw["open"]),
            )
        return tracker


def collapse(codes: Mapping[str, tuple[Severity, float]]) -> dict[str, tuple[Severity, float]]:
    """Alias codes merged into the code they duplicate, keeping the most confident reading."""
    merged: dict[str, tuple[Severity, float]] = {}
    for code, reading in codes.items():
        target = ALIASES.get(code, code)
        if target not in merged or reading[1] > merged[target][1]:
            merged[target] = reading
    return merged


def replay(
    attempt_id: str, rules: Mapping[str, CodeRule], frames: Iterable[Observation]
) -> Tracker:
    """The tracker after every frame, fed in capture order (time, then seq, then arrival)."""
    tracker = Tracker(attempt_id, rules)
    for frame in sorted(frames, key=order_key):
        tracker.step(frame)
    return tracker


def order_key(frame: Observation) -> tuple[float, float, int]:
    return (frame.time, frame.seq if frame.seq is not None else float("inf"), frame.frame_id)
