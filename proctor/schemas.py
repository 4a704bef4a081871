"""Pydantic models of what the API returns, shared by analyzers and routes.

Seed field names (``face_detected``, ``face_verified``, ``banned_objects``,
``headpose_alert``, ``spoofing_alert``…) are kept as they were for existing callers; new
fields carry their unit in the name. Coordinates are original-image pixels. The verdict
models refuse unknown fields, so an analyzer filling a field the schema lacks fails loudly
instead of being dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["low", "medium", "high"]


class Alert(BaseModel):
    """One finding a proctor should see. ``code`` values never change once published."""

    code: str = Field(examples=["NO_FACE"])
    severity: Severity
    message: str
    confidence: float | None = Field(
        None,
        description="Detector confidence behind the alert, 0..1, where a detector decided it "
        "(BANNED_OBJECT: the most confident banned object, by the detector's score; a phone's "
        "verifier score is in its objects entry; MULTIPLE_FACES / MULTIPLE_PEOPLE: "
        "the least confident of the two most confident faces or people); null for measured "
        "conditions (angles, ratios, distances, identity).",
    )


class SuppressedAlert(Alert):
    """An alert the claimed student's accommodation covers: kept out of ``alerts`` (and so
    out of the attempt's incidents), listed with why."""

    reason: str = Field(
        examples=["accommodation no_head_pose_alerts"],
        description="accommodation <name>: the accommodation that covers it.",
    )


class Box(BaseModel):
    x_min: float
    y_min: float
    x_max: float
    y_max: float


def box_out(box: Sequence[Any]) -> dict[str, float]:
    """A box's ``x_min, y_min, x_max, y_max`` as response fields, rounded to 0.1 px."""
    return dict(
        zip(("x_min", "y_min", "x_max", "y_max"), (round(float(v), 1) for v in box), strict=True)
    )


class Point(BaseModel):
    x: float
    y: float


class FrameQualityOut(BaseModel):
    """How bright and how sharp the frame is (``proctor/quality.py``): the numbers behind
    POOR_LIGHTING and LOW_QUALITY_FRAME."""

    brightness: float = Field(description="Mean luma, 0 (black) .. 255 (white).")
    sharpness: float = Field(
        description="Variance of the Laplacian of the luma at 320 px on the longest side: "
        "hundreds for a sharp webcam frame, tens when smeared by motion or out of focus."
    )


class HeadPoseOut(BaseModel):
    """Head rotation away from facing the camera, in degrees, from the student's point of view.

    Measured relative to the line from the camera to the face, not the camera's optical
    axis: a face anywhere in the frame (off to one side, or high in it under a laptop
    camera) that looks into the camera reads yaw 0, pitch 0. Applied as roll, then pitch,
    then yaw (R = Rx(-pitch) Ry(-yaw) Rz(roll), axes of a camera aimed at the face: x right,
    y down, z forward), against MediaPipe's canonical face model. Measured from a face mesh:
    reliable to about +-50 deg of yaw; beyond that the mesh, trained on near-frontal faces,
    saturates and the yaw comes from the face detector's five landmarks when they read
    further. A face the mesh cannot read gets its whole pose from the five landmarks
    (``source``): yaw only roughly, pitch not usable.
    """

    yaw_deg: float = Field(
        description="> 0: the student turns to their left (face toward the image's right); "
        "< 0: to their right."
    )
    pitch_deg: float = Field(description="> 0: the head tilts up (chin up); < 0: looks down.")
    roll_deg: float = Field(
        description="> 0: the head tilts toward the student's left shoulder (clockwise in the "
        "image); < 0: toward their right shoulder."
    )
    source: Literal["mesh", "landmarks"] = Field(
        description="mesh: the 468-point face mesh; landmarks: the face detector's five "
        "points, for a face the mesh could not read."
    )
    camera_fov_deg: float = Field(
        description="Horizontal field of view the pose was solved with: from the upload's "
        "EXIF when it has one, else the configured default."
    )


class PoseNeutralOut(BaseModel):
    """Where the student looks while working, from an attempt's first frames (degrees, the
    signs of ``head_pose`` and ``gaze``; each clipped to ``attempts.neutral_max_offset_deg``)."""

    head_yaw_deg: float
    head_pitch_deg: float
    gaze_yaw_deg: float | None = Field(description="Null when no first frame measured a gaze.")
    gaze_pitch_deg: float | None
    frames: int = Field(description="Frames the medians are over.")


class GazeOut(BaseModel):
    """Where the eyes point: iris position in the eyes plus the head pose."""

    iris_x: float = Field(
        description="Mean horizontal iris offset from where it sits when looking into the "
        "camera, in half eye widths (about -0.6..0.6): > 0 toward the student's left "
        "(the image's right)."
    )
    iris_y: float = Field(description="Same, vertically: > 0 up.")
    yaw_deg: float = Field(
        description="Gaze direction left/right of the camera (head yaw + eye rotation), same "
        "signs as head_pose.yaw_deg."
    )
    pitch_deg: float = Field(
        description="Gaze direction above (> 0) or below (< 0) the camera (head + eyes)."
    )


class SpoofOut(BaseModel):
    """The passive presentation-attack check on the primary face (MiniFASNet, one frame)."""

    score: float | None = Field(
        description="Estimated probability that the face is a presentation attack (a photo or "
        "a screen), 0..1, higher = more likely spoof; null when the face is too small to judge."
    )
    live: bool | None = Field(
        description="False when score reaches spoof.threshold; null only when the face is "
        "smaller than spoof.min_face_px."
    )
    cues: list[str] = Field(
        default_factory=list,
        description="What fired or limited the check: spoof_model (the models say spoof), "
        "face_too_small, box_clamped (the enlarged crop was shifted to stay inside the image), "
        "scale_reduced (the image is too small for the crop's full context).",
    )


class FaceOut(BaseModel):
    """One detected face, largest (nearest) first; analyzers add their per-face fields."""

    model_config = ConfigDict(extra="forbid")

    box: Box
    score: float = Field(description="Detector confidence, 0..1.")
    landmarks: list[Point] = Field(
        description="Eye (image left), eye (image right), nose tip, mouth corner (image left), "
        "mouth corner (image right)."
    )
    student_id: str | None = Field(None, description="Enrolled student this face matched.")
    person_name: str | None = None
    match_score: float | None = Field(
        None, description="Cosine similarity to the best-matching (or claimed) student."
    )
    mesh_score: float | None = Field(
        None,
        description="Face-mesh model's face-presence probability, 0..1; null when the face "
        "was not meshed or scored below face_mesh.min_score (then it has no pose, gaze, "
        "mouth or distance).",
    )
    head_pose: HeadPoseOut | None = None
    gaze: GazeOut | None = Field(None, description="Null when the eyes are closed.")
    eyes_closed: bool | None = None
    eye_openness_ratio: float | None = Field(
        None, description="Mean lid gap over eye width of both eyes (open: about 0.2)."
    )
    mouth_open_ratio: float | None = Field(
        None, description="Inner-lip gap over mouth width (closed: near 0)."
    )
    mouth_open: bool | None = None
    distance_cm: float | None = Field(
        None, description="Distance from the camera plane, cm (see distance_source)."
    )
    distance_source: Literal["iris", "face"] | None = None


class PhoneEvidence(BaseModel):
    """Why a box was reported as a phone, for the reviewer to weigh."""

    detector_label: str = Field(
        examples=["remote"],
        description="What the object detector called the box (a phone held from the back "
        "is often a 'remote' to it; the verifier decides).",
    )
    detector_score: float = Field(description="The object detector's confidence, 0..1.")
    verifier_score: float | None = Field(
        None,
        description="The phone verifier's probability that the crop shows a phone, 0..1; "
        "null when the verifier is off or its model is missing (the detector decided).",
    )
    held: bool | None = Field(
        None,
        description="A hand touches the phone; null when the hand model is off or missing.",
    )
    look: Literal["frame", "second_look"] = Field(
        description="Found on the whole frame or on the second look at the region around "
        "and below the student's face."
    )


class DetectedObject(BaseModel):
    """One banned object or person the object detector found, most confident first."""

    label: str = Field(examples=["cell phone"], description="Detector class name (COCO).")
    confidence: float = Field(description="Detector confidence, 0..1.")
    box: Box
    verifier_score: float | None = Field(
        None,
        description="Cell phones only: the phone verifier's score, 0..1 (null: not verified).",
    )
    evidence: PhoneEvidence | None = Field(
        None, description="Cell phones only: why the box was reported as a phone."
    )


class ImageInfo(BaseModel):
    width: int
    height: int


class IncidentChange(BaseModel):
    """An incident this frame opened, continued or closed."""

    id: str
    code: str
    state: Literal["opened", "ongoing", "closed"]


class AttemptFrame(BaseModel):
    """Where this frame went in its attempt (only when the request named an attempt)."""

    attempt_id: str
    frames: int = Field(description="Frames recorded in the attempt, this one included.")
    recorded: bool = Field(description="False when the frame repeated a seq already recorded.")
    incidents: list[IncidentChange] = Field(default_factory=list)


class AnalyzeResponse(BaseModel):
    """The verdict on one frame."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"description": __doc__})

    face_detected: bool = False
    face_count: int = 0
    face_found_by: Literal["frame", "border", "enhanced", "upscaled"] | None = Field(
        None,
        description="Which copy of the frame the faces were found on: the frame itself, the "
        "frame with a grey border (close-ups), an enhanced copy (a gamma lift, CLAHE optional: "
        "a dim or backlit frame) or its centre enlarged (a small face); null when none was found.",
    )
    frame_quality: FrameQualityOut | None = Field(
        None, description="Brightness and sharpness of the frame; null when faces did not run."
    )
    people_count: int | None = Field(
        None,
        description="People in the frame: person detections fused with the faces, each person "
        "once. Null when the objects analyzer is off (face_count is then the only count).",
    )
    faces: list[FaceOut] = Field(default_factory=list)
    face_verified: bool | None = Field(
        None,
        description="With student_id: whether the primary face is that student. Without: true "
        "when it matched an enrolled student, null otherwise.",
    )
    person_name: str | None = None
    student_id: str | None = Field(
        None,
        description="Claimed student, or the one identified; null when the identity analyzer "
        "is off.",
    )
    match_score: float | None = None
    exam_id: str | None = None
    banned_objects: list[str] = Field(
        default_factory=list, description="Banned object classes in view, each once."
    )
    objects: list[DetectedObject] = Field(
        default_factory=list, description="Every banned object and person detected."
    )
    headpose_alert: bool = Field(
        False,
        description="HEAD_TURNED, LOOKING_DOWN or LOOKING_UP on the primary face (a face the "
        "mesh cannot read raises HEAD_TURNED when its five landmarks say it is turned away, "
        "else FACE_OCCLUDED, which does not set this).",
    )
    head_pose: HeadPoseOut | None = Field(None, description="Of the primary face.")
    pose_neutral: PoseNeutralOut | None = Field(
        None,
        description="In an attempt, the student's neutral pose (the medians over its first "
        "measured frames) that HEAD_TURNED, LOOKING_DOWN, LOOKING_UP and GAZE_AWAY were judged "
        "from; null without attempt_id or until enough frames were measured. head_pose and "
        "gaze stay the measured angles.",
    )
    gaze: GazeOut | None = Field(
        None, description="Of the primary face; null when its eyes are closed."
    )
    gaze_alert: bool = Field(False, description="GAZE_AWAY on the primary face.")
    eyes_closed: bool | None = Field(None, description="EYES_CLOSED on the primary face.")
    eye_openness_ratio: float | None = Field(
        None, description="Primary face: mean lid gap over eye width (open: about 0.2)."
    )
    mouth_open: bool = Field(False, description="MOUTH_OPEN on the primary face.")
    mouth_open_ratio: float | None = Field(
        None, description="Primary face: inner-lip gap over mouth width."
    )
    distance_cm: float | None = Field(
        None,
        description="Primary face's distance from the camera plane in cm, from the iris "
        "(11.7 mm across) and the configured camera field of view.",
    )
    distance_source: Literal["iris", "face"] | None = Field(
        None,
        description="iris, or face when the irises are too small or closed and the face's "
        "size (less consistent between people) was used.",
    )
    spoofing_alert: bool = Field(
        False, description="SPOOF_SUSPECTED on the primary face (see spoof)."
    )
    spoof: SpoofOut | None = Field(
        None, description="Passive spoof check of the primary face; null without a face."
    )
    alerts: list[Alert] = Field(default_factory=list)
    accommodations: list[str] = Field(
        default_factory=list,
        description="The claimed student's accommodations (set through the students API), "
        "applied or not; empty without student_id: a face recognised 1:N relaxes nothing.",
    )
    accommodations_applied: list[str] = Field(
        default_factory=list,
        description="Those that suppressed an alert in this frame (see suppressed_alerts).",
    )
    suppressed_alerts: list[SuppressedAlert] = Field(
        default_factory=list,
        description="Alerts the student's accommodations cover, with the reason: not in "
        "alerts and never an incident. The measurements and per-analyzer flags behind them "
        "(head_pose and headpose_alert, gaze and gaze_alert, mouth_open, banned_objects, "
        "face_count, people_count) are reported unchanged.",
    )
    attempt: AttemptFrame | None = Field(
        None, description="The attempt this frame was recorded in; null without attempt_id."
    )
    image: ImageInfo
    analyzers: list[str] = Field(default_factory=list, description="Analyzers that ran.")
    timings_ms: dict[str, float] = Field(default_factory=dict)
