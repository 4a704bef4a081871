"""The camera's field of view from a real JPEG's EXIF, through the analyzers."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from proctor.frame import exif_horizontal_fov
from tests.analyzers.mesh_pipeline import analyze, headpose_image, mesh_pipeline

FRONTAL = "person02146+0+0.jpg"  # a report-split face of the pose evaluation


def jpeg_with_focal(image_bgr: np.ndarray, focal_35mm: int | None, orientation: int = 1) -> bytes:
    """``image`` as a JPEG whose EXIF (written by Pillow) holds that 35-mm focal length."""
    picture = Image.fromarray(np.ascontiguousarray(image_bgr[:, :, ::-1]))
    exif = Image.Exif()
    exif[0x0112] = orientation
    if focal_35mm is not None:
        exif.get_ifd(0x8769)[0xA405] = focal_35mm
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_field_of_view_from_the_35mm_equivalent_focal_length(eval_dir: Path) -> None:
    image = headpose_image(eval_dir, FRONTAL)  # 384x288, 4:3
    wide = exif_horizontal_fov(jpeg_with_focal(image, 24))
    # 4:3: the width covers 0.8 of the 43.27 mm full-frame diagonal = 34.6 mm.
    assert wide == pytest.approx(math.degrees(2 * math.atan(34.61 / 48)), abs=0.05)
    assert exif_horizontal_fov(jpeg_with_focal(image, 50)) < 40 < wide
    # Stored turned by 90 degrees: the upright image is 3:4, its width covers 0.6.
    upright = exif_horizontal_fov(jpeg_with_focal(image, 24, orientation=6))
    assert upright == pytest.approx(math.degrees(2 * math.atan(25.96 / 48)), abs=0.05)
    assert exif_horizontal_fov(jpeg_with_focal(image, None)) is None
    assert exif_horizontal_fov(b"not an image") is None


def test_the_pipeline_solves_pose_with_the_exif_field_of_view(eval_dir: Path) -> None:
    pipeline = mesh_pipeline()
    image = headpose_image(eval_dir, FRONTAL)
    plain = analyze(pipeline, jpeg_with_focal(image, None))
    tagged = analyze(pipeline, jpeg_with_focal(image, 24))
    assert plain.head_pose is not None and tagged.head_pose is not None
    assert plain.head_pose.camera_fov_deg == pipeline.settings.camera.horizontal_fov_deg
    assert tagged.head_pose.camera_fov_deg == pytest.approx(71.6, abs=0.1)
    # A wider lens: the same face in pixels is nearer, by the ratio of the focal lengths.
    assert tagged.distance_cm is not None and plain.distance_cm is not None
    focal_ratio = math.tan(math.radians(30)) / math.tan(math.radians(71.6 / 2))
    assert tagged.distance_cm / plain.distance_cm == pytest.approx(focal_ratio, rel=0.03)
