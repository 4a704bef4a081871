"""The per-face landmark result that the head-pose, gaze, mouth and distance analyzers read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from proctor.models.landmarks import topology


@dataclass(frozen=True)
class EyeLandmarks:
    """One eye from the iris model, in analysis-image pixels (z: relative depth, same scale)."""

    contour: np.ndarray  # (71, 3) eyelids (0-15, see topology), then brows and surroundings
    iris: np.ndarray  # (5, 3) centre, then four rim points
    side: Literal["left", "right"]  # which side of the image the eye is on

    @property
    def corners_left_to_right(self) -> tuple[np.ndarray, np.ndarray]:
        """The eye's corners, the one on the image's left first."""
        if self.side == "left":
            return self.outer_corner, self.inner_corner
        return self.inner_corner, self.outer_corner

    @property
    def outer_corner(self) -> np.ndarray:
        return self.contour[topology.EYE_OUTER_CORNER, :2]

    @property
    def inner_corner(self) -> np.ndarray:
        return self.contour[topology.EYE_INNER_CORNER, :2]

    @property
    def eyelids(self) -> np.ndarray:
        """(16, 2) the eyelid contour: outer corner, lower lid, inner corner, upper lid."""
        return self.contour[topology.EYELID_CONTOUR, :2]

    @property
    def iris_center(self) -> np.ndarray:
        return self.iris[0, :2]

    @property
    def iris_diameter_px(self) -> float:
        """The larger of the rim's two diameters (turning the head only shrinks one of them)."""
        rim = self.iris[1:, :2]
        across = float(np.linalg.norm(rim[0] - rim[2]))
        down = float(np.linalg.norm(rim[1] - rim[3]))
        return max(across, down)


@dataclass(frozen=True)
class FaceLandmarks:
    """Face mesh and both eyes of one detected face."""

    mesh: np.ndarray  # (468, 3) analysis-image pixels; z: relative depth, smaller is nearer
    score: float  # the mesh model's face-presence probability, 0..1
    eyes: tuple[EyeLandmarks, EyeLandmarks]  # the eye on the image's left, then right

    @property
    def points(self) -> np.ndarray:
        """(468, 2) mesh points in the image."""
        return self.mesh[:, :2]
