"""Spoof analyzer: is the primary face a live person, or a photo or screen held up to the
camera? Owns ``spoof`` and ``spoofing_alert``; alert SPOOF_SUSPECTED.

A passive, single-frame check: MiniFASNet V2 and V1SE judge the face with the context
around it (2.7x and 4x the face box). Their real-class probabilities are averaged, as the
reference does, and the score is the rest: an estimate of the probability of an attack.
The threshold is chosen by ``python -m proctor.eval spoof`` (docs/accuracy.md, which also
says what this check does not catch). Only the primary face is judged: it is the student.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from proctor.analyzers.base import Analyzer, FrameContext
from proctor.analyzers.faces import FacesResult
from proctor.frame import Frame
from proctor.models.antispoof.minifasnet import MiniFasNet
from proctor.models.boxes import shorter_sides
from proctor.models.registry import ModelRegistry
from proctor.schemas import Alert
from proctor.settings import Settings

#: Each model's manifest name and the crop scale (face box enlargement) it was trained on.
SPOOF_MODELS: dict[str, tuple[str, float]] = {
    "v2": ("antispoof_minifasnet_v2", 2.7),
    "v1se": ("antispoof_minifasnet_v1se", 4.0),
}


@dataclass
class SpoofResult:
    face: bool  # there was a primary face to judge
    real: dict[str, float]  # per model ("v2", "v1se"): real-class probability, primary face
    score: float | None  # estimated attack probability; None when the face is too small
    live: bool | None
    cues: list[str]
    alerts: list[Alert] = field(default_factory=list)

    def response_fields(self, frame: Frame) -> dict[str, Any]:
        spoof = None
        if self.face:
            score = None if self.score is None else round(self.score, 4)
            spoof = {"score": score, "live": self.live, "cues": self.cues}
        return {"spoof": spoof, "spoofing_alert": self.live is False}


class SpoofAnalyzer(Analyzer):
    name = "spoof"
    requires = ("faces",)
    fields = ("spoof", "spoofing_alert")

    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings.spoof
        self.classifiers = {
            key: MiniFasNet(registry.model(SPOOF_MODELS[key][0]), scale=SPOOF_MODELS[key][1])
            for key in _used(settings)
        }

    @classmethod
    def models(cls, settings: Settings) -> list[str]:
        return [SPOOF_MODELS[key][0] for key in _used(settings)]

    def analyze(self, ctx: FrameContext) -> SpoofResult:
        faces = ctx.result("faces", FacesResult).faces
        if len(faces) == 0:
            return SpoofResult(False, {}, None, None, [])
        box = faces.boxes[0]
        if shorter_sides(faces.boxes[:1])[0] * ctx.frame.scale < self.settings.min_face_px:
            return SpoofResult(True, {}, None, None, ["face_too_small"])
        real, cues = {}, []
        for key, model in self.classifiers.items():
            real[key], crop = model.real_probability(ctx.frame.image, box)
            if crop.scale < model.scale and "scale_reduced" not in cues:
                cues.append("scale_reduced")
            if crop.shifted and "box_clamped" not in cues:
                cues.append("box_clamped")
        score = spoof_score(real)
        live = score < self.settings.threshold
        alerts = []
        if not live:
            cues.insert(0, "spoof_model")
            alerts.append(
                Alert(
                    code="SPOOF_SUSPECTED",
                    # medium, not high: on people it was not tuned on it calls ~1 live frame in
                    # 8 an attack (docs/accuracy.md); /liveness is the check to act on.
                    severity="medium",
                    message=f"The face may be a photo or a screen (spoof score {score:.2f}, "
                    f"limit {self.settings.threshold:.2f}); confirm with a liveness check.",
                )
            )
        return SpoofResult(True, real, score, live, cues, alerts)


def spoof_score(real: dict[str, float]) -> float:
    """The estimated attack probability: 1 - the models' mean real-class probability."""
    return 1.0 - sum(real.values()) / len(real)


def _used(settings: Settings) -> list[str]:
    """The model keys the configured ``spoof.models`` choice needs."""
    choice = settings.spoof.models
    return list(SPOOF_MODELS) if choice == "fused" else [choice]
