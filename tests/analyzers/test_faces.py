"""The faces analyzer on real photos: sizes judged in the pixels of the image as sent."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from proctor.analyzers.base import Claim
from proctor.eval.fairness_detection import gamma, motion_blur
from proctor.models.boxes import iou
from proctor.quality import MIN_GAMMA, lift_gamma, measure
from proctor.schemas import AnalyzeResponse, Box
from proctor.services import build_pipeline
from proctor.settings import Settings
from tests.conftest import FACE_MODELS, NOBODY, make_settings, require_models
from tests.helpers import photo

#: Real desk frames (``desk/images/<folder>``) the quality tests use.
AHMED = "Ahmad-Elbaz__gp-upper-rasp__ahmed"
QUEEN = "TimGabrielCodes__Home-Security-with-Facial-recognition-OpenCV-__Queen"


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


# ---- the enhanced retry and the frame-quality alerts (proctor/quality.py) ---------------------


def _analyze(tmp_path: Path, image: np.ndarray, **faces: object) -> AnalyzeResponse:
    require_models(FACE_MODELS[0])
    settings = make_settings(tmp_path, analyzers=["faces"], faces=faces)
    return build_pipeline(settings).analyze(image, Claim(), NOBODY).response


def _desk(eval_dir: Path, person: str, name: str) -> np.ndarray:
    image = cv2.imread(str(eval_dir / "desk" / "images" / person / name))
    assert image is not None
    return image


def test_enhanced_retry_finds_a_dark_face_the_plain_passes_miss(
    tmp_path: Path, identities_dir: Path
) -> None:
    """A real LFW photo darkened to gamma 4 (a very dim room): the plain passes (frame, grey
    border) find nothing; the enhanced copy finds the face, where the undarkened photo has it."""
    bright = photo(identities_dir, "Amelie_Mauresmo", 1)
    dark = gamma(bright, 4.0)
    plain = _analyze(tmp_path, dark, retry_enhanced=False)
    assert plain.face_count == 0
    assert [a.code for a in plain.alerts] == ["POOR_LIGHTING"]
    enhanced = _analyze(tmp_path, dark)
    assert enhanced.face_count == 1 and enhanced.face_found_by == "enhanced"
    assert enhanced.alerts == []
    truth = _analyze(tmp_path, bright)
    assert truth.face_found_by in ("frame", "border")
    assert _iou(enhanced.faces[0].box, truth.faces[0].box) > 0.6


def test_upscaled_retry_finds_a_small_face_where_it_is(
    tmp_path: Path, identities_dir: Path
) -> None:
    """A real face about 28 px across in a 320x240 frame is below the detector's anchors; the
    centre enlarged twice shows it, and its box maps back to where the face was put."""
    frame = np.full((240, 320, 3), 127, np.uint8)
    frame[100:140, 140:180] = cv2.resize(
        photo(identities_dir, "Ann_Veneman", 1), (40, 40), interpolation=cv2.INTER_AREA
    )
    assert _analyze(tmp_path, frame, retry_upscale=1.0).face_count == 0
    response = _analyze(tmp_path, frame)
    assert response.face_found_by == "upscaled" and response.face_count == 1
    box = response.faces[0].box
    assert 135 <= box.x_min < box.x_max <= 185 and 95 <= box.y_min < box.y_max <= 145


def test_a_frame_too_dark_to_find_a_face_in_is_poor_lighting_not_no_face(
    tmp_path: Path, eval_dir: Path
) -> None:
    """A real desk frame (a student is there) darkened to gamma 8: no face even after the
    retries, and the frame is blamed, low severity, with its brightness and the limit."""
    dark = gamma(_desk(eval_dir, QUEEN, "004.jpg"), 8.0)
    response = _analyze(tmp_path, dark)
    assert response.face_count == 0
    assert response.frame_quality is not None
    (alert,) = response.alerts
    assert (alert.code, alert.severity) == ("POOR_LIGHTING", "low")
    assert f"brightness {response.frame_quality.brightness:.0f} of 255" in alert.message
    assert response.frame_quality.brightness < Settings().faces.dark_brightness


def test_a_well_lit_sharp_frame_without_a_face_is_still_no_face(
    tmp_path: Path, eval_dir: Path
) -> None:
    """A real COCO photo with nobody in it: bright and sharp enough, so NO_FACE, high."""
    image = cv2.imread(str(eval_dir / "coco" / "val2017" / "000000025986.jpg"))
    response = _analyze(tmp_path, image)
    assert response.face_count == 0
    assert [(a.code, a.severity) for a in response.alerts] == [("NO_FACE", "high")]


def test_a_blank_frame_is_no_face_not_a_blurred_one(tmp_path: Path) -> None:
    """One flat colour (a covered lens) has no detail to blur: NO_FACE, high, not a request
    to fix the focus."""
    response = _analyze(tmp_path, np.full((480, 640, 3), (90, 110, 120), np.uint8))
    assert response.frame_quality is not None and response.frame_quality.sharpness == 0
    assert [(a.code, a.severity) for a in response.alerts] == [("NO_FACE", "high")]


def test_a_heavily_blurred_frame_is_low_quality_not_no_face(tmp_path: Path, eval_dir: Path) -> None:
    """A sharp real desk frame smeared by a 121 px horizontal motion blur: the face is lost
    and the frame is blamed with its sharpness."""
    desk = _desk(eval_dir, AHMED, "001.jpg")
    assert _analyze(tmp_path, desk).face_count == 1
    response = _analyze(tmp_path, motion_blur(desk, 121))
    assert response.face_count == 0
    (alert,) = response.alerts
    assert (alert.code, alert.severity) == ("LOW_QUALITY_FRAME", "low")
    assert "sharpness" in alert.message


def test_frame_quality_reports_brightness_and_sharpness(tmp_path: Path, eval_dir: Path) -> None:
    """On a real desk frame: a mid-range brightness and a sharpness in the hundreds; darkening
    lowers the brightness, blurring the sharpness, and a found face gets no quality alert."""
    desk = _desk(eval_dir, AHMED, "001.jpg")
    plain, dark, blurred = (
        _analyze(tmp_path, image) for image in (desk, gamma(desk, 2.0), motion_blur(desk, 15))
    )
    quality = plain.frame_quality
    assert quality is not None and dark.frame_quality and blurred.frame_quality
    assert 60 < quality.brightness < 160 and quality.sharpness > 200
    assert dark.frame_quality.brightness < quality.brightness - 30
    assert blurred.frame_quality.sharpness < quality.sharpness / 2
    assert plain.face_found_by == "frame" and plain.alerts == []
    assert dark.face_count == 1 and dark.alerts == []


def test_quality_is_the_same_whatever_the_upload_size(eval_dir: Path) -> None:
    """Both measures are taken at 320 px, so a frame sent at twice the size measures alike."""
    desk = _desk(eval_dir, AHMED, "001.jpg")
    big = cv2.resize(desk, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    small, large = measure(desk), measure(big)
    assert abs(small.brightness - large.brightness) < 1
    assert abs(small.sharpness - large.sharpness) < 0.15 * small.sharpness


@pytest.mark.parametrize(
    "faces",
    [
        {"dark_brightness": 200, "bright_brightness": 100},
        {"retry_upscale": 0.5},
        {"enhance_clahe_clip": -1},
        {"enhance_target_brightness": 300},
        {"min_sharpness": -1},
    ],
)
def test_quality_and_retry_settings_are_validated(faces: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        Settings(faces=faces)


def test_lift_gamma_brings_the_mean_to_the_target() -> None:
    """A frame at mean luma 30 lifted toward 110 by the chosen gamma lands near 110; a frame
    already brighter is left alone."""
    g = lift_gamma(30.0, 110.0)
    assert 0.3 <= g < 1 and abs(255 * (30 / 255) ** g - 110) < 1
    assert lift_gamma(150.0, 110.0) == 1.0
    assert lift_gamma(0.0, 110.0) == MIN_GAMMA


def _iou(a: Box, b: Box) -> float:
    def corners(box: Box) -> np.ndarray:
        return np.array([[box.x_min, box.y_min, box.x_max, box.y_max]], np.float32)

    return float(iou(corners(a), corners(b))[0, 0])
