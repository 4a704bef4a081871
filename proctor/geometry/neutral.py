"""The student's own neutral pose in an attempt: where they look when they look at the screen.

Head pose and gaze are measured against the line from the camera to the face. A student
whose laptop camera sits above the screen looks 10-20 deg below that line while working,
and one whose camera is on a second monitor looks well to one side: their seating, not
their behaviour. The attempt's first ``frames`` frames with a measured face fix a
*neutral*: the median head and gaze direction over them. Later frames of the attempt are
judged on the angle away from that neutral, not from the camera.

A neutral can only absorb so much (``max_offset_deg`` per axis, clipped beyond): a student
who spends the first frames looking at notes beside the keyboard does not thereby exempt
that direction for the rest of the exam. Until enough frames have been measured there is
no neutral and angles are judged as measured. The raw angles are always in the response.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bearing:
    """One frame's measured direction of the primary face, in degrees (API signs)."""

    head_yaw_deg: float
    head_pitch_deg: float
    gaze_yaw_deg: float | None = None  # None: eyes closed or not measured
    gaze_pitch_deg: float | None = None


@dataclass(frozen=True)
class Neutral:
    """The median bearing over an attempt's first measured frames (clipped)."""

    head_yaw_deg: float
    head_pitch_deg: float
    gaze_yaw_deg: float | None
    gaze_pitch_deg: float | None
    frames: int  # frames the medians are over


def neutral_from(bearings: Sequence[Bearing], frames: int, max_offset_deg: float) -> Neutral | None:
    """The neutral of the first ``frames`` bearings (in capture order), or None while fewer
    have been measured. Each median is clipped to +-``max_offset_deg``."""
    if frames <= 0 or len(bearings) < frames:
        return None
    first = bearings[:frames]

    def median(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        if not known:
            return None
        return max(-max_offset_deg, min(max_offset_deg, statistics.median(known)))

    head_yaw = median([b.head_yaw_deg for b in first])
    head_pitch = median([b.head_pitch_deg for b in first])
    assert head_yaw is not None and head_pitch is not None  # every bearing has a head pose
    return Neutral(
        head_yaw_deg=head_yaw,
        head_pitch_deg=head_pitch,
        gaze_yaw_deg=median([b.gaze_yaw_deg for b in first]),
        gaze_pitch_deg=median([b.gaze_pitch_deg for b in first]),
        frames=frames,
    )
