"""Camera-to-face distance from an object of known size, through a pinhole camera.

A feature ``size_mm`` across that appears ``size_px`` wide in an image whose focal length
is ``focal_px`` is ``focal_px * size_mm / size_px`` millimetres from the camera plane.
The human iris is about 11.7 mm across in nearly every adult, which makes it the best
ruler on a face; the focal length follows from the image width and the camera's
horizontal field of view (a setting: the image's EXIF is gone once it is decoded).
"""

from __future__ import annotations


def distance_cm(size_px: float, size_mm: float, focal_px: float) -> float:
    """Distance (cm) of a feature ``size_mm`` wide that appears ``size_px`` wide."""
    if size_px <= 0:
        raise ValueError(f"size_px must be positive, got {size_px}")
    return focal_px * size_mm / size_px / 10.0
