"""How open the mouth is: the gap between the inner lips over the mouth's width.

A ratio, so it does not depend on the face's size in the image; a closed mouth measures
near 0, talking or a wide smile 0.3 and more. Turning the head shortens the mouth's width
in the image by about cos(yaw) and leaves the lip gap (a vertical distance) alone, so the
image ratio of a closed mouth grows with the turn; ``pose_corrected`` undoes that.
"""

from __future__ import annotations

import math

import numpy as np

from proctor.geometry.pose import HeadPose
from proctor.models.landmarks import topology


def mouth_open_ratio(mesh: np.ndarray) -> float:
    """Inner-lip gap over corner-to-corner mouth width, from a (468, 2+) face mesh."""
    upper, lower = (np.asarray(mesh[i, :2], np.float64) for i in topology.INNER_LIPS)
    left, right = (np.asarray(mesh[i, :2], np.float64) for i in topology.MOUTH_CORNERS)
    width = max(float(np.hypot(*(right - left))), 1e-6)
    return float(np.hypot(*(lower - upper))) / width


def pose_corrected(ratio: float, pose: HeadPose) -> float:
    """The ratio as a frontal view would measure it: the image width is the true width
    times cos(yaw) (yaw relative to the line from the camera to the face)."""
    return ratio * math.cos(math.radians(pose.yaw_deg))
