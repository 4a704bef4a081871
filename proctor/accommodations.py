"""Accommodations: rules an admin relaxes for one student, and the one function applying them.

A student with a documented need (a carer in the room, a paper reading aid, a condition that
moves the head, eyes or mouth) would otherwise raise the same alert all exam long. Each
accommodation names the alert codes it covers; ``apply_accommodations`` moves a covered alert
of a frame from ``alerts`` to ``suppressed_alerts`` with the reason, and nothing else: the
measurements behind it (head pose, gaze, mouth ratio, counts, banned objects) stay in the
response as they were, so a reviewer still sees what happened.

They apply only to the student the request claims (``student_id``), never to a face the
identity analyzer merely recognised: a 1:N guess must not relax the rules for whoever sits
down. Two accommodations relax an alert only in the case they are for:

- ``extra_person_allowed`` (one carer): MULTIPLE_FACES / MULTIPLE_PEOPLE only when the frame
  holds exactly two people; three or more still alert.
- ``reading_aid_allowed``: BANNED_OBJECT only when every banned object in view is a reading
  aid class (``accommodations.reading_aid_classes``); a phone beside the book still alerts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from proctor.errors import InvalidAccommodationError
from proctor.schemas import Alert, SuppressedAlert


class Accommodation(StrEnum):
    NO_GAZE_ALERTS = "no_gaze_alerts"
    NO_HEAD_POSE_ALERTS = "no_head_pose_alerts"
    NO_MOUTH_ALERTS = "no_mouth_alerts"
    EXTRA_PERSON_ALLOWED = "extra_person_allowed"
    READING_AID_ALLOWED = "reading_aid_allowed"


#: The alert codes each accommodation covers (subject to the conditions in the module doc).
COVERED_CODES: dict[Accommodation, frozenset[str]] = {
    Accommodation.NO_GAZE_ALERTS: frozenset({"GAZE_AWAY", "EYES_CLOSED"}),
    Accommodation.NO_HEAD_POSE_ALERTS: frozenset({"HEAD_TURNED", "LOOKING_DOWN", "LOOKING_UP"}),
    Accommodation.NO_MOUTH_ALERTS: frozenset({"MOUTH_OPEN"}),
    Accommodation.EXTRA_PERSON_ALLOWED: frozenset({"MULTIPLE_FACES", "MULTIPLE_PEOPLE"}),
    Accommodation.READING_AID_ALLOWED: frozenset({"BANNED_OBJECT"}),
}

#: People a frame may hold under ``extra_person_allowed``: the student and one carer.
ALLOWED_PEOPLE = 2

KNOWN = sorted(a.value for a in Accommodation)

#: When the two conditional accommodations cover their codes (for the API's descriptions).
CONDITIONS: dict[Accommodation, str] = {
    Accommodation.EXTRA_PERSON_ALLOWED: "only with exactly two people in the frame: one carer",
    Accommodation.READING_AID_ALLOWED: "only when every banned object in view is one of "
    "accommodations.reading_aid_classes, by default 'book'",
}

#: Each accommodation with the codes it covers, in words.
SUMMARY = "; ".join(
    f"{a} ({', '.join(sorted(COVERED_CODES[a]))}"
    + (f", {CONDITIONS[a]}" if a in CONDITIONS else "")
    + ")"
    for a in Accommodation
)


def normalise(names: Iterable[str]) -> tuple[str, ...]:
    """Each name once, sorted; an unknown name is refused with the known ones listed."""
    unique = {name.strip() for name in names if name.strip()}
    unknown = sorted(unique - set(KNOWN))
    if unknown:
        raise InvalidAccommodationError(
            f"unknown accommodation(s) {unknown}; known: {', '.join(KNOWN)}"
        )
    return tuple(sorted(unique))


@dataclass(frozen=True)
class Accommodated:
    """A frame's alerts after its student's accommodations."""

    kept: list[Alert]
    suppressed: list[SuppressedAlert]
    applied: list[str]  # accommodations that suppressed something here, sorted


def apply_accommodations(
    alerts: Sequence[Alert],
    accommodations: Collection[str],
    *,
    face_count: int,
    people_count: int | None,
    banned_objects: Collection[str],
    reading_aid_classes: Collection[str],
) -> Accommodated:
    """Split ``alerts`` into kept and suppressed by the student's ``accommodations``.

    ``people_count`` is null when the objects analyzer is off; the frame's people are then its
    faces. ``banned_objects`` are the labels the objects analyzer reported for BANNED_OBJECT.
    """
    people = max(face_count, people_count or 0)
    in_force = [
        a
        for a in Accommodation
        if a.value in accommodations
        and (a is not Accommodation.EXTRA_PERSON_ALLOWED or people == ALLOWED_PEOPLE)
        and (
            a is not Accommodation.READING_AID_ALLOWED
            or (bool(banned_objects) and set(banned_objects) <= set(reading_aid_classes))
        )
    ]
    kept: list[Alert] = []
    suppressed: list[SuppressedAlert] = []
    applied: set[str] = set()
    for alert in alerts:
        cover = next((a for a in in_force if alert.code in COVERED_CODES[a]), None)
        if cover is None:
            kept.append(alert)
            continue
        suppressed.append(SuppressedAlert(**alert.model_dump(), reason=f"accommodation {cover}"))
        applied.add(cover.value)
    return Accommodated(kept, suppressed, sorted(applied))
