"""Identity: 1:1 verification at its threshold, 1:N identification with its own rule (a
threshold that grows with the gallery, and an optional margin over the second-best student),
on real LFW photos and their real embeddings."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from proctor.analyzers.base import Claim
from proctor.analyzers.identity import (
    DEFAULT_THRESHOLDS,
    IDENTIFY_TAILS,
    IdentityAnalyzer,
    IdentityResult,
    identify_threshold,
)
from proctor.gallery import Gallery
from proctor.pipeline import Pipeline
from proctor.services import build_pipeline
from tests.conftest import FACE_MODELS, NOBODY, make_settings, require_models
from tests.helpers import in_webcam_frame, photo

PEOPLE = ("Tom_Cruise", "Hugh_Grant", "Jennifer_Aniston", "Elton_John")
TAIL = IDENTIFY_TAILS["sface"]
ONE_TO_ONE = DEFAULT_THRESHOLDS["sface"]


def test_the_1n_threshold_is_never_below_the_1to1_one() -> None:
    low = (0.0, 0.05)  # a rule that would fall below the 1:1 threshold for small galleries
    assert identify_threshold(ONE_TO_ONE, low, 1, 0.01) == ONE_TO_ONE
    assert identify_threshold(ONE_TO_ONE, low, 10, 0.01) == ONE_TO_ONE
    assert identify_threshold(ONE_TO_ONE, TAIL, 0, 0.01) == ONE_TO_ONE
    assert identify_threshold(ONE_TO_ONE, None, 10_000, 0.01) == ONE_TO_ONE  # no fitted tail


def test_the_1n_threshold_grows_by_b_per_tenfold_gallery() -> None:
    a, b = TAIL
    at = {n: identify_threshold(ONE_TO_ONE, TAIL, n, 0.01) for n in (100, 1_000, 10_000)}
    assert at[100] == pytest.approx(a + b * math.log10(100 / 0.01), abs=1e-4)
    assert at[1_000] - at[100] == pytest.approx(b, abs=2e-4)
    assert at[10_000] - at[1_000] == pytest.approx(b, abs=2e-4)
    assert ONE_TO_ONE < at[100] < at[1_000] < at[10_000] < 1.0
    # a stricter target is a higher threshold: one tenth of the FPIR, one more tenfold
    assert identify_threshold(ONE_TO_ONE, TAIL, 100, 0.001) == pytest.approx(at[1_000], abs=1e-4)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    require_models(*FACE_MODELS)
    return build_pipeline(
        make_settings(tmp_path_factory.mktemp("id"), analyzers=["faces", "identity"])
    )


@pytest.fixture(scope="module")
def embeddings(pipeline: Pipeline, identities_dir: Path) -> dict[tuple[str, int], np.ndarray]:
    """Real embeddings of photos 1-4 of each of ``PEOPLE`` (each in a 640x480 frame)."""
    out = {}
    for person in PEOPLE:
        for number in range(1, 5):
            frame = in_webcam_frame(photo(identities_dir, person, number))
            ctx = pipeline.analyze(frame, Claim(), NOBODY, only=["identity"]).context
            out[person, number] = ctx.result("identity", IdentityResult).embeddings[0]
    return out


def enrolled(embeddings: dict[tuple[str, int], np.ndarray], padding_rows: int = 0) -> Gallery:
    """``PEOPLE`` enrolled with photos 1-3, plus ``padding_rows`` more students, each one real
    embedding of someone else's photo (re-used under new ids: it only sets the gallery size)."""
    rows = [(p, p.replace("_", " "), embeddings[p, n]) for p in PEOPLE for n in (1, 2, 3)]
    others = [embeddings[p, 4] for p in PEOPLE[1:]]
    rows += [(f"pad-{i:05d}", f"Pad {i}", others[i % len(others)]) for i in range(padding_rows)]
    return Gallery.from_rows(NOBODY.model, 1, rows)


def test_gallery_rows_count_every_enrolled_photo(
    embeddings: dict[tuple[str, int], np.ndarray],
) -> None:
    gallery = enrolled(embeddings, padding_rows=5)
    assert len(gallery) == len(PEOPLE) + 5 and gallery.rows == 3 * len(PEOPLE) + 5
    assert Gallery("m", 0).rows == 0


def probe_score(embeddings: dict[tuple[str, int], np.ndarray]) -> float:
    gallery = enrolled(embeddings)
    column = gallery.student_ids.index(PEOPLE[0])
    return float(gallery.similarities(embeddings[PEOPLE[0], 4][None])[0, column])


def rows_above(score: float, target: float = 0.01) -> int:
    """The smallest gallery whose 1:N threshold is above ``score``."""
    a, b = TAIL
    return math.ceil(target * 10 ** ((score - a) / b)) + 1


def test_a_big_gallery_needs_a_closer_match_than_a_small_one(
    pipeline: Pipeline, embeddings: dict[tuple[str, int], np.ndarray], identities_dir: Path
) -> None:
    frame = in_webcam_frame(photo(identities_dir, PEOPLE[0], 4))
    score = probe_score(embeddings)
    assert score >= ONE_TO_ONE  # the same person, a genuine match
    small = pipeline.analyze(frame, Claim(), enrolled(embeddings)).response
    assert small.face_verified is True and small.student_id == PEOPLE[0]
    assert small.alerts == []
    needed = rows_above(score)
    if needed > 200_000:
        pytest.skip(f"genuine score {score:.3f} needs a gallery of {needed} rows to fail")
    big = enrolled(embeddings, padding_rows=needed)
    analyzer = pipeline.analyzers["identity"]
    assert isinstance(analyzer, IdentityAnalyzer)
    assert analyzer.identify_threshold(big) > score > analyzer.threshold
    unnamed = pipeline.analyze(frame, Claim(), big).response
    assert unnamed.face_verified is None and unnamed.student_id is None
    assert unnamed.person_name is None
    assert unnamed.match_score == pytest.approx(score, abs=1e-3)
    assert [a.code for a in unnamed.alerts] == ["UNKNOWN_PERSON"]
    # 1:1 verification keeps its own threshold, whatever the gallery size
    claimed = pipeline.analyze(frame, Claim(PEOPLE[0]), big).response
    assert claimed.face_verified is True and claimed.student_id == PEOPLE[0]


def test_a_stricter_target_fpir_names_fewer(
    tmp_path: Path, embeddings: dict[tuple[str, int], np.ndarray], identities_dir: Path
) -> None:
    require_models(*FACE_MODELS)
    score = probe_score(embeddings)
    gallery = enrolled(embeddings)
    a, b = TAIL
    target = gallery.rows * 10 ** (-(score - a) / b) / 10  # puts t(rows) above the score
    strict = build_pipeline(
        make_settings(
            tmp_path, analyzers=["faces", "identity"], identity={"identify_target_fpir": target}
        )
    )
    frame = in_webcam_frame(photo(identities_dir, PEOPLE[0], 4))
    response = strict.analyze(frame, Claim(), gallery).response
    assert response.student_id is None and [a.code for a in response.alerts] == ["UNKNOWN_PERSON"]


def test_the_margin_refuses_a_tie_between_two_students(
    tmp_path: Path, embeddings: dict[tuple[str, int], np.ndarray], identities_dir: Path
) -> None:
    """One person enrolled twice (two ids): no margin names one of them; a margin names
    neither, since the best beats the second-best by nothing."""
    require_models(*FACE_MODELS)
    rows = [(p, p, embeddings[p, n]) for p in PEOPLE for n in (1, 2, 3)]
    rows += [("twin", "Twin", embeddings[PEOPLE[0], n]) for n in (1, 2, 3)]
    gallery = Gallery.from_rows(NOBODY.model, 1, rows)
    frame = in_webcam_frame(photo(identities_dir, PEOPLE[0], 4))
    plain = build_pipeline(make_settings(tmp_path / "a", analyzers=["faces", "identity"]))
    assert plain.analyze(frame, Claim(), gallery).response.student_id in {PEOPLE[0], "twin"}
    margin = build_pipeline(
        make_settings(
            tmp_path / "b", analyzers=["faces", "identity"], identity={"identify_margin": 0.05}
        )
    )
    refused = margin.analyze(frame, Claim(), gallery).response
    assert refused.student_id is None and [a.code for a in refused.alerts] == ["UNKNOWN_PERSON"]
    # the claimed student is verified 1:1: the margin is a 1:N rule only
    claimed = margin.analyze(frame, Claim(PEOPLE[0]), gallery).response
    assert claimed.face_verified is True
