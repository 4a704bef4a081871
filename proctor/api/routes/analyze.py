"""``POST /analyze_frame`` (multipart) and ``/analyze_frame_base64`` (JSON): one frame in,
one verdict out. Both are a few lines around ``Pipeline.analyze``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from proctor.analyzers.base import Claim
from proctor.api.deps import GalleryDep, ServicesDep
from proctor.api.schemas import AnalyzeBase64Request
from proctor.errors import NotEnrolledForModelError, StudentNotFoundError
from proctor.frame import check_content_type, decode_base64_image
from proctor.gallery import Gallery
from proctor.schemas import AnalyzeResponse
from proctor.services import Services

router = APIRouter(tags=["analyze"])

ERROR_RESPONSES: dict[int | str, dict[str, str]] = {
    400: {"description": "Empty, undecodable or truncated image, or bad base64"},
    404: {"description": "student_id is not enrolled"},
    409: {"description": "student_id is enrolled under another face embedder"},
    413: {"description": "Image over the byte or pixel limit"},
    415: {"description": "Upload is not an image"},
    422: {"description": "Missing or malformed field"},
    503: {"description": "No analyzer is loaded (models not provisioned)"},
}


def claim_for(
    services: Services, gallery: Gallery, student_id: str | None, exam_id: str | None
) -> Claim:
    """The request's claim, blanks as absent; an unknown student is a 404, one enrolled only
    under another embedder a 409, before any work is done."""
    student_id = (student_id or "").strip() or None
    exam_id = (exam_id or "").strip() or None
    if student_id is not None and student_id not in gallery:
        if not services.students.exists(student_id):
            raise StudentNotFoundError(f"student {student_id!r} is not enrolled")
        raise NotEnrolledForModelError(
            f"student {student_id!r} has no face embeddings for the current model "
            f"{gallery.model!r}; re-enroll them (POST /students/{student_id}/faces)"
        )
    return Claim(student_id, exam_id)


@router.post("/analyze_frame", response_model=AnalyzeResponse, responses=ERROR_RESPONSES)
def analyze_frame(
    services: ServicesDep,
    gallery: GalleryDep,
    file: Annotated[UploadFile, File(description="The webcam frame (JPEG, PNG, WebP, BMP).")],
    student_id: Annotated[str | None, Form(description="Claimed student: verify 1:1.")] = None,
    exam_id: Annotated[str | None, Form(description="Echoed back.")] = None,
) -> AnalyzeResponse:
    check_content_type(file.content_type)
    claim = claim_for(services, gallery, student_id, exam_id)
    data = file.file.read(services.settings.max_upload_bytes + 1)
    return services.pipeline.analyze(data, claim, gallery).response


@router.post("/analyze_frame_base64", response_model=AnalyzeResponse, responses=ERROR_RESPONSES)
def analyze_frame_base64(
    services: ServicesDep, gallery: GalleryDep, body: AnalyzeBase64Request
) -> AnalyzeResponse:
    claim = claim_for(services, gallery, body.student_id, body.exam_id)
    data = decode_base64_image(body.image, services.settings.max_upload_bytes)
    return services.pipeline.analyze(data, claim, gallery).response
