"""Head pose from 2-D landmarks and a 3-D reference face (perspective-n-point), as angles.

Camera frame: x to the image's right, y down, z away from the camera. The reference face
is expressed in that frame as it looks when the head faces the camera, so the solved
rotation R (reference -> camera) is the head's rotation away from facing along the optical
axis.

A face that is not in the middle of the frame must turn toward the camera to look into it:
a student sitting off-centre who looks straight at the camera (or the screen around it)
would read ~16 deg of yaw at a 60-deg field of view, and a laptop camera below the eyes
adds pitch the same way. The angles reported are therefore relative to the line from the
camera to the face (``relative_to_ray``): R is expressed in the frame of a virtual camera
aimed at the face (the real one panned about its vertical, then tilted about its own
horizontal axis, so the virtual camera's x axis stays level). A face anywhere in the frame
that looks into the camera reads yaw 0, pitch 0; turning the real camera about its own
centre does not change the angles. A per-student neutral pose would be one more rotation
applied the same way.

Angles (degrees), from the student's point of view:

* yaw > 0: the head turns to the student's left (the face moves toward the image's right);
* pitch > 0: the head tilts up (chin up), pitch < 0: looking down;
* roll > 0: the head tilts toward the student's left shoulder (clockwise in the image).

R = Rx(-pitch) @ Ry(-yaw) @ Rz(roll): roll is applied in the face's own plane, then pitch,
then yaw about the camera's vertical, so yaw stays "left/right" even when looking down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class HeadPose:
    yaw_deg: float
    pitch_deg: float
    roll_deg: float


def _rx(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def rotation_matrix(pose: HeadPose) -> np.ndarray:
    """The 3x3 rotation (reference face -> camera) of a pose."""
    yaw, pitch, roll = (math.radians(a) for a in (pose.yaw_deg, pose.pitch_deg, pose.roll_deg))
    return _rx(-pitch) @ _ry(-yaw) @ _rz(roll)


def pose_from_matrix(rotation: np.ndarray) -> HeadPose:
    """Inverse of ``rotation_matrix`` (yaw within +-90 degrees)."""
    r = np.asarray(rotation, np.float64)
    middle = math.asin(max(-1.0, min(1.0, float(r[0, 2]))))
    roll = math.atan2(-r[0, 1], r[0, 0])
    first = math.atan2(-r[1, 2], r[2, 2])
    return HeadPose(
        yaw_deg=-math.degrees(middle), pitch_deg=-math.degrees(first), roll_deg=math.degrees(roll)
    )


def ray_rotation(position: np.ndarray) -> np.ndarray:
    """The rotation that turns the optical axis onto the ray from the camera to
    ``position`` (camera frame): a pan about the camera's vertical, then a tilt about its
    own (level) horizontal axis."""
    x, y, z = np.asarray(position, np.float64) / np.linalg.norm(position)
    return _ry(math.atan2(x, z)) @ _rx(math.asin(max(-1.0, min(1.0, -y))))


def relative_to_ray(rotation: np.ndarray, position: np.ndarray) -> HeadPose:
    """The head's rotation (reference -> camera) as seen by a camera aimed at the face's
    centre ``position``: 0, 0, 0 when the face looks into the camera from anywhere."""
    return pose_from_matrix(ray_rotation(position).T @ rotation)


def camera_matrix(width: int, height: int, horizontal_fov_deg: float) -> np.ndarray:
    """Pinhole intrinsics of an image whose width spans ``horizontal_fov_deg``."""
    focal = focal_length_px(width, horizontal_fov_deg)
    return np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], np.float64)


def focal_length_px(width: int, horizontal_fov_deg: float) -> float:
    """Focal length in pixels of an image ``width`` pixels wide with that field of view."""
    return (width / 2) / math.tan(math.radians(horizontal_fov_deg) / 2)


def solve_pose(
    image_points: np.ndarray, reference: np.ndarray, camera: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The rotation (reference -> camera, 3x3) and translation (reference units, camera
    frame) that best project ``reference`` (N, 3) onto ``image_points`` (N, 2).

    SQPnP finds the global least-squares optimum without an initial guess; a
    Levenberg-Marquardt step then refines it on the same points. ``pose_from_matrix`` reads
    the rotation as angles about the optical axis, ``relative_to_ray`` about the line to
    the face.
    """
    obj = np.ascontiguousarray(reference, np.float64).reshape(-1, 1, 3)
    img = np.ascontiguousarray(image_points, np.float64).reshape(-1, 1, 2)
    ok, rvec, tvec = cv2.solvePnP(obj, img, camera, None, flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        raise ValueError("solvePnP found no pose")
    rvec, tvec = cv2.solvePnPRefineLM(obj, img, camera, None, rvec, tvec)
    rotation, _ = cv2.Rodrigues(rvec)
    return rotation, tvec.reshape(3)
