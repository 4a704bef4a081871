"""Iris position and eye openness on synthetic eyes (the iris model's point layout)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proctor.geometry.eyes import eye_openness, eye_rotation_deg, iris_offset
from proctor.models.landmarks.result import EyeLandmarks


def make_eye(
    *,
    side: str = "left",
    width: float = 40.0,
    gap: float = 8.0,
    iris_at: tuple[float, float] = (0.0, 0.0),
    turn_deg: float = 0.0,
    at: tuple[float, float] = (100.0, 80.0),
) -> EyeLandmarks:
    """An eye ``width`` px wide with lids ``gap`` px apart, iris at ``iris_at`` px from the
    corners' midpoint (x toward the image's right, y up), turned ``turn_deg`` clockwise."""
    half = width / 2
    outer_x = -half if side == "left" else half  # the outer corner is away from the nose
    xs = np.linspace(outer_x, -outer_x, 9)  # outer corner .. inner corner
    lid = (gap / 2) * np.sin(np.linspace(0, math.pi, 9))
    contour = np.zeros((71, 3))
    contour[0:9, 0], contour[0:9, 1] = xs, -lid  # lower lid (y up here, flipped below)
    contour[9:16, 0], contour[9:16, 1] = xs[1:8], lid[1:8]
    iris = np.zeros((5, 3))
    iris[:, 0], iris[:, 1] = iris_at
    points = np.vstack([contour, iris])
    points[:, 1] = -points[:, 1]  # to image y (down)
    angle = math.radians(turn_deg)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    points[:, :2] = points[:, :2] @ rot.T + at
    return EyeLandmarks(contour=points[:71], iris=points[71:], side=side)  # type: ignore[arg-type]


@pytest.mark.parametrize("side", ["left", "right"])
def test_centred_iris_has_zero_offset(side: str) -> None:
    assert iris_offset(make_eye(side=side)) == pytest.approx((0.0, 0.0), abs=1e-9)


@pytest.mark.parametrize("side", ["left", "right"])
def test_offset_is_in_half_widths_toward_image_right_and_up(side: str) -> None:
    x, y = iris_offset(make_eye(side=side, width=40, iris_at=(10.0, 4.0)))
    assert (x, y) == pytest.approx((0.5, 0.2))


@pytest.mark.parametrize("turn", [-30.0, 15.0, 45.0])
def test_head_tilt_does_not_move_the_iris(turn: float) -> None:
    eye = make_eye(iris_at=(6.0, -2.0), turn_deg=turn)
    assert iris_offset(eye) == pytest.approx((0.3, -0.1))
    assert eye_openness(eye) == pytest.approx(eye_openness(make_eye(iris_at=(6.0, -2.0))))


def test_openness_is_lid_gap_over_width() -> None:
    open_eye = eye_openness(make_eye(width=40, gap=16))
    closed_eye = eye_openness(make_eye(width=40, gap=0))
    assert closed_eye == pytest.approx(0.0, abs=1e-9)
    assert 0.1 < open_eye < 0.4
    # Scale invariant: the same eye twice as large.
    assert eye_openness(make_eye(width=80, gap=32)) == pytest.approx(open_eye)


def test_eye_rotation() -> None:
    assert eye_rotation_deg(0.0) == 0.0
    assert eye_rotation_deg(0.4) == pytest.approx(-eye_rotation_deg(-0.4))
    assert eye_rotation_deg(0.4) == pytest.approx(math.degrees(math.asin(0.5)))
    assert eye_rotation_deg(5.0) == pytest.approx(90.0)
