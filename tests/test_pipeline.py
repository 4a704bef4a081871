"""The pipeline: one entry point, typed merge with one owner per field, subsets, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import pytest

from proctor.analyzers import ANALYZERS
from proctor.analyzers.base import Analyzer, Claim, FrameContext
from proctor.analyzers.identity import IdentityResult
from proctor.errors import ServiceUnavailableError
from proctor.gallery import Gallery
from proctor.pipeline import (
    PIPELINE_FIELDS,
    RECORDER_FIELDS,
    Pipeline,
    PipelineConfigError,
    check_field_owners,
    ordered_analyzers,
)
from proctor.schemas import AnalyzeResponse, FaceOut
from proctor.services import build_pipeline
from tests.conftest import FACE_MODELS, NOBODY, make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, photo


def test_every_analyzer_field_is_in_the_schema_and_has_one_owner() -> None:
    check_field_owners(ANALYZERS)  # raises on a clash or on a field the schema lacks


def test_every_schema_field_has_an_owner() -> None:
    owned = {*PIPELINE_FIELDS, *RECORDER_FIELDS} | {f for c in ANALYZERS.values() for f in c.fields}
    assert set(AnalyzeResponse.model_fields) - owned == set()
    face_owned = {f for cls in ANALYZERS.values() for f in cls.face_fields}
    assert set(FaceOut.model_fields) == face_owned


class Clashing(Analyzer):
    """An analyzer claiming a field the faces analyzer owns (only for the ownership check)."""

    name = "clashing"
    fields: ClassVar[tuple[str, ...]] = ("face_count",)

    def __init__(self, settings: Any, registry: Any) -> None: ...

    def model_names(self) -> list[str]:
        return []

    def analyze(self, ctx: FrameContext) -> Any: ...


class Undeclared(Clashing):
    name = "undeclared"
    fields = ("no_such_field",)


@pytest.mark.parametrize(("cls", "message"), [(Clashing, "claimed by both"), (Undeclared, "lacks")])
def test_a_clash_or_an_undeclared_field_fails_at_startup(
    monkeypatch: pytest.MonkeyPatch, cls: type[Analyzer], message: str
) -> None:
    monkeypatch.setitem(ANALYZERS, cls.name, cls)
    with pytest.raises(PipelineConfigError, match=message):
        check_field_owners(["faces", cls.name])


def test_unknown_and_incomplete_analyzer_lists_are_refused() -> None:
    with pytest.raises(PipelineConfigError, match="unknown"):
        ordered_analyzers(["faces", "telepathy"])
    with pytest.raises(PipelineConfigError, match="requires"):
        ordered_analyzers(["identity"])
    assert ordered_analyzers(["identity", "faces"]) == ["faces", "identity"]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    require_models(*FACE_MODELS)
    return build_pipeline(
        make_settings(tmp_path_factory.mktemp("p"), analyzers=["faces", "identity"])
    )


def test_bytes_and_arrays_take_the_same_way(pipeline: Pipeline, identities_dir: Path) -> None:
    frame = in_webcam_frame(photo(identities_dir, "Tom_Cruise", 2))
    data = jpeg(frame)
    nobody = NOBODY
    from_bytes = pipeline.analyze(data, Claim(exam_id="e1"), nobody)
    decoded = pipeline.analyze(cv2.imdecode(np.frombuffer(data, np.uint8), 1), Claim(), nobody)
    assert from_bytes.response.face_count == decoded.response.face_count == 1
    assert from_bytes.response.faces[0].box == decoded.response.faces[0].box
    assert from_bytes.response.exam_id == "e1"
    assert list(from_bytes.response.timings_ms) == ["decode", "faces", "identity", "total"]


def test_only_runs_what_is_asked_and_what_it_needs(
    pipeline: Pipeline, identities_dir: Path
) -> None:
    frame = in_webcam_frame(photo(identities_dir, "Tom_Cruise", 2))
    analysis = pipeline.analyze(frame, Claim(), NOBODY, only=["faces"])
    assert analysis.response.analyzers == ["faces"]
    assert analysis.response.student_id is None and analysis.response.faces[0].match_score is None
    with_identity = pipeline.analyze(frame, Claim(), NOBODY, only=["identity"])
    assert with_identity.response.analyzers == ["faces", "identity"]
    embeddings = with_identity.context.result("identity", IdentityResult).embeddings
    assert embeddings.shape == (1, pipeline.analyzers["identity"].embedder.dim)  # type: ignore[attr-defined]


def test_an_analyzer_that_is_not_loaded_is_a_503_error(
    pipeline: Pipeline, identities_dir: Path
) -> None:
    frame = in_webcam_frame(photo(identities_dir, "Tom_Cruise", 2))
    with pytest.raises(ServiceUnavailableError, match="objects"):
        pipeline.analyze(frame, Claim(), NOBODY, only=["objects"])


def test_the_gallery_passed_in_is_the_one_matched(pipeline: Pipeline, identities_dir: Path) -> None:
    """Identity reads no store: the same frame matches whoever the given gallery holds."""
    tom = in_webcam_frame(photo(identities_dir, "Tom_Cruise", 1))
    vector = pipeline.analyze(tom, Claim(), NOBODY, only=["identity"])
    embedding = vector.context.result("identity", IdentityResult).embeddings[0]
    gallery = Gallery.from_rows(NOBODY.model, 3, [("t-1", "Tom", embedding)])
    again = pipeline.analyze(tom, Claim("t-1"), gallery).response
    assert again.face_verified is True and again.person_name == "Tom"
    assert again.match_score == pytest.approx(1.0, abs=1e-3)
