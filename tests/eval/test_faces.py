"""The faces evaluation: threshold rule, pair counting, splits, and that the shipped identity
thresholds are what the rule picks on the tune persons (real photos, real models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from proctor.analyzers.identity import DEFAULT_THRESHOLDS
from proctor.eval.data import in_webcam_frame, lfw_split, read_image
from proctor.eval.faces import (
    BACKENDS,
    TARGET_FAR,
    PairCounts,
    embed,
    group_frames,
    load_backend,
    pair_scores,
    threshold_at_far,
)
from proctor.models.faces.backends import DETECTOR_MODELS, EMBEDDER_MODELS
from tests.conftest import MODELS_DIR, require_models


def unit_vectors(count: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, 16))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_threshold_is_the_lowest_hundredth_within_the_far() -> None:
    impostor = np.linspace(-0.3, 0.4, 2001)  # top scores 0.4, 0.39965, 0.3993, ...
    threshold = threshold_at_far(impostor, 0.001)  # 2 of 2001 may pass
    assert threshold == 0.4
    assert (impostor >= threshold).mean() <= 0.001
    assert (impostor >= threshold - 0.01).mean() > 0.001


def test_pair_counts_agree_with_the_pair_scores() -> None:
    vectors = unit_vectors(30)
    units = [f"p{i % 7}" for i in range(30)]
    genuine, impostor = pair_scores(vectors, units)
    counts = PairCounts.of(units, vectors, 0.1)
    assert (counts.genuine().k, counts.genuine().n) == ((genuine >= 0.1).sum(), len(genuine))
    assert (counts.impostor().k, counts.impostor().n) == ((impostor >= 0.1).sum(), len(impostor))


def test_a_unit_drawn_twice_is_not_its_own_impostor() -> None:
    vectors = unit_vectors(4)
    units = ["a", "a", "b", "b"]
    counts = PairCounts.of(units, vectors, -1.0)  # every pair accepted
    assert counts.impostor(np.array([2, 0])).n == 0  # only copies of "a": no impostor pair
    assert counts.genuine(np.array([2, 0])).n == 2  # a's one pair, once per copy
    assert counts.impostor(np.array([2, 1])).n == 2 * 1 * 4


def test_group_frames_never_show_one_person_twice() -> None:
    photos = [
        (f"p{i}", np.full((20, 20, 3), 10 * i + j, np.uint8)) for i in range(5) for j in range(3)
    ]
    frames = group_frames(photos, 2)
    assert len(frames) == 3 * 2  # photo j of persons (p0, p1) and (p2, p3); p4 is left over
    assert len(group_frames(photos, 5)) == 3


def test_lfw_split_is_disjoint_by_person(eval_dir: Path) -> None:
    sides = lfw_split(eval_dir)
    tune = {person for person, _ in sides["tune"]}
    report = {person for person, _ in sides["report"]}
    assert not tune & report
    assert len(tune) == len(report) == 20
    assert len(sides["tune"]) == len(sides["report"]) == 120


@pytest.mark.parametrize(("detector", "embedder"), BACKENDS)
def test_default_threshold_is_the_rule_on_the_tune_persons(
    eval_dir: Path, detector: str, embedder: str
) -> None:
    require_models(DETECTOR_MODELS[detector], EMBEDDER_MODELS[embedder])
    backend = load_backend(detector, embedder, MODELS_DIR)
    tune = lfw_split(eval_dir)["tune"]
    embedded = embed(backend, [(p, in_webcam_frame(read_image(path))) for p, path in tune])
    _, impostor = pair_scores(embedded.vectors, embedded.units)
    assert threshold_at_far(impostor, TARGET_FAR) == DEFAULT_THRESHOLDS[embedder]
