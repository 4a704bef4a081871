"""Every knob of the service in one place, overridable by environment variables.

Nested sections map to ``PROCTOR_<SECTION>__<FIELD>`` (for example
``PROCTOR_IDENTITY__THRESHOLD=0.4``). ``get_settings()`` is cached so the app, the
CLI and the tests share one parsed copy; tests override it through FastAPI's
``dependency_overrides`` or by building ``Settings(...)`` directly.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

FaceDetectorName = Literal["scrfd", "yunet"]
FaceEmbedderName = Literal["mobilefacenet", "sface"]
ObjectDetectorName = Literal["yolo", "centernet", "nanodet", "fusion"]

#: Backends whose weights are under a non-permissive licence (non-commercial or unknown).
NON_PERMISSIVE_BACKENDS = frozenset({"scrfd", "mobilefacenet", "yolo"})


class Section(BaseModel):
    """Base of every settings section: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class FacesSettings(Section):
    detector: FaceDetectorName | None = Field(
        None,
        description="Face detector backend. Default: yunet (MIT/Apache-2.0): it ties with scrfd "
        "on `python -m proctor.eval faces` and the tie goes to the permissive licence.",
    )
    _defaulted: bool = PrivateAttr(False)  # the detector was not configured (for /health)
    min_score: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Minimum face detection score. Default: the detector's value chosen by "
        "`python -m proctor.eval faces` on its tune split.",
    )
    nms_iou: float = Field(0.4, ge=0.0, le=1.0, description="IoU above which boxes merge.")
    input_size: int = Field(
        640, ge=160, le=1920, description="Longest side of the detector input, in pixels."
    )
    min_face_px: int = Field(
        24,
        ge=0,
        description="Faces whose shorter box side is smaller than this, in the pixels of the "
        "image as sent, are ignored.",
    )
    retry_with_border: bool = Field(
        True,
        description="When no face is found, retry once on the frame padded with a 50% border, "
        "so faces that fill the whole frame (close-ups, ID photos) fall inside the detector's "
        "anchor sizes.",
    )
    retry_border: float = Field(
        0.5,
        gt=0.0,
        le=2.0,
        description="Border added on each side for that retry, as a fraction of the frame's "
        "width and height.",
    )
    retry_enhanced: bool = Field(
        True,
        description="When still no face is found, retry on an enhanced copy (optional CLAHE "
        "on the lightness, then a gamma lift), then on its centre enlarged by `retry_upscale`, "
        "each only when the one before found nothing; the detector's min_score is kept. "
        "`face_found_by` says which copy found the face.",
    )
    enhance_clahe_clip: float = Field(
        0.0,
        ge=0.0,
        le=40.0,
        description="CLAHE clip limit for the enhanced copy (0: no CLAHE). Chosen by "
        "`python -m proctor.eval fairness --part detection` on its tune split: CLAHE found "
        "fewer of the missed faces than the gamma lift alone and, at clip 2, invented one.",
    )
    enhance_target_brightness: float = Field(
        90.0,
        ge=0.0,
        le=255.0,
        description="The enhanced copy's gamma lifts the frame's mean luma toward this (0..255; "
        "a frame already this bright gets no lift). Chosen on the same tune split.",
    )
    retry_upscale: float = Field(
        2.0,
        ge=1.0,
        le=4.0,
        description="Enlargement of the last retry's copy, for faces too small for the "
        "detector's anchors (1: no such retry). Chosen on the same tune split.",
    )
    dark_brightness: float = Field(
        62.0,
        ge=0.0,
        le=255.0,
        description="With no face found, a mean luma below this raises POOR_LIGHTING instead of "
        "NO_FACE. Chosen on the tune persons' real desk frames: the highest value with at most "
        "1% of them below it (so a lit room with nobody in it still gets NO_FACE).",
    )
    bright_brightness: float = Field(
        235.0,
        ge=0.0,
        le=255.0,
        description="With no face found, a mean luma above this (washed out) raises "
        "POOR_LIGHTING instead of NO_FACE.",
    )
    min_sharpness: float = Field(
        29.0,
        ge=0.0,
        description="With no face found, a sharpness (variance of the Laplacian of the luma at "
        "320 px, see proctor/quality.py) below this raises LOW_QUALITY_FRAME instead of "
        "NO_FACE. Chosen like dark_brightness, on the same desk frames.",
    )

    @model_validator(mode="after")
    def _lighting_range(self) -> FacesSettings:
        if self.dark_brightness >= self.bright_brightness:
            raise ValueError("faces.dark_brightness must be below faces.bright_brightness")
        return self


class IdentitySettings(Section):
    embedder: FaceEmbedderName | None = Field(
        None,
        description="Face embedding backend. Default: sface (Apache-2.0; it ties with "
        "mobilefacenet on `python -m proctor.eval faces` and the tie goes to the licence), "
        "unless every enrolled embedding in the store is mobilefacenet's: then that one is kept, "
        "so an upgrade does not strand enrolled students. Embeddings of one backend cannot be "
        "compared with another's: switching means re-enrolling.",
    )
    _defaulted: bool = PrivateAttr(
        False
    )  # the embedder was not configured: it may follow the store
    threshold: float | None = Field(
        None,
        ge=-1.0,
        le=1.0,
        description="Cosine similarity at or above which two faces are the same person. "
        "Default: the backend's threshold chosen by `python -m proctor.eval faces`.",
    )
    max_faces: int = Field(5, ge=1, le=50, description="At most this many faces are embedded.")
    identify_target_fpir: float = Field(
        0.01,
        gt=0.0,
        lt=1.0,
        description="1:N identification (a frame with no student_id): the share of people who "
        "are not enrolled that may be named as an enrolled student. The 1:N threshold grows "
        "with the gallery: max(threshold, a + b * log10(gallery rows / target)), with the "
        "embedder's impostor tail (a, b) fitted by `python -m proctor.eval fairness --part "
        "identity`. 1:1 verification keeps `threshold`.",
    )
    identify_margin: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="1:N identification also needs the best student's score to beat the "
        "second-best student's by this much (0: off; the fairness eval found no gain from "
        "0.02-0.05).",
    )


class ObjectsSettings(Section):
    detector: ObjectDetectorName | None = Field(
        None,
        description="COCO object detector: nanodet, centernet, fusion (centernet + nanodet) "
        "(all MIT) or yolo (Ultralytics YOLOv8n, AGPL-3.0). Default: nanodet. The four tie on "
        "banned mAP (tune split of `python -m proctor.eval objects`); the tie goes to the "
        "permissive, then the fastest, so permissive_only keeps it.",
    )
    yolo_model: Path | None = Field(
        None,
        description="Your own Ultralytics-exported YOLO ONNX file (detect head, class names in "
        "its metadata) for the yolo detector, instead of the pinned YOLOv8n; setting it selects "
        "yolo. Its licence is yours to check.",
    )
    banned: list[str] = Field(
        default_factory=lambda: ["cell phone", "laptop", "book", "tv"],
        description="Detector class names that raise BANNED_OBJECT ('tv' covers computer "
        "monitors). 'keyboard', 'mouse' and 'remote' are measured too and may be added.",
    )
    thresholds: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=dict,
        description="Minimum confidence per class name (banned classes and 'person'), "
        "overriding the detector's defaults chosen by `python -m proctor.eval objects`.",
    )
    nms_iou: float = Field(
        0.5, ge=0.0, le=1.0, description="IoU above which boxes of one class merge."
    )
    fusion_iou: float = Field(
        0.55, ge=0.0, le=1.0, description="IoU at which the fusion detector merges two boxes."
    )
    face_in_person: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="A face is a detected person's own face (counted once) when at least this "
        "fraction of the face box lies inside the person box.",
    )
    faceless_person_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Minimum confidence for a person box with no face in it to count as a "
        "person (a raised arm is often a faceless low-confidence 'person'). Default: the "
        "detector's value chosen by `python -m proctor.eval objects`.",
    )
    second_look: bool = Field(
        False,
        description="Run the detector a second time on the region around and below the "
        "student's face, where a held-up phone is larger (about doubles the detector's time). "
        "Off by default: with the verifier its recall tied the frame alone's on the tune "
        "split (`python -m tools.train_phone_verifier`), so the cheaper one is kept.",
    )
    phone_verifier: bool = Field(
        True,
        description="Decide 'cell phone' with the phone verifier (a classifier over crops of "
        "the detector's phone and remote boxes) instead of the detector's phone score alone.",
    )
    phone_floor: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Detector score a phone or remote box needs to be shown to the verifier. "
        "Default: chosen by `python -m proctor.eval objects` (held-up phone table).",
    )
    phone_verifier_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Verifier score at which a box is reported as a cell phone. Default: "
        "chosen by `python -m proctor.eval objects` (held-up phone table).",
    )
    hands: bool = Field(
        True,
        description="Look for the hand holding each reported phone (evidence.held); it "
        "decides nothing.",
    )


class CameraSettings(Section):
    horizontal_fov_deg: float = Field(
        60.0,
        gt=10.0,
        lt=170.0,
        description="Horizontal field of view of the students' webcams (typical laptop webcams: "
        "55-78 degrees). Sets the focal length for head pose and distance, for frames whose "
        "upload carries no EXIF FocalLengthIn35mmFilm (webcam captures rarely do); with it, "
        "the frame's own field of view is used.",
    )


class FaceMeshSettings(Section):
    max_faces: int = Field(
        5, ge=1, le=50, description="At most this many faces (largest first) get a face mesh."
    )
    min_score: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="Face-presence probability of the mesh model below which a face gets no "
        "landmarks (and so no pose, gaze, mouth or distance). Profiles score low but still "
        "get a pose pointing the right way down to about 0.01.",
    )
    crop_scale: float = Field(
        1.4, ge=1.0, le=3.0, description="Detector box enlargement for the square mesh crop."
    )
    max_crop_turn_deg: float = Field(
        5.0,
        gt=0.0,
        le=180.0,
        description="Faces are meshed in an upright crop; when the mesh finds one rolled by "
        "more than this, the crop is turned to the mesh's eye line and the face meshed again. "
        "Default chosen by `python -m proctor.eval pose` on its tune split.",
    )


class HeadPoseSettings(Section):
    max_yaw_deg: float = Field(
        35.0,
        ge=0.0,
        le=90.0,
        description="HEAD_TURNED when |yaw| exceeds this, in degrees. "
        "Default chosen by `python -m proctor.eval pose` on its tune split.",
    )
    max_pitch_down_deg: float = Field(
        15.0,
        ge=0.0,
        le=90.0,
        description="LOOKING_DOWN when the head pitches down past this. "
        "Default chosen by `python -m proctor.eval pose` on its tune split.",
    )
    max_pitch_up_deg: float = Field(
        20.0,
        ge=0.0,
        le=90.0,
        description="LOOKING_UP when the head pitches up past this. "
        "Default chosen by `python -m proctor.eval pose` on its tune split.",
    )
    landmarks_yaw_above_deg: float = Field(
        35.0,
        ge=0.0,
        le=90.0,
        description="The face mesh's yaw saturates near +-50 deg; when it reads beyond this "
        "and the face detector's five landmarks read further the same way, the yaw comes from "
        "the five landmarks (90: never). "
        "Default chosen by `python -m proctor.eval pose` on its tune split.",
    )


class GazeSettings(Section):
    max_yaw_deg: float = Field(
        30.0,
        ge=0.0,
        le=90.0,
        description="GAZE_AWAY when the gaze direction (head + eyes) is more than this many "
        "degrees left or right of the camera. "
        "Default chosen by `python -m proctor.eval pose` on its tune split.",
    )
    max_pitch_down_deg: float = Field(
        25.0,
        ge=0.0,
        le=90.0,
        description="GAZE_AWAY when the gaze points down past this. "
        "Default chosen by `python -m proctor.eval pose` on its tune split.",
    )
    max_pitch_up_deg: float = Field(
        20.0,
        ge=0.0,
        le=90.0,
        description="GAZE_AWAY when the gaze points up past this. "
        "Default chosen by `python -m proctor.eval pose` on its tune split.",
    )
    closed_openness: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="EYES_CLOSED when both eyes' lid gap over width is below this (open eyes "
        "measure about 0.2). The distance analyzer stops trusting the iris below it too.",
    )
    closed_min_pitch_deg: float = Field(
        -20.0,
        ge=-90.0,
        le=0.0,
        description="Below this head pitch, low lids are read as looking down, not as closed "
        "eyes (the upper lid follows a downward gaze).",
    )


class MouthSettings(Section):
    open_ratio: float = Field(
        0.3,
        ge=0.0,
        le=2.0,
        description="MOUTH_OPEN when the inner-lip gap over the mouth's width reaches this.",
    )


class DistanceSettings(Section):
    iris_diameter_mm: float = Field(
        11.7, gt=5.0, lt=20.0, description="Assumed adult iris diameter, the ruler."
    )
    min_iris_px: float = Field(
        6.0,
        ge=0.0,
        description="Irises smaller than this (pixels) are too coarse to measure; the face's "
        "size is used instead.",
    )
    min_cm: float = Field(30.0, ge=0.0, description="TOO_CLOSE below this distance, in cm.")
    max_cm: float = Field(120.0, ge=0.0, description="TOO_FAR beyond this distance, in cm.")


class SpoofSettings(Section):
    models: Literal["fused", "v2", "v1se"] = Field(
        "fused",
        description="MiniFASNet models behind the spoof score: both (their real-class "
        "probabilities averaged, as the reference does), or V2 (2.7x crop) or V1SE (4.0x crop) "
        "alone. Compared by `python -m proctor.eval spoof`.",
    )
    threshold: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="SPOOF_SUSPECTED when the primary face's spoof score (estimated "
        "probability of a presentation attack) reaches this. Default: the lowest value whose "
        "tune BPCER is at most 5% with 95% confidence (`python -m proctor.eval spoof`); on its "
        "report frames it gives APCER 10.5% but BPCER 13.1% (docs/accuracy.md): raise it "
        "(0.7: BPCER 5.1%, APCER 17.5% there) where accusing live students costs more than "
        "missing attacks.",
    )
    min_face_px: int = Field(
        40,
        ge=0,
        description="Faces whose shorter box side is below this, in the pixels of the image "
        "as sent, are too small to judge: live is null. The models see the face at about 30 "
        "of their 80 input pixels; a smaller face is upscaled blur.",
    )


class IdCardSettings(Section):
    aspect_tolerance: float = Field(
        0.3,
        gt=0.0,
        le=1.0,
        description="How far (relative) a quadrilateral's long-over-short side ratio may be "
        "from an ID-1 card's 1.586 and still be taken for the card: perspective and a tilted "
        "hold change the measured ratio. Chosen by `python -m proctor.eval id_card`.",
    )
    min_area_fraction: float = Field(
        0.12,
        gt=0.0,
        le=1.0,
        description="Smallest card outline, as a fraction of the image area; smaller "
        "quadrilaterals (a sticker, a window pane) are ignored. Chosen by "
        "`python -m proctor.eval id_card`.",
    )
    min_edge_support: float = Field(
        0.7,
        gt=0.0,
        le=1.0,
        description="Share of each side of a candidate outline that must lie on an image edge "
        "(a quadrilateral that runs past the card onto the background is not seen on every "
        "side). Chosen by `python -m proctor.eval id_card`.",
    )
    search_max_side: int = Field(
        1024,
        ge=160,
        description="The card is searched for on a copy downscaled to this longest side; the "
        "portrait is then cut from the full-size image.",
    )
    card_width_px: int = Field(
        856,
        ge=200,
        le=4000,
        description="Width of the perspective-corrected card the portrait is searched on "
        "(the height follows the card's proportions).",
    )
    whole_image_fallback: bool = Field(
        True,
        description="When no card outline is found, treat the whole image as the card if a "
        "face is found on it (a scan or a photo cropped to the card); the response says so.",
    )


class IncidentRule(Section):
    """When one alert code becomes an incident of an attempt, and what it weighs in the risk."""

    votes_to_open: float = Field(
        gt=0.0,
        description="Votes over the last `window` frames that open an incident; a frame where "
        "the code fires votes min(1, confidence / full_confidence).",
    )
    window: int = Field(ge=1, le=100, description="Frames the votes are counted over.")
    hold_s: float = Field(
        ge=0.0, description="Firing on every frame for this long also opens an incident."
    )
    clear_s: float = Field(
        ge=0.0, description="An open incident closes after the code has been absent this long."
    )
    full_confidence: float = Field(
        1.0, gt=0.0, le=1.0, description="Confidence at which a frame is a full vote."
    )
    weight: float = Field(
        ge=0.0, le=1.0, description="Risk weight of a long, confident incident of this code."
    )
    tau_s: float = Field(gt=0.0, description="Duration at which 63% of the weight is reached.")


class IncidentRuleOverride(Section):
    """Any field of ``IncidentRule``; the rest keep their defaults."""

    votes_to_open: float | None = Field(None, gt=0.0)
    window: int | None = Field(None, ge=1, le=100)
    hold_s: float | None = Field(None, ge=0.0)
    clear_s: float | None = Field(None, ge=0.0)
    full_confidence: float | None = Field(None, gt=0.0, le=1.0)
    weight: float | None = Field(None, ge=0.0, le=1.0)
    tau_s: float | None = Field(None, gt=0.0)


def _rule(
    votes: float, window: int, hold: float, clear: float, full: float, weight: float, tau: float
) -> IncidentRule:
    return IncidentRule(
        votes_to_open=votes,
        window=window,
        hold_s=hold,
        clear_s=clear,
        full_confidence=full,
        weight=weight,
        tau_s=tau,
    )


#: Defaults per alert code, chosen by ``python -m proctor.eval attempts`` on its tuning half
#: (the rule and the figures are in docs/accuracy.md; the weights' reasons in the README).
DEFAULT_INCIDENT_RULES: dict[str, IncidentRule] = {
    "NO_FACE": _rule(2, 4, 20, 10, 1.0, 0.6, 30),
    "MULTIPLE_PEOPLE": _rule(2, 4, 20, 10, 0.3, 0.9, 10),
    # Not measured by the attempts evaluation (its planted episodes hold no attacks): most of
    # a window, and a small weight, because the passive check misses its BPCER goal.
    "SPOOF_SUSPECTED": _rule(8, 10, 30, 10, 1.0, 0.3, 60),
    "FACE_MISMATCH": _rule(3, 4, 6, 6, 1.0, 0.9, 10),
    "UNKNOWN_PERSON": _rule(3, 4, 6, 6, 1.0, 0.6, 20),
    "BANNED_OBJECT": _rule(11, 11, 20, 10, 1.0, 0.9, 10),
    "HEAD_TURNED": _rule(2, 4, 20, 10, 1.0, 0.4, 30),
    # Not measured by the attempts evaluation: the HEAD_TURNED rule these frames raised until
    # FACE_OCCLUDED was split from it, at a smaller weight (a covered face blocks the checks,
    # it is no evidence of looking away).
    "FACE_OCCLUDED": _rule(2, 4, 20, 10, 1.0, 0.3, 30),
    "GAZE_AWAY": _rule(8, 8, 20, 10, 1.0, 0.4, 30),
    "LOOKING_DOWN": _rule(11, 11, 20, 10, 1.0, 0.3, 30),
    "LOOKING_UP": _rule(11, 11, 20, 10, 1.0, 0.15, 60),
    "EYES_CLOSED": _rule(5, 5, 10, 10, 1.0, 0.15, 60),
    "MOUTH_OPEN": _rule(4, 5, 8, 6, 1.0, 0.15, 60),
    "TOO_CLOSE": _rule(5, 6, 10, 6, 1.0, 0.05, 120),
    "TOO_FAR": _rule(5, 6, 10, 6, 1.0, 0.05, 120),
    # Not measured by the attempts evaluation: a camera too dark or blurred to find the face in
    # for a whole window (or 30 s) leaves the exam unwatched, which a reviewer must see; the
    # weight is TOO_CLOSE's, because a bad room is no evidence of cheating.
    "POOR_LIGHTING": _rule(11, 11, 30, 10, 1.0, 0.05, 120),
    "LOW_QUALITY_FRAME": _rule(11, 11, 30, 10, 1.0, 0.05, 120),
}


class LivenessSettings(Section):
    """The signed active challenge (``GET /liveness/challenge``, ``POST /liveness``)."""

    secret: SecretStr | None = Field(
        None,
        description="HMAC-SHA256 key that signs challenge tokens. Unset: one is generated at "
        "first start and kept in the database, so every replica on it shares the key.",
    )
    steps: int = Field(3, ge=1, le=4, description="Distinct actions asked per challenge.")
    expiry_minutes: float = Field(
        2.0, gt=0.0, le=60.0, description="How long a challenge token may be answered."
    )
    min_frames: int = Field(5, ge=2, description="Fewest frames a burst may have.")
    max_frames: int = Field(60, ge=2, le=200, description="Most frames a burst may have.")
    frame_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        description="Largest frame of a burst, in bytes (the body limit of POST /liveness is "
        "max_frames of these, not max_frames uploads of max_upload_bytes).",
    )
    turn_deg: float = Field(
        11.0,
        gt=0.0,
        le=90.0,
        description="A turn is the yaw moving this far from where the burst started (and "
        "back halfway). Chosen by `python -m proctor.eval liveness` on its tune split.",
    )
    min_parallax: float = Field(
        0.089,
        ge=0.0,
        description="At a turn's peak the face mesh must depart from a flat (homography) "
        "motion of the frontal mesh by this much (RMS, in inter-ocular distances): a "
        "photo tilted in front of the camera moves as a plane, a head does not. Chosen by "
        "`python -m proctor.eval liveness` on its tune split.",
    )
    blink_dip: float = Field(
        0.71,
        gt=0.0,
        lt=1.0,
        description="A blink is the eye openness (over the face's height-to-width ratio, "
        "so a tilted photo does not fake it) dropping below this fraction of the burst's "
        "median, then recovering halfway. Chosen by `python -m proctor.eval liveness`.",
    )
    mouth_open_ratio: float = Field(
        0.16,
        gt=0.0,
        le=2.0,
        description="An open mouth is the inner-lip gap over the mouth's width reaching this "
        "(then closing below half of it). Chosen by `python -m proctor.eval liveness`.",
    )

    @model_validator(mode="after")
    def _check_frames(self) -> LivenessSettings:
        if self.min_frames > self.max_frames:
            raise ValueError("liveness.min_frames is larger than liveness.max_frames")
        return self


class AccommodationsSettings(Section):
    """How students' accommodations (``proctor.accommodations``) are applied."""

    reading_aid_classes: list[str] = Field(
        default_factory=lambda: ["book"],
        description="Banned detector classes that reading_aid_allowed exempts: BANNED_OBJECT is "
        "suppressed only when every banned object in view is one of these. COCO has no tablet "
        "class: the detector sees a tablet as 'laptop', 'tv' or 'cell phone', so exempting one "
        "exempts those devices for every such student; which to add is the deployer's choice. "
        "A phone is never exempted by default.",
    )


class AttemptsSettings(Section):
    rules: dict[str, IncidentRuleOverride] = Field(
        default_factory=dict,
        description="Per alert code, overrides of the incident rule (e.g. "
        '{"BANNED_OBJECT": {"votes_to_open": 2}}); codes not listed keep the measured defaults.',
    )
    evidence: bool = Field(
        False,
        description="Store the frame that opened each incident and the one at its peak, "
        "downscaled, with the detections drawn. Off by default: no frame is stored.",
    )
    evidence_dir: Path = Field(
        Path("student_db/evidence"), description="Folder of the evidence JPEGs."
    )
    evidence_max_side: int = Field(
        480, ge=64, le=1920, description="Longest side of an evidence JPEG, in pixels."
    )
    evidence_retention_days: float = Field(
        30.0, gt=0.0, description="Evidence older than this is deleted (rows and files)."
    )
    retention_days: float | None = Field(
        None,
        gt=0.0,
        description="Whole attempts whose last frame is older than this are deleted; "
        "default: kept until deleted through the API.",
    )
    purge_interval_s: float = Field(
        3600.0, gt=0.0, description="How often the server deletes what has expired."
    )
    page_size: int = Field(50, ge=1, le=1000, description="Default page of GET /attempts.")
    neutral_frames: int = Field(
        10,
        ge=0,
        le=100,
        description="The attempt's first frames with a measured face that fix the student's "
        "neutral head pose and gaze (medians); later frames' HEAD_TURNED / LOOKING_DOWN / "
        "LOOKING_UP / GAZE_AWAY are judged from it. 0 switches the neutral off.",
    )
    neutral_max_offset_deg: float = Field(
        20.0,
        ge=0.0,
        le=45.0,
        description="Most a neutral can differ from facing the camera, per axis, in degrees "
        "(clipped beyond): seating and camera height, not a direction exempted for the exam.",
    )

    def incident_rules(self) -> dict[str, IncidentRule]:
        """The defaults with the configured overrides applied, per code."""
        rules = dict(DEFAULT_INCIDENT_RULES)
        for code, override in self.rules.items():
            base = rules.get(code)
            changes = override.model_dump(exclude_none=True)
            if base is None:
                rules[code] = IncidentRule(**changes)  # a code with no default: all fields
            else:
                rules[code] = base.model_copy(update=changes)
        return rules


class Settings(BaseSettings):
    """The service configuration (environment variables prefixed ``PROCTOR_``)."""

    model_config = SettingsConfigDict(
        env_prefix="PROCTOR_",
        env_nested_delimiter="__",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
    )

    models_dir: Path = Field(Path("models"), description="Where provisioned model files live.")
    model_mirror: Path | None = Field(
        None,
        description="Folder holding the pinned model files under their manifest paths; "
        "checked before downloading from the pinned URL.",
    )
    permissive_only: bool = Field(
        False,
        description="Use only models under permissive licences (MIT/Apache-2.0): refuses "
        "non-permissive backends (the defaults, yunet + sface + nanodet, are permissive), never "
        "falls back to one, and `python -m tools.models fetch` fetches only permissive models.",
    )
    student_db: Path = Field(
        Path("student_db/students.sqlite3"),
        description="SQLite file of the store (enrolled students), used unless database_url "
        "is set.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the store's database; default: the SQLite file student_db.",
    )
    database_pool_size: int = Field(
        40,
        ge=1,
        le=1000,
        description="Database connections one process may hold: at least the requests it "
        "serves at once (40 worker threads), so a burst waits on the database's locks, not "
        "on the pool. With PostgreSQL keep replicas x this under its max_connections.",
    )
    student_id_pattern: str = Field(
        r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$",
        description="Regular expression every student id must match (ids appear in URLs).",
    )
    max_name_length: int = Field(200, ge=1, description="Longest student display name.")
    max_images_per_request: int = Field(
        10, ge=1, le=100, description="Most photos one enrollment request may carry."
    )
    analyzers: list[str] = Field(
        default_factory=lambda: [
            "faces",
            "identity",
            "objects",
            "face_mesh",
            "head_pose",
            "gaze",
            "mouth",
            "distance",
            "spoof",
        ],
        description="Analyzers to run, by name; dependencies must be listed too.",
    )
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest accepted image file, in bytes."
    )
    max_image_pixels: int = Field(
        40_000_000, ge=1, description="Largest accepted image, in pixels (decompression bombs)."
    )
    analysis_max_side: int = Field(
        1280,
        ge=160,
        description="Frames whose longest side exceeds this are downscaled once for analysis; "
        "response coordinates stay in the original image's pixels.",
    )
    onnx_threads: int = Field(
        0, ge=0, description="Threads per ONNX Runtime session (0 = ONNX Runtime's default)."
    )
    analysis_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Frames analysed at once (each already uses every core through its model "
        "sessions; more than one rarely adds throughput, measured by tools/bench.py).",
    )
    analysis_queue: int = Field(
        16,
        ge=0,
        le=32,
        description="Frames that may wait for a worker; beyond this a frame is refused at once "
        "with 503 overloaded and Retry-After (at most 32: the server's threads must stay free).",
    )
    retry_after_s: float = Field(
        1.0, gt=0, description="The Retry-After an overloaded answer gives, in seconds."
    )
    admin_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="API keys for everything: enrollment, listing, deletion, attempts, "
        "/metrics, and what client keys may do. Comma-separated in PROCTOR_ADMIN_KEYS; sent as "
        "`X-API-Key: <key>` or `Authorization: Bearer <key>`.",
    )
    client_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="API keys for analysis only (an exam platform's frames). Comma-separated in "
        "PROCTOR_CLIENT_KEYS. With no admin or client key configured the service serves "
        "loopback clients only, unless open_access is set.",
    )
    open_access: bool = Field(
        False,
        description="With no key configured, serve every host, not only loopback: anyone who "
        "reaches the port can enroll, search, list and delete students (a public demo). "
        "Ignored once a key is configured.",
    )
    cors_origins: list[str] = Field(
        default_factory=lambda: ["null"],
        description="Origins a browser may call the API from. The app's own pages are "
        "same-origin and need no entry; 'null' is a page opened from disk (the seed's "
        "test_ui.html). Add your exam platform's origin, e.g. https://lms.example.edu.",
    )
    rate_limit_per_minute: int = Field(
        600,
        ge=0,
        description="Requests per minute one API key (or, with no keys, one client address) "
        "may make; beyond it 429 with Retry-After. 0 turns the limit off. Counted per process.",
    )
    rate_limit_burst: int = Field(
        60, ge=1, description="Requests one caller may make at once before the rate applies."
    )
    log_format: Literal["json", "text"] = Field(
        "json",
        description="Log lines as JSON objects (with the request id) or as plain text.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least severe log level written."
    )
    webhook_url: str | None = Field(
        None,
        description="POSTed (JSON, HMAC-SHA256 signed) when an incident of at least "
        "webhook_min_severity opens or an attempt ends.",
    )
    webhook_secret: str | None = Field(
        None, description="Key of the webhook signature; required when webhook_url is set."
    )
    webhook_min_severity: Literal["low", "medium", "high"] = Field(
        "high", description="Least severe incident that is sent to the webhook."
    )
    webhook_queue_size: int = Field(
        1000, ge=1, description="Events waiting to be sent; beyond it new ones are dropped."
    )
    webhook_attempts: int = Field(6, ge=1, le=20, description="Tries per event, with backoff.")
    webhook_timeout_s: float = Field(5.0, gt=0.0, description="Timeout of one webhook POST.")
    attempts: AttemptsSettings = Field(default_factory=AttemptsSettings)
    faces: FacesSettings = Field(default_factory=FacesSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    objects: ObjectsSettings = Field(default_factory=ObjectsSettings)
    camera: CameraSettings = Field(default_factory=CameraSettings)
    face_mesh: FaceMeshSettings = Field(default_factory=FaceMeshSettings)
    head_pose: HeadPoseSettings = Field(default_factory=HeadPoseSettings)
    gaze: GazeSettings = Field(default_factory=GazeSettings)
    mouth: MouthSettings = Field(default_factory=MouthSettings)
    distance: DistanceSettings = Field(default_factory=DistanceSettings)
    id_card: IdCardSettings = Field(default_factory=IdCardSettings)
    spoof: SpoofSettings = Field(default_factory=SpoofSettings)
    liveness: LivenessSettings = Field(default_factory=LivenessSettings)
    accommodations: AccommodationsSettings = Field(default_factory=AccommodationsSettings)

    @field_validator("admin_keys", "client_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        """``a,b,c`` (the environment's form) is three keys; blanks around commas are not."""
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @property
    def access_mode(self) -> Literal["keys", "loopback", "open"]:
        """Who is served: key holders, loopback clients only (no key configured, the
        default), or everyone (no key and open_access)."""
        if self.admin_keys or self.client_keys:
            return "keys"
        return "open" if self.open_access else "loopback"

    @model_validator(mode="after")
    def _check_patterns(self) -> Settings:
        try:
            re.compile(self.student_id_pattern)
        except re.error as exc:
            raise ValueError(f"student_id_pattern is not a regular expression: {exc}") from None
        return self

    @model_validator(mode="after")
    def _check_webhook(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError(
                "webhook_url is set but webhook_secret is not: receivers could "
                "not tell our events from forged ones"
            )
        return self

    @property
    def store_url(self) -> str:
        """The SQLAlchemy URL the store opens."""
        return self.database_url or f"sqlite:///{self.student_db}"

    @model_validator(mode="after")
    def _resolve_backends(self) -> Settings:
        """Fill unset backends from the licence policy and refuse contradictions at startup."""
        if self.faces.detector is None:
            self.faces.detector = "yunet"
            self.faces._defaulted = True
        if self.identity.embedder is None:
            self.identity.embedder = "sface"
            self.identity._defaulted = True
        if self.objects.detector is None:
            # nanodet: tied on banned mAP, MIT and the fastest (python -m proctor.eval objects),
            # so the licence policy does not change it.
            self.objects.detector = "yolo" if self.objects.yolo_model is not None else "nanodet"
        if self.objects.yolo_model is not None and self.objects.detector != "yolo":
            raise ValueError(
                f"objects.yolo_model is only used by the yolo detector, "
                f"not {self.objects.detector!r}"
            )
        if self.permissive_only:
            chosen = {self.faces.detector, self.identity.embedder, self.objects.detector}
            bad = sorted(chosen & NON_PERMISSIVE_BACKENDS)
            if bad:
                raise ValueError(
                    f"permissive_only is set but non-permissive backends were chosen: {bad}"
                )
        return self

    @property
    def face_detector(self) -> FaceDetectorName:
        assert self.faces.detector is not None  # resolved by the validator
        return self.faces.detector

    @property
    def face_embedder(self) -> FaceEmbedderName:
        assert self.identity.embedder is not None  # resolved by the validator
        return self.identity.embedder

    @property
    def object_detector(self) -> ObjectDetectorName:
        assert self.objects.detector is not None  # resolved by the validator
        return self.objects.detector


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, parsed once from the environment."""
    return Settings()
