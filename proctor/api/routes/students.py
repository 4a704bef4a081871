"""Enrolled students: create with photos, list, read, delete, add photos, set accommodations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status

from proctor.accommodations import normalise
from proctor.api.access import ACCESS_RESPONSES, AdminAccess
from proctor.api.deps import ServicesDep
from proctor.api.schemas import (
    ACCOMMODATIONS_HELP,
    AccommodationsRequest,
    Message,
    StudentPublic,
    StudentsPublic,
)
from proctor.enrollment import EnrollmentImage
from proctor.errors import EnrollmentImageError, StudentNotFoundError
from proctor.frame import check_content_type
from proctor.services import Services
from proctor.store.students import Student

router = APIRouter(
    prefix="/students", tags=["students"], dependencies=[AdminAccess], responses=ACCESS_RESPONSES
)

Images = Annotated[list[UploadFile], File(description="Photos, each showing exactly one face.")]
FROM_ID_CARD_HELP = (
    "The images are photos of the student's ID card: the portrait on the card (found, "
    "flattened, its largest face) is enrolled, as POST /verify_id reads it."
)


def _public(student: Student) -> StudentPublic:
    return StudentPublic(**student.__dict__)


def _embed(services: Services, uploads: list[UploadFile], from_id_card: bool = False) -> list:
    """Embeddings of the uploaded photos (each checked: an image, one face; or, from ID
    cards, a card with a portrait)."""
    limit = services.settings.max_images_per_request
    if len(uploads) > limit:
        raise EnrollmentImageError(f"at most {limit} images per request")
    images = []
    for position, upload in enumerate(uploads, start=1):
        check_content_type(upload.content_type)
        data = upload.file.read(services.settings.max_upload_bytes + 1)
        images.append(EnrollmentImage(upload.filename or f"image {position}", data))
    return services.enroller.embed(images, from_id_card)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=StudentPublic,
    responses={
        409: {"description": "Already enrolled"},
        422: {
            "description": "Bad id or name (invalid_student), an unknown accommodation "
            "(invalid_accommodation), or an image does not show exactly one face (with "
            "from_id_card: no card portrait; the message names the stage)"
        },
    },
)
def create_student(
    services: ServicesDep,
    student_id: Annotated[str, Form()],
    name: Annotated[str, Form()],
    images: Images,
    from_id_card: Annotated[bool, Form(description=FROM_ID_CARD_HELP)] = False,
    accommodations: Annotated[
        str | None, Form(description=f"Comma-separated. {ACCOMMODATIONS_HELP}")
    ] = None,
) -> StudentPublic:
    services.students.rules.check(student_id, name)
    # Checked before the photos are embedded, so a typo costs no model time.
    names = normalise((accommodations or "").split(","))
    embeddings = _embed(services, images, from_id_card)
    student = services.students.create(
        student_id,
        name,
        embeddings,
        services.enroller.model,
        [upload.filename or "" for upload in images],
        names,
    )
    return _public(student)


@router.get("", response_model=StudentsPublic)
def list_students(services: ServicesDep) -> StudentsPublic:
    students = [_public(s) for s in services.students.list()]
    return StudentsPublic(students=students, count=len(students))


@router.get(
    "/{student_id}", response_model=StudentPublic, responses={404: {"description": "Not enrolled"}}
)
def get_student(services: ServicesDep, student_id: str) -> StudentPublic:
    return _public(services.students.get(student_id))


@router.post(
    "/{student_id}/faces",
    response_model=StudentPublic,
    responses={
        404: {"description": "Not enrolled"},
        422: {"description": "An image does not show exactly one face"},
    },
)
def add_faces(services: ServicesDep, student_id: str, images: Images) -> StudentPublic:
    services.students.get(student_id)
    embeddings = _embed(services, images)
    return _public(
        services.students.add_faces(
            student_id,
            embeddings,
            services.enroller.model,
            [upload.filename or "" for upload in images],
        )
    )


@router.put(
    "/{student_id}/accommodations",
    response_model=StudentPublic,
    responses={
        404: {"description": "Not enrolled"},
        422: {"description": "An unknown accommodation (invalid_accommodation)"},
    },
)
def set_accommodations(
    services: ServicesDep, student_id: str, body: AccommodationsRequest
) -> StudentPublic:
    """Replace the student's accommodations; frames claiming them from now on apply the new
    set (their alerts move to suppressed_alerts, their measurements stay)."""
    return _public(services.students.set_accommodations(student_id, body.accommodations))


@router.delete(
    "/{student_id}", response_model=Message, responses={404: {"description": "Not enrolled"}}
)
def delete_student(services: ServicesDep, student_id: str) -> Message:
    """The student, every embedding of theirs, and every attempt they sat (frames' alert
    codes, incidents, reviews, evidence files): nothing of them is left.

    Attempts go first, each step in a transaction of its own: if the process dies between
    the two, the student is still listed and the same DELETE finishes the job (the other
    order would leave their attempts behind a 404)."""
    if not services.students.exists(student_id):
        raise StudentNotFoundError(f"student {student_id!r} is not enrolled")
    attempts = services.attempts.forget_student(student_id)
    services.students.delete(student_id)
    return Message(message=f"student {student_id!r} deleted with {attempts} attempt(s)")
