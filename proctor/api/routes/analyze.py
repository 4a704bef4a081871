"""``POST /analyze_frame`` (multipart) and ``/analyze_frame_base64`` (JSON): one frame in,
one verdict out. Both run the same function."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from proctor.api.deps import ServicesDep
from proctor.api.schemas import AnalyzeBase64Request
from proctor.errors import ServiceUnavailableError
from proctor.frame import check_content_type, decode_base64_image, decode_image, make_frame
from proctor.pipeline import build_response
from proctor.schemas import AnalyzeResponse
from proctor.services import Services

router = APIRouter(tags=["analyze"])

ERROR_RESPONSES: dict[int | str, dict[str, str]] = {
    400: {"description": "Empty, undecodable or truncated image, or bad base64"},
    404: {"description": "student_id is not enrolled"},
    413: {"description": "Image over the byte or pixel limit"},
    415: {"description": "Upload is not an image"},
    422: {"description": "Missing or malformed field"},
    503: {"description": "No analyzer is loaded (models not provisioned)"},
}


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def analyze_bytes(
    services: Services, data: bytes, student_id: str | None, exam_id: str | None
) -> AnalyzeResponse:
    started = time.perf_counter()
    student_id, exam_id = _blank_to_none(student_id), _blank_to_none(exam_id)
    if student_id is not None:
        services.students.get(student_id)  # unknown id -> 404 before any work
    if not services.pipeline.analyzers:
        raise ServiceUnavailableError(
            "no analyzer is loaded; run `python -m proctor.models fetch` and see GET /health"
        )
    settings = services.settings
    image = decode_image(
        data, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels
    )
    frame = make_frame(image, settings.analysis_max_side)
    decoded = time.perf_counter()
    ctx = services.pipeline.run(frame, student_id=student_id, exam_id=exam_id)
    ctx.timings_ms = {
        "decode": round((decoded - started) * 1000, 2),
        **ctx.timings_ms,
        "total": round((time.perf_counter() - started) * 1000, 2),
    }
    return build_response(ctx)


@router.post("/analyze_frame", response_model=AnalyzeResponse, responses=ERROR_RESPONSES)
def analyze_frame(
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="The webcam frame (JPEG, PNG, WebP, BMP).")],
    student_id: Annotated[str | None, Form(description="Claimed student: verify 1:1.")] = None,
    exam_id: Annotated[str | None, Form(description="Echoed back.")] = None,
) -> AnalyzeResponse:
    check_content_type(file.content_type)
    return analyze_bytes(
        services, file.file.read(services.settings.max_upload_bytes + 1), student_id, exam_id
    )


@router.post("/analyze_frame_base64", response_model=AnalyzeResponse, responses=ERROR_RESPONSES)
def analyze_frame_base64(services: ServicesDep, body: AnalyzeBase64Request) -> AnalyzeResponse:
    data = decode_base64_image(body.image, services.settings.max_upload_bytes)
    return analyze_bytes(services, data, body.student_id, body.exam_id)
