"""``proctor.accommodations``: which alert codes each accommodation covers and when, the names
it accepts, and the pipeline applying it (real models on real photos) with the settings'
reading aid classes."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from proctor.accommodations import (
    COVERED_CODES,
    KNOWN,
    Accommodation,
    apply_accommodations,
    normalise,
)
from proctor.analyzers.base import Claim
from proctor.errors import InvalidAccommodationError
from proctor.gallery import Gallery
from proctor.pipeline import Pipeline, required_models
from proctor.schemas import Alert, AnalyzeResponse
from proctor.services import build_pipeline
from proctor.settings import Settings
from tests.conftest import make_settings, require_models

#: COCO photos: two faces among three people; a book beside a monitor ("book" and "tv").
TWO_FACES_THREE_PEOPLE = "train2017/000000401411.jpg"
BOOK_AND_TV = "train2017/000000417802.jpg"
UNCOVERED = ("NO_FACE", "FACE_MISMATCH", "UNKNOWN_PERSON", "SPOOF_SUSPECTED", "TOO_CLOSE")


def alert(code: str) -> Alert:
    return Alert(code=code, severity="high", message=f"{code} message", confidence=0.5)


def split(
    codes: list[str],
    accommodations: set[str],
    face_count: int = 1,
    people_count: int | None = 1,
    banned: tuple[str, ...] = (),
    reading_aid: tuple[str, ...] = ("book",),
) -> tuple[list[str], dict[str, str], list[str]]:
    """Kept codes, suppressed code -> reason, and the accommodations applied."""
    result = apply_accommodations(
        [alert(code) for code in codes],
        accommodations,
        face_count=face_count,
        people_count=people_count,
        banned_objects=banned,
        reading_aid_classes=reading_aid,
    )
    return (
        [a.code for a in result.kept],
        {a.code: a.reason for a in result.suppressed},
        result.applied,
    )


def test_each_accommodation_covers_exactly_its_codes() -> None:
    every = sorted(set().union(*COVERED_CODES.values()) | set(UNCOVERED))
    for accommodation in Accommodation:
        kept, suppressed, applied = split(
            every, {accommodation.value}, face_count=2, people_count=2, banned=("book",)
        )
        assert set(suppressed) == COVERED_CODES[accommodation]
        assert set(suppressed.values()) == {f"accommodation {accommodation.value}"}
        assert sorted(kept) == sorted(set(every) - COVERED_CODES[accommodation])
        assert applied == [accommodation.value]


def test_the_issue_s_codes() -> None:
    assert COVERED_CODES[Accommodation.NO_GAZE_ALERTS] == {"GAZE_AWAY", "EYES_CLOSED"}
    assert COVERED_CODES[Accommodation.NO_HEAD_POSE_ALERTS] == {
        "HEAD_TURNED",
        "LOOKING_DOWN",
        "LOOKING_UP",
    }
    assert COVERED_CODES[Accommodation.NO_MOUTH_ALERTS] == {"MOUTH_OPEN"}


def test_nothing_held_nothing_applied_and_the_suppressed_alert_keeps_its_fields() -> None:
    assert split(["HEAD_TURNED", "NO_FACE"], set()) == (["HEAD_TURNED", "NO_FACE"], {}, [])
    result = apply_accommodations(
        [alert("MOUTH_OPEN")],
        {"no_mouth_alerts", "no_gaze_alerts"},
        face_count=1,
        people_count=None,
        banned_objects=(),
        reading_aid_classes=(),
    )
    assert result.applied == ["no_mouth_alerts"]  # held but unused: not applied
    assert result.suppressed[0].model_dump() == {
        **alert("MOUTH_OPEN").model_dump(),
        "reason": "accommodation no_mouth_alerts",
    }


@pytest.mark.parametrize(
    ("face_count", "people_count", "suppressed"),
    [
        (2, 2, True),
        (2, None, True),  # objects analyzer off: the faces are the people
        (1, 2, True),  # the carer seen as a person, face hidden
        (2, 3, False),  # two faces, but a third person
        (3, 3, False),
        (3, None, False),
        (1, 1, False),  # nothing to suppress: no alert would fire anyway
    ],
)
def test_extra_person_allowed_is_one_carer(
    face_count: int, people_count: int | None, suppressed: bool
) -> None:
    kept, gone, _ = split(
        ["MULTIPLE_FACES", "MULTIPLE_PEOPLE"],
        {"extra_person_allowed"},
        face_count=face_count,
        people_count=people_count,
    )
    assert (set(gone) == {"MULTIPLE_FACES", "MULTIPLE_PEOPLE"}) is suppressed
    assert (kept == []) is suppressed


@pytest.mark.parametrize(
    ("banned", "reading_aid", "suppressed"),
    [
        (("book",), ("book",), True),
        (("cell phone", "book"), ("book",), False),  # a phone beside the book
        (("laptop",), ("book",), False),
        (("laptop", "book"), ("book", "laptop"), True),  # the deployer added tablets-as-laptop
        ((), ("book",), False),
    ],
)
def test_reading_aid_only_when_every_banned_object_is_one(
    banned: tuple[str, ...], reading_aid: tuple[str, ...], suppressed: bool
) -> None:
    _, gone, _ = split(
        ["BANNED_OBJECT"], {"reading_aid_allowed"}, banned=banned, reading_aid=reading_aid
    )
    assert ("BANNED_OBJECT" in gone) is suppressed


def test_a_phone_is_never_a_reading_aid_by_default() -> None:
    assert Settings().accommodations.reading_aid_classes == ["book"]


def test_names_are_normalised_or_refused() -> None:
    assert normalise(["no_mouth_alerts", " extra_person_allowed ", "no_mouth_alerts", ""]) == (
        "extra_person_allowed",
        "no_mouth_alerts",
    )
    assert normalise([]) == ()
    with pytest.raises(InvalidAccommodationError) as refused:
        normalise(["no_gaze_alerts", "NO_GAZE_ALERTS"])
    assert refused.value.code == "invalid_accommodation"
    assert all(name in refused.value.message for name in KNOWN)


@pytest.fixture(scope="module")
def objects_pipeline(tmp_path_factory: pytest.TempPathFactory, eval_dir: Path) -> Pipeline:
    settings = make_settings(
        tmp_path_factory.mktemp("accommodations"),
        analyzers=["faces", "objects"],
        accommodations={"reading_aid_classes": ["book", "tv"]},
    )
    require_models(*required_models(settings))
    return build_pipeline(settings)


def verdict(pipeline: Pipeline, eval_dir: Path, name: str, *accommodations: str) -> AnalyzeResponse:
    image = cv2.imread(str(eval_dir / "coco" / name))
    assert image is not None, name
    claim = Claim("someone", accommodations=frozenset(accommodations))
    return pipeline.analyze(image, claim, Gallery(pipeline.settings.face_embedder, 0)).response


def test_a_third_person_without_a_face_still_alerts(
    objects_pipeline: Pipeline, eval_dir: Path
) -> None:
    """Real detections: two faces but three people is not 'one carer'."""
    response = verdict(objects_pipeline, eval_dir, TWO_FACES_THREE_PEOPLE, "extra_person_allowed")
    assert (response.face_count, response.people_count) == (2, 3)
    assert {"MULTIPLE_FACES", "MULTIPLE_PEOPLE"} <= {a.code for a in response.alerts}
    assert response.suppressed_alerts == [] and response.accommodations_applied == []
    assert response.accommodations == ["extra_person_allowed"]


def test_reading_aid_classes_come_from_the_settings(
    objects_pipeline: Pipeline, eval_dir: Path
) -> None:
    """With "tv" added by the deployer, a book beside a monitor is exempt; measured as before."""
    plain = verdict(objects_pipeline, eval_dir, BOOK_AND_TV)
    exempt = verdict(objects_pipeline, eval_dir, BOOK_AND_TV, "reading_aid_allowed")
    assert "BANNED_OBJECT" in {a.code for a in plain.alerts}
    assert [(a.code, a.reason) for a in exempt.suppressed_alerts] == [
        ("BANNED_OBJECT", "accommodation reading_aid_allowed")
    ]
    assert exempt.banned_objects == plain.banned_objects and set(plain.banned_objects) == {
        "book",
        "tv",
    }
