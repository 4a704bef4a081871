"""Which face detector and embedder a process runs, and why: the reasons ``/health`` gives.

The configured backend (or the measured default) runs when its model verifies. When it does
not (a fresh machine reached PyPI but not a pinned URL, or the reverse), the other backend
runs if its model verifies and the licence policy allows it, so the service works with what
``models/`` holds instead of leaving the analyzer unavailable; a warning and ``/health`` say so.

The two detectors are interchangeable (boxes and the same five landmarks); only their score
scales differ, so a fallback detector uses its own measured ``min_score``. The embedders are
not: one backend's embeddings cannot be compared with another's. So the embedder falls back
only while nobody is enrolled under the chosen one, configured or default: with students
enrolled under it, identity stays unavailable until its model is fetched (``/health`` says
why), rather than silently switching to an embedder none of them can be matched by. A
fallback embedder uses its own measured threshold for the same reason. ``permissive_only``
never falls back to a non-permissive backend.

Provisioning (``python -m tools.models fetch``) makes the same choice with no store, to tell
which failed downloads leave an analyzer without any model (fatal) and which do not.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from proctor.models.faces.backends import DETECTOR_MODELS, EMBEDDER_MODELS
from proctor.models.registry import ModelRegistry, ModelUnavailableError
from proctor.settings import NON_PERMISSIVE_BACKENDS, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceBackends:
    """The settings with the face backends that will run, and why each was chosen."""

    settings: Settings
    detector_reason: str
    embedder_reason: str


def choose_face_backends(
    settings: Settings, registry: ModelRegistry, enrolled: Mapping[str, int]
) -> FaceBackends:
    """The face backends to run with the models ``registry`` can verify.

    ``enrolled`` counts the students enrolled under each embedder (the store's
    ``embedding_models()``; empty where there is no store, as when provisioning).
    """
    settings, embedder_reason = _embedder_for_store(settings, enrolled)
    detector_reason = (
        "the measured default"
        if settings.faces._defaulted
        else "configured (PROCTOR_FACES__DETECTOR)"
    )
    if "faces" in settings.analyzers:
        detector, detector_reason = _fallback(
            "detector", settings.face_detector, DETECTOR_MODELS, registry, settings, detector_reason
        )
        if detector != settings.face_detector:
            faces = settings.faces.model_copy(update={"detector": detector, "min_score": None})
            settings = settings.model_copy(update={"faces": faces})
    if "identity" in settings.analyzers:
        embedder, embedder_reason = _fallback(
            "embedder",
            settings.face_embedder,
            EMBEDDER_MODELS,
            registry,
            settings,
            embedder_reason,
            enrolled.get(settings.face_embedder, 0),
        )
        if embedder != settings.face_embedder:
            identity = settings.identity.model_copy(
                update={"embedder": embedder, "threshold": None}
            )
            settings = settings.model_copy(update={"identity": identity})
    return FaceBackends(settings, detector_reason, embedder_reason)


def _embedder_for_store(settings: Settings, enrolled: Mapping[str, int]) -> tuple[Settings, str]:
    """The settings with the embedder the store needs, and why it was chosen.

    An unconfigured embedder defaults to the measured choice, unless every enrolled embedding is
    another backend's (a store enrolled before the default changed): then that backend stays,
    because embeddings cannot be converted and nobody could be verified until re-enrolled."""
    chosen = settings.face_embedder
    if not settings.identity._defaulted:
        return settings, "configured (PROCTOR_IDENTITY__EMBEDDER)"
    if len(enrolled) != 1 or chosen in enrolled:
        return settings, "the measured default"
    ((kept, students),) = enrolled.items()
    if kept not in EMBEDDER_MODELS or (
        settings.permissive_only and kept in NON_PERMISSIVE_BACKENDS
    ):
        return settings, "the measured default (the store's embedder is not allowed)"
    log.warning(
        "keeping the %s embedder: all %d enrolled students use it (set PROCTOR_IDENTITY__EMBEDDER "
        "and re-enroll to switch to the default %s)",
        kept,
        students,
        chosen,
    )
    identity = settings.identity.model_copy(update={"embedder": kept})
    return settings.model_copy(update={"identity": identity}), (
        f"kept from the store: all {students} enrolled students use it"
    )


def _fallback(
    kind: str,
    chosen: str,
    models: Mapping[str, str],
    registry: ModelRegistry,
    settings: Settings,
    reason: str,
    enrolled_under: int = 0,
) -> tuple[str, str]:
    """The backend to run for ``chosen`` (itself, or another whose model is here), and why."""
    error = _unavailable(registry, models[chosen])
    if error is None:
        return chosen, reason
    if enrolled_under:
        return chosen, (
            f"{reason}; its model is unavailable and it does not fall back: {enrolled_under} "
            f"enrolled student(s) could not be matched by another {kind}: {error}"
        )
    allowed = [
        name
        for name in models
        if name != chosen and not (settings.permissive_only and name in NON_PERMISSIVE_BACKENDS)
    ]
    other = next((name for name in allowed if _unavailable(registry, models[name]) is None), None)
    if other is None:
        return chosen, f"{reason}; its model is unavailable and no other allowed {kind}'s is here"
    log.warning("face %s %s is unavailable (%s): using %s instead", kind, chosen, error, other)
    return other, f"fallback from {chosen} ({reason}), whose model is unavailable: {error}"


def _unavailable(registry: ModelRegistry, model: str) -> str | None:
    """Why ``model`` cannot be used, or None when it verifies."""
    try:
        registry.model(model)
    except ModelUnavailableError as exc:
        return str(exc)
    return None
