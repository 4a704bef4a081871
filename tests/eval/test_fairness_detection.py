"""The conditions of ``python -m proctor.eval fairness --part detection`` do what its docstring
says (on synthetic arrays: these are pure image transforms), and its limit rule."""

from __future__ import annotations

import numpy as np

from proctor.eval.fairness_detection import (
    BLUR_PX,
    CONDITIONS,
    SMALL_FACE,
    gamma,
    limit_below,
    worst,
)
from proctor.eval.stats import Rate


def _crop() -> np.ndarray:
    """A 200x200 'face': mid grey with a bright left half, so edges and levels are known."""
    crop = np.full((200, 200, 3), 128, np.uint8)
    crop[:, :100] = 200
    return crop


ROOM = np.full((480, 640, 3), 100, np.uint8)


def _changed(frame: np.ndarray, room: np.ndarray) -> tuple[int, int]:
    """Width and height of the region a composite changed."""
    ys, xs = np.nonzero(np.abs(frame.astype(int) - room.astype(int)).max(axis=2) > 2)
    return int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def test_gamma_darkens_as_documented() -> None:
    grey = np.full((4, 4, 3), 128, np.uint8)
    assert gamma(grey, 2.0)[0, 0, 0] == round(255 * (128 / 255) ** 2)  # 64
    assert gamma(grey, 3.0)[0, 0, 0] == round(255 * (128 / 255) ** 3)  # 32
    assert gamma(grey, 1 / 2.5)[0, 0, 0] > 128


def test_crop_conditions() -> None:
    crop = _crop()
    assert np.array_equal(CONDITIONS["as is"](crop, ROOM), crop)
    assert np.array_equal(CONDITIONS["gamma 2"](crop, ROOM), gamma(crop, 2.0))
    assert np.array_equal(CONDITIONS["gamma 3"](crop, ROOM), gamma(crop, 3.0))


def test_in_room_and_small_frames_have_the_documented_sizes() -> None:
    crop = _crop()
    room = CONDITIONS["in room"](crop, ROOM)
    assert room.shape == (480, 640, 3)
    assert 180 <= _changed(room, ROOM)[0] <= 230  # the feathered ellipse of a 230 px tile
    small = CONDITIONS["small"](crop, ROOM)
    assert small.shape == (240, 320, 3)
    width, _ = _changed(small, np.full_like(small, 100))
    assert 0.75 * SMALL_FACE <= width <= SMALL_FACE
    assert np.array_equal(CONDITIONS["in room, gamma 2"](crop, ROOM), gamma(room, 2.0))


def test_backlit_darkens_the_face_and_brightens_the_room() -> None:
    crop = _crop()
    plain, backlit = CONDITIONS["in room"](crop, ROOM), CONDITIONS["backlit"](crop, ROOM)
    assert backlit[10, 10, 0] > plain[10, 10, 0] + 50  # the room, far from the face
    centre = (slice(280, 300), slice(330, 350))  # the face's grey half
    assert backlit[centre].mean() < plain[centre].mean() - 40


def test_motion_blur_smears_horizontally_only() -> None:
    crop = _crop()
    plain, blurred = CONDITIONS["in room"](crop, ROOM), CONDITIONS["motion blur"](crop, ROOM)
    row = blurred[290, :, 0].astype(int)
    edge = np.abs(np.diff(plain[290, :, 0].astype(int))).max()
    assert np.abs(np.diff(row)).max() < edge / 3  # the face's sharp edge became a ramp
    ramp = np.nonzero(np.diff(row))[0]
    assert ramp.size >= BLUR_PX - 2
    assert np.array_equal(blurred[:, 5], plain[:, 5])  # flat room columns untouched


def test_jpeg_keeps_the_frame_and_degrades_it() -> None:
    crop = _crop()
    plain, compressed = CONDITIONS["in room"](crop, ROOM), CONDITIONS["JPEG"](crop, ROOM)
    assert compressed.shape == plain.shape
    difference = np.abs(compressed.astype(int) - plain.astype(int))
    assert 0 < difference.mean() < 10


def test_limit_below_leaves_at_most_the_share_under_it() -> None:
    values = [float(v) + 0.5 for v in range(200)]  # 0.5 ... 199.5
    limit = limit_below(values, 0.01)
    assert sum(v < limit for v in values) <= 2 and limit == 2.0
    assert limit_below([40.7, 80.0], 0.01) == 40.0


def test_worst_names_the_lowest_groups_or_says_all_are_equal() -> None:
    groups = ["A", "B", "C"]
    assert worst({"A": Rate(9, 10), "B": Rate(10, 10), "C": Rate(9, 10)}, groups) == "A, C"
    assert worst({"A": Rate(5, 5), "B": Rate(6, 6), "C": Rate(7, 7)}, groups) == "all equal"
