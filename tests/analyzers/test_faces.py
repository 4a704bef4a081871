"""The faces analyzer on real photos: sizes judged in the pixels of the image as sent."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from proctor.analyzers.base import Claim
from proctor.services import build_pipeline
from tests.conftest import FACE_MODELS, NOBODY, make_settings, require_models
from tests.helpers import photo


@pytest.mark.parametrize(("min_face_px", "found"), [(300, 1), (600, 0)])
def test_min_face_px_is_in_original_pixels(
    tmp_path: Path, identities_dir: Path, min_face_px: int, found: int
) -> None:
    """A 2560x1920 upload is analysed at 1280x960: its face box, about 450 px wide as sent, is
    about 225 px there. The limit applies to the face as sent: 300 keeps it, 600 drops it."""
    require_models(FACE_MODELS[0])
    face = cv2.resize(photo(identities_dir, "Tom_Cruise", 2), (350 * 3 // 2, 350 * 3 // 2))
    frame = np.full((1920, 2560, 3), 127, np.uint8)
    frame[700 : 700 + face.shape[0], 1000 : 1000 + face.shape[1]] = face
    settings = make_settings(
        tmp_path,
        analyzers=["faces"],
        faces={"min_face_px": min_face_px, "retry_with_border": False},
    )
    response = build_pipeline(settings).analyze(frame, Claim(), NOBODY).response
    assert response.face_count == found
    if found:
        box = response.faces[0].box
        assert box.x_max - box.x_min > min_face_px  # reported in the upload's pixels
