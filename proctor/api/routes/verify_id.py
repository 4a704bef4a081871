"""``POST /verify_id`` (multipart): an ID-card photo, and a live frame or an enrolled student
to compare its portrait with. A thin layer over ``IdCardReader.verify``: checks the request,
reads the uploads, and says which stage decided the outcome."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from proctor.api.access import ACCESS_RESPONSES, ClientAccess
from proctor.api.deps import GalleryDep, ServicesDep
from proctor.api.routes.analyze import claim_for
from proctor.api.schemas import VerifyIdResponse
from proctor.errors import IdReferenceError
from proctor.frame import check_content_type

router = APIRouter(tags=["analyze"], dependencies=[ClientAccess], responses=ACCESS_RESPONSES)


@router.post(
    "/verify_id",
    response_model=VerifyIdResponse,
    responses={
        400: {"description": "Empty, undecodable or truncated image"},
        404: {"description": "student_id is not enrolled (student_not_found)"},
        409: {"description": "student_id is enrolled under another face embedder"},
        413: {"description": "Image over the byte or pixel limit"},
        415: {"description": "Upload is not an image"},
        422: {
            "description": "Neither or both of file and student_id (invalid_id_reference), "
            "or a missing id_image"
        },
        503: {"description": "The face models are not loaded, or every worker is busy"},
    },
)
def verify_id(
    services: ServicesDep,
    gallery: GalleryDep,
    id_image: Annotated[
        UploadFile, File(description="A photo of the ID card (the whole card in view).")
    ],
    file: Annotated[
        UploadFile | None, File(description="A live webcam frame of the holder.")
    ] = None,
    student_id: Annotated[
        str | None, Form(description="Or: the enrolled student the card should show.")
    ] = None,
) -> VerifyIdResponse:
    claim = claim_for(services, gallery, student_id, None)
    if (file is None) == (claim.student_id is None):
        raise IdReferenceError(
            "send exactly one of file (a live frame) and student_id to compare the card with"
        )
    limit = services.settings.max_upload_bytes + 1
    check_content_type(id_image.content_type)
    card = id_image.file.read(limit)
    live = None
    if file is not None:
        check_content_type(file.content_type)
        live = file.file.read(limit)
    with services.admission.slot():
        verification = services.id_cards.verify(
            card, live_frame=live, student_id=claim.student_id, gallery=gallery
        )
    return VerifyIdResponse.model_validate(
        {**verification.__dict__, "reason": verification.reason}, from_attributes=True
    )
