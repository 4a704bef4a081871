"""The neutral pose: medians over an attempt's first measured frames, clipped."""

from __future__ import annotations

from proctor.geometry.neutral import Bearing, Neutral, neutral_from


def test_no_neutral_until_enough_frames_are_measured() -> None:
    bearings = [Bearing(5.0, -12.0, 4.0, -18.0)] * 3
    assert neutral_from(bearings, 4, 20.0) is None
    assert neutral_from(bearings, 0, 20.0) is None


def test_the_neutral_is_the_median_of_the_first_frames() -> None:
    bearings = [
        Bearing(4.0, -10.0, 2.0, -15.0),
        Bearing(6.0, -14.0, None, None),  # eyes closed: no gaze
        Bearing(50.0, 0.0, 60.0, 0.0),  # a glance away does not move a median of three
        Bearing(-80.0, -80.0, -80.0, -80.0),  # after the first three: not part of it
    ]
    # Gaze yaw: the median of 2 and 60 is 31, clipped to the 20 deg a neutral may absorb.
    assert neutral_from(bearings, 3, 20.0) == Neutral(6.0, -10.0, 20.0, -7.5, 3)


def test_a_neutral_cannot_exempt_more_than_the_offset() -> None:
    bearings = [Bearing(35.0, -30.0, None, None)] * 5
    assert neutral_from(bearings, 5, 20.0) == Neutral(20.0, -20.0, None, None, 5)
