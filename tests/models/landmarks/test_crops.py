"""Square crops: the pixels cut out and the point mapping agree, mirrored and rotated."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from proctor.models.landmarks.crops import Crop, eye_crop, face_crop


def image_with_dot(at: tuple[int, int]) -> np.ndarray:
    image = np.zeros((240, 320, 3), np.uint8)
    cv2.circle(image, at, 3, (255, 255, 255), -1)
    return image


def brightest(crop: np.ndarray) -> np.ndarray:
    grey = crop[:, :, 0].astype(np.float64)
    ys, xs = np.nonzero(grey > grey.max() * 0.5)
    weights = grey[ys, xs]
    return np.array([np.average(xs, weights=weights), np.average(ys, weights=weights)])


@pytest.mark.parametrize("mirrored", [False, True])
@pytest.mark.parametrize("angle_deg", [0.0, 20.0, -35.0])
def test_cut_pixels_and_mapped_points_agree(mirrored: bool, angle_deg: float) -> None:
    dot = (170, 110)
    crop = Crop((160.0, 120.0), 100.0, math.radians(angle_deg), 64, mirrored)
    expected = crop.to_crop(np.array([dot], np.float64))[0]
    assert brightest(crop.cut(image_with_dot(dot))) == pytest.approx(expected, abs=0.6)
    assert crop.to_image(expected[None])[0] == pytest.approx(dot)


def test_depth_scales_with_the_crop() -> None:
    crop = Crop((50.0, 50.0), 200.0, 0.3, 100)  # 2 image pixels per crop pixel
    assert crop.to_image(np.array([[50.0, 50.0, 10.0]]))[0, 2] == pytest.approx(20.0)


def test_mirrored_crop_puts_image_right_on_the_crop_left() -> None:
    crop = Crop((100.0, 100.0), 50.0, 0.0, 50, mirrored=True)
    assert crop.to_crop(np.array([[120.0, 100.0]]))[0, 0] < 25


def test_face_crop_is_square_enlarged_and_upright() -> None:
    box = np.array([100.0, 50.0, 180.0, 150.0])  # 80 x 100
    crop = face_crop(box, scale=1.5, size=192)
    assert crop.side == pytest.approx(150.0)
    assert crop.center == pytest.approx((140.0, 100.0))
    assert crop.angle == 0.0
    corners = crop.to_crop(np.array([[65.0, 25.0], [215.0, 175.0]]))  # the crop's own corners
    assert corners == pytest.approx(np.array([[0.0, 0.0], [192.0, 192.0]]))


def test_eye_crops_put_the_outer_corner_on_the_left() -> None:
    outer, inner = np.array([200.0, 100.0]), np.array([170.0, 102.0])  # an image-right eye
    crop = eye_crop(outer, inner, enlarge=2.3, size=64, mirrored=True)
    outer_c, inner_c = crop.to_crop(np.stack([outer, inner]))
    assert outer_c[0] < inner_c[0]
    assert outer_c[1] == pytest.approx(inner_c[1])
    assert crop.side == pytest.approx(2.3 * np.hypot(30, 2))
