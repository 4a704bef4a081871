"""Where the iris sits inside the eye, and how open the eye is, from the iris model's points.

Both are measured in the eye's own frame: the x axis runs along the corner-to-corner line
toward the image's right, the y axis is perpendicular to it pointing up, and lengths are
in units of half the corner-to-corner distance. A tilted head (roll) therefore does not
move the iris; turning the head does, a little, which the combined gaze direction absorbs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from proctor.models.landmarks import topology
from proctor.models.landmarks.result import EyeLandmarks

#: Half the eye's corner-to-corner width over the eyeball's radius (adult averages: a
#: ~30 mm palpebral fissure on a ~12 mm radius eyeball). An iris displaced by ``x`` half
#: widths has turned by ``asin(x * EYE_WIDTH_OVER_RADIUS)``.
EYE_WIDTH_OVER_RADIUS = 15.0 / 12.0


@dataclass(frozen=True)
class EyeFrame:
    center: np.ndarray  # midpoint of the corners, image pixels
    x_axis: np.ndarray  # unit vector toward the image's right along the corner line
    y_axis: np.ndarray  # unit vector perpendicular to it, pointing up in the image
    half_width: float  # half the corner-to-corner distance, pixels

    def local(self, point: np.ndarray) -> tuple[float, float]:
        """A point in this frame, in half widths."""
        offset = np.asarray(point[:2], np.float64) - self.center
        return (
            float(offset @ self.x_axis) / self.half_width,
            float(offset @ self.y_axis) / self.half_width,
        )


def eye_frame(left_corner: np.ndarray, right_corner: np.ndarray) -> EyeFrame:
    """The frame of an eye given its corners on the image's left and right."""
    left = np.asarray(left_corner[:2], np.float64)
    right = np.asarray(right_corner[:2], np.float64)
    span = right - left
    width = max(float(np.hypot(*span)), 1e-6)
    x_axis = span / width
    y_axis = np.array([x_axis[1], -x_axis[0]])  # x rotated by -90 deg: up when y grows down
    return EyeFrame((left + right) / 2, x_axis, y_axis, width / 2)


def frame_of(eye: EyeLandmarks) -> EyeFrame:
    return eye_frame(*eye.corners_left_to_right)


def iris_offset(eye: EyeLandmarks) -> tuple[float, float]:
    """The iris centre relative to the corners' midpoint: (toward image right, up)."""
    return frame_of(eye).local(eye.iris_center)


def eye_openness(eye: EyeLandmarks) -> float:
    """Mean gap between upper and lower lid over the corner-to-corner width.

    The seven lower-lid points face the seven upper-lid points (see ``topology``); an
    open adult eye measures about 0.2, a closed one under 0.1.
    """
    frame = frame_of(eye)
    upper = eye.contour[topology.UPPER_LID, :2]
    lower = eye.contour[topology.LOWER_LID, :2]
    gaps = (upper - lower) @ frame.y_axis
    return float(np.mean(gaps)) / (2 * frame.half_width)


def eye_rotation_deg(offset: float) -> float:
    """How far the eyeball has turned (degrees) for an iris ``offset`` half widths off rest."""
    return math.degrees(math.asin(max(-1.0, min(1.0, offset * EYE_WIDTH_OVER_RADIUS))))
