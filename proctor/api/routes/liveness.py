"""``GET /liveness/challenge`` and ``POST /liveness``: a signed challenge of head, eye and
mouth actions, and the verdict on a burst of webcam frames that answers it (see
``proctor.liveness``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field

from proctor.api.access import ACCESS_RESPONSES, ClientAccess
from proctor.api.deps import GalleryDep, ServicesDep
from proctor.api.routes.analyze import claim_for
from proctor.frame import check_content_type
from proctor.liveness.burst import LivenessResult
from proctor.liveness.tokens import Action

router = APIRouter(tags=["liveness"], dependencies=[ClientAccess], responses=ACCESS_RESPONSES)


class ChallengeOut(BaseModel):
    token: str = Field(description="Send it back with the frames; it can be answered once.")
    steps: list[Action] = Field(description="The actions to perform, in this order.")
    expires_at: datetime = Field(description="When the token stops being accepted.")


@router.get("/liveness/challenge", response_model=ChallengeOut)
def liveness_challenge(services: ServicesDep) -> ChallengeOut:
    token, challenge = services.liveness.challenge()
    return ChallengeOut(
        token=token,
        steps=list(challenge.steps),
        expires_at=datetime.fromtimestamp(challenge.expires_at, UTC),
    )


ERROR_RESPONSES: dict[int | str, dict[str, str]] = {
    400: {"description": "invalid_token (not ours or malformed), or a bad image"},
    404: {"description": "student_id is not enrolled"},
    409: {
        "description": "token_used: the token was answered before; or student_id is "
        "enrolled under another face embedder"
    },
    410: {"description": "token_expired: ask for a new challenge"},
    413: {"description": "A frame over liveness.frame_bytes or the pixel limit"},
    415: {"description": "A frame that is not an image"},
    422: {
        "description": "invalid_burst: fewer than liveness.min_frames or more than "
        "liveness.max_frames frames"
    },
    503: {"description": "model_unavailable or overloaded (with Retry-After)"},
}


@router.post("/liveness", response_model=LivenessResult, responses=ERROR_RESPONSES)
def liveness_check(
    services: ServicesDep,
    gallery: GalleryDep,
    token: Annotated[str, Form(description="The token of GET /liveness/challenge.")],
    frames: Annotated[list[UploadFile], File(description="The burst's frames, in capture order.")],
    student_id: Annotated[
        str | None, Form(description="Also check that the face is this enrolled student.")
    ] = None,
) -> LivenessResult:
    for upload in frames:
        check_content_type(upload.content_type)
    claim = claim_for(services, gallery, student_id, None)
    limit = services.settings.liveness.frame_bytes + 1
    uploads = [upload.file.read(limit) for upload in frames]
    return services.liveness.check(token, uploads, claim, gallery, services.admission.slot)
