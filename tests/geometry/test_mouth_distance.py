"""Mouth-open ratio and pinhole distance on synthetic numbers."""

from __future__ import annotations

import numpy as np
import pytest

from proctor.geometry.distance import distance_cm
from proctor.geometry.mouth import mouth_open_ratio, pose_corrected
from proctor.geometry.pose import HeadPose
from proctor.models.landmarks import topology


def mesh_with_mouth(gap: float, width: float, scale: float = 1.0) -> np.ndarray:
    mesh = np.zeros((468, 3))
    upper, lower = topology.INNER_LIPS
    left, right = topology.MOUTH_CORNERS
    mesh[upper, :2] = (0, -gap / 2)
    mesh[lower, :2] = (0, gap / 2)
    mesh[left, :2] = (-width / 2, 0)
    mesh[right, :2] = (width / 2, 0)
    return mesh * scale + [200, 300, 0]


def test_mouth_ratio() -> None:
    assert mouth_open_ratio(mesh_with_mouth(0.0, 50.0)) == pytest.approx(0.0)
    assert mouth_open_ratio(mesh_with_mouth(20.0, 50.0)) == pytest.approx(0.4)
    assert mouth_open_ratio(mesh_with_mouth(20.0, 50.0, scale=3.0)) == pytest.approx(0.4)


def test_pose_correction_undoes_the_turns_foreshortening() -> None:
    # A mouth 50 wide seen turned by 60 deg is 25 wide in the image; the gap is unchanged.
    turned = mouth_open_ratio(mesh_with_mouth(10.0, 25.0))
    assert turned == pytest.approx(0.4)
    assert pose_corrected(turned, HeadPose(60.0, 0.0, 0.0)) == pytest.approx(0.2)
    assert pose_corrected(turned, HeadPose(-60.0, 0.0, 0.0)) == pytest.approx(0.2)
    assert pose_corrected(0.3, HeadPose(0.0, 25.0, 10.0)) == pytest.approx(0.3)


def test_distance_is_inverse_to_apparent_size() -> None:
    assert distance_cm(100.0, 11.7, 1000.0) == pytest.approx(11.7)
    near, far = distance_cm(20.0, 11.7, 600.0), distance_cm(10.0, 11.7, 600.0)
    assert far == pytest.approx(2 * near)
    with pytest.raises(ValueError):
        distance_cm(0.0, 11.7, 600.0)
