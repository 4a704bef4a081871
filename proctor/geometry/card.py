"""Find an ID-1 card (85.60 x 53.98 mm: bank cards, most identity cards and driving licences)
in a photo and map it to a flat, upright rectangle.

The card is the largest convex quadrilateral whose sides are in the card's proportions and
are seen as edges. Its sides are searched among the image's longest straight segments (the
line segment detector), paired into nearly parallel opposite sides and then into crossing
pairs, so a card whose outline is broken (a pale corner on a pale shirt) or touches the
background's edges is still bounded by its four lines. A card held up to a webcam is seen in
perspective, so the ratio is measured on averaged opposite sides and allowed a tolerance; a
small outline (a button, a sticker, a window pane far away) is ignored below a fraction of the
image's area. No model, no I/O: OpenCV only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

#: Width over height of an ID-1 card (ISO/IEC 7810).
CARD_ASPECT = 85.60 / 53.98
#: The longest segments paired into sides, and the shortest considered, as a fraction of the
#: image's shorter side.
MAX_SEGMENTS = 26
MIN_SEGMENT = 0.08
#: Opposite sides (which perspective tilts a little) are parallel within this; adjacent sides
#: cross at this angle at least.
PARALLEL_RAD = np.deg2rad(15)
CROSSING_RAD = np.deg2rad(45)
#: Canny thresholds of the edges a side must lie on: low, since a pale card on a pale wall
#: has a faint outline.
CANNY = (10, 40)


@dataclass(frozen=True)
class CardQuad:
    """The card's corners in image pixels, clockwise from the top-left of the card as read
    (long sides horizontal), and the fraction of the image it covers."""

    corners: np.ndarray  # (4, 2) float32
    area_fraction: float
    aspect: float  # long side over short side, each averaged over its opposite pair


def order_corners(corners: np.ndarray) -> np.ndarray:
    """Clockwise (in image coordinates) from the card's top-left: the first edge is the long
    side nearer the top of the image, so a card tilted up to 45 degrees comes out upright."""
    points = np.asarray(corners, np.float32).reshape(4, 2)
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    points = points[np.argsort(angles)]  # clockwise on screen (y grows downwards)
    edges = np.linalg.norm(points - np.roll(points, -1, axis=0), axis=1)
    long_starts = (0, 2) if edges[0] + edges[2] >= edges[1] + edges[3] else (1, 3)
    top = min(long_starts, key=lambda s: points[s, 1] + points[(s + 1) % 4, 1])
    return np.roll(points, -top, axis=0)


def edge_support(quads: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """For each (4, 2) quadrilateral, the least over its four sides of the share of points
    along the side (corners left out: a card's are rounded) that lie on an edge: a true
    outline is seen on every side, a quadrilateral that runs past the card is not."""
    height, width = edges.shape
    t = np.linspace(0.15, 0.85, 24)[None, None, :, None]
    ends = np.roll(quads, -1, axis=1)
    points = np.rint(quads[:, :, None, :] + t * (ends - quads)[:, :, None, :]).astype(int)
    inside = (points[..., 0] >= 0) & (points[..., 0] < width)
    inside &= (points[..., 1] >= 0) & (points[..., 1] < height)
    xs = np.clip(points[..., 0], 0, width - 1)
    ys = np.clip(points[..., 1], 0, height - 1)
    on_edge = (edges[ys, xs] > 0) & inside
    return on_edge.mean(axis=2).min(axis=1)


@dataclass(frozen=True)
class Candidates:
    """Every convex quadrilateral the image's straight segments bound, with the edges that
    confirm one (computed once; ``pick`` chooses under given tolerances)."""

    quads: np.ndarray  # (n, 4, 2) float32
    fractions: np.ndarray  # (n,) area over the image's area
    aspects: np.ndarray  # (n,) long side over short side
    edges: np.ndarray  # dilated edge map


def _segments(gray: np.ndarray) -> np.ndarray:
    """The longest straight segments ``(x1, y1, x2, y2)``, longest first."""
    found = cv2.createLineSegmentDetector().detect(gray)[0]
    if found is None:
        return np.zeros((0, 4))
    segments = found.reshape(-1, 4).astype(np.float64)
    lengths = np.hypot(segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1])
    order = np.argsort(-lengths)
    order = order[lengths[order] >= MIN_SEGMENT * min(gray.shape)][:MAX_SEGMENTS]
    return segments[order]


def _turn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles between undirected lines of angles ``a`` and ``b`` (radians)."""
    diff = np.abs(a - b) % np.pi
    return np.minimum(diff, np.pi - diff)


def candidates(image_bgr: np.ndarray) -> Candidates:
    """Quadrilaterals bounded by two pairs of nearly parallel segments that cross."""
    gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    edges = cv2.dilate(cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), *CANNY), np.ones((3, 3)))
    segments = _segments(gray)
    direction = segments[:, 2:] - segments[:, :2]
    normals = np.stack([-direction[:, 1], direction[:, 0]], axis=1)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-9)
    offsets = (normals * segments[:, :2]).sum(axis=1)
    angles = np.arctan2(direction[:, 1], direction[:, 0])
    pairs = np.array(
        [
            (i, j)
            for i, j in itertools.combinations(range(len(segments)), 2)
            if _turn(angles[i], angles[j]) < PARALLEL_RAD
        ],
        dtype=np.intp,
    ).reshape(-1, 2)
    first, second = np.triu_indices(len(pairs), 1)
    crossing = _turn(angles[pairs[first, 0]], angles[pairs[second, 0]]) >= CROSSING_RAD
    a, b = pairs[first[crossing]].T
    c, d = pairs[second[crossing]].T

    def meet(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        det = normals[x, 0] * normals[y, 1] - normals[x, 1] * normals[y, 0]
        det = np.where(np.abs(det) < 1e-9, 1e-9, det)
        px = (offsets[x] * normals[y, 1] - offsets[y] * normals[x, 1]) / det
        py = (normals[x, 0] * offsets[y] - normals[y, 0] * offsets[x]) / det
        return np.stack([px, py], axis=1)

    quads = np.stack([meet(a, c), meet(c, b), meet(b, d), meet(d, a)], axis=1)
    sides = np.roll(quads, -1, axis=1) - quads
    turns = sides[:, :, 0] * np.roll(sides, -1, axis=1)[:, :, 1]
    turns -= sides[:, :, 1] * np.roll(sides, -1, axis=1)[:, :, 0]
    convex = np.all(turns > 0, axis=1) | np.all(turns < 0, axis=1)
    quads, sides = quads[convex], sides[convex]
    x, y = quads[:, :, 0], quads[:, :, 1]
    area = 0.5 * np.abs((x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y).sum(axis=1))
    lengths = np.linalg.norm(sides, axis=2)
    across = (lengths[:, 0] + lengths[:, 2]) / 2
    along = (lengths[:, 1] + lengths[:, 3]) / 2
    aspects = np.maximum(across, along) / np.maximum(np.minimum(across, along), 1e-9)
    return Candidates(quads.astype(np.float32), area / gray.size, aspects, edges)


def pick(
    found: Candidates, aspect_tolerance: float, min_area_fraction: float, min_edge_support: float
) -> CardQuad | None:
    """The largest candidate covering ``min_area_fraction`` to all of the image, within
    ``aspect_tolerance`` (relative) of a card's aspect, with at least ``min_edge_support`` of
    every side on an edge; None when there is none."""
    fits = (found.fractions >= min_area_fraction) & (found.fractions <= 1.0)
    fits &= np.abs(found.aspects / CARD_ASPECT - 1.0) <= aspect_tolerance
    indices = np.flatnonzero(fits)
    indices = indices[edge_support(found.quads[indices], found.edges) >= min_edge_support]
    if not len(indices):
        return None
    best = indices[np.argmax(found.fractions[indices])]
    return CardQuad(
        order_corners(found.quads[best]), float(found.fractions[best]), float(found.aspects[best])
    )


def find_card(
    image_bgr: np.ndarray,
    aspect_tolerance: float,
    min_area_fraction: float,
    min_edge_support: float,
) -> CardQuad | None:
    """The card's outline in the image, or None (``candidates`` then ``pick``)."""
    return pick(candidates(image_bgr), aspect_tolerance, min_area_fraction, min_edge_support)


def rectify(image_bgr: np.ndarray, quad: CardQuad, width: int) -> np.ndarray:
    """The card seen flat and upright, ``width`` pixels wide in the card's proportions."""
    height = round(width / CARD_ASPECT)
    target = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    matrix = cv2.getPerspectiveTransform(quad.corners, target)
    return cv2.warpPerspective(image_bgr, matrix, (width, height), flags=cv2.INTER_CUBIC)
