"""Square, rotated crops of an image and the mapping of crop points back to the image.

The landmark models expect the face (or eye) upright in a fixed-size square. A crop is a
similarity transform: rotate about ``center`` by ``angle`` so the face's eye line (or the
eye's corner line) is horizontal, scale ``side`` image pixels to ``size`` crop pixels, and
optionally mirror left-right. Points the model returns in crop pixels map back through the
inverse; depth (z) scales like x and y.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Crop:
    center: tuple[float, float]  # image pixels
    side: float  # image pixels covered by the crop's width and height
    angle: float  # radians; the image content is rotated by -angle into the crop
    size: int  # crop pixels
    mirrored: bool = False

    @property
    def scale(self) -> float:
        """Crop pixels per image pixel."""
        return self.size / self.side

    def matrix(self) -> np.ndarray:
        """The 2x3 affine matrix taking image pixels to crop pixels."""
        cos, sin = math.cos(self.angle) * self.scale, math.sin(self.angle) * self.scale
        cx, cy = self.center
        half = self.size / 2
        m = np.array(
            [
                [cos, sin, half - cos * cx - sin * cy],
                [-sin, cos, half + sin * cx - cos * cy],
            ]
        )
        if self.mirrored:
            m[0] = -m[0]
            m[0, 2] += self.size
        return m

    def cut(self, image: np.ndarray) -> np.ndarray:
        """The crop, ``size`` x ``size``; outside the image is black (as the models saw)."""
        return cv2.warpAffine(
            image,
            self.matrix(),
            (self.size, self.size),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0),
        )

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Crop-pixel points (N, 2) or (N, 3) to image pixels; z is divided by the scale."""
        points = np.asarray(points, np.float64)
        m = self.matrix()
        inverse = cv2.invertAffineTransform(m)
        out = points.copy()
        out[:, :2] = points[:, :2] @ inverse[:, :2].T + inverse[:, 2]
        if points.shape[1] > 2:
            out[:, 2:] = points[:, 2:] / self.scale
        return out

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Image-pixel points (N, 2) to crop pixels."""
        points = np.asarray(points, np.float64)
        m = self.matrix()
        return points[:, :2] @ m[:, :2].T + m[:, 2]


def line_angle(start: np.ndarray, end: np.ndarray) -> float:
    """Angle (radians, image y down) of the line from ``start`` to ``end``."""
    dx, dy = float(end[0] - start[0]), float(end[1] - start[1])
    return math.atan2(dy, dx)


def face_crop(box: np.ndarray, *, scale: float, size: int) -> Crop:
    """An upright square crop around a detector box, enlarged by ``scale``.

    Upright, not turned by the detector's eye points: those go astray on heads turned 45
    degrees and more (YuNet's tilted one tune face's crop by 22 degrees), while a webcam face
    is nearly always upright; a face the mesh finds rolled gets a second, turned crop
    (``FaceMeshModel.straightened``).
    """
    x_min, y_min, x_max, y_max = (float(v) for v in box)
    side = max(x_max - x_min, y_max - y_min) * scale
    center = ((x_min + x_max) / 2, (y_min + y_max) / 2)
    return Crop(center, side, 0.0, size)


def eye_crop(
    outer: np.ndarray, inner: np.ndarray, *, enlarge: float, size: int, mirrored: bool
) -> Crop:
    """A square crop centred between an eye's corners, ``enlarge`` times their distance wide.

    The crop is rotated so the corner line is horizontal; ``mirrored`` flips it left-right
    (the iris model was trained on one eye and reads the other one mirrored).
    """
    center = (float(outer[0] + inner[0]) / 2, float(outer[1] + inner[1]) / 2)
    width = float(np.hypot(*(np.asarray(inner[:2]) - np.asarray(outer[:2]))))
    start, end = (inner, outer) if mirrored else (outer, inner)
    return Crop(center, max(width, 1.0) * enlarge, line_angle(start, end), size, mirrored)
