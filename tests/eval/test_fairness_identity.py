"""The identity fairness evaluation: per-group false accepts and their spread, the cohort
normalisation, the 1:N tail fit and the gallery draws (small exact cases), and the padding
faces read from ``../shared/eval`` (one per identity)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from proctor.analyzers.identity import identify_threshold
from proctor.eval.fairness_identity import (
    Draw,
    Face,
    accepted,
    cohort_levels,
    deduplicate,
    fit_tail,
    fpir_draw,
    group_far,
    normalised,
    padding_images,
    per_group_rates,
    threshold_for_rate,
    top_two,
)


def face(unit: str, group: str, gender: str = "male", source: str = "utkface") -> Face:
    return Face(unit, source, np.zeros(4, np.float32), group, gender)


def test_group_far_counts_within_group_pairs_once() -> None:
    faces = [face("a", "X"), face("b", "X", "female"), face("c", "X"), face("d", "Y")]
    scores = np.array(
        [
            [1.0, 0.5, 0.1, 0.9],  # a-b accepted (cross gender), a-c not, a-d is cross group
            [0.5, 1.0, 0.1, 0.1],
            [0.1, 0.1, 1.0, 0.1],
            [0.9, 0.1, 0.1, 1.0],
        ]
    )
    result = group_far(faces, scores, 0.4)
    assert (result.group["X"].k, result.group["X"].n) == (1, 3)
    assert (result.group["Y"].k, result.group["Y"].n) == (0, 0)
    assert (result.same_gender["X"].k, result.same_gender["X"].n) == (0, 1)  # only a-c
    assert (result.pooled.k, result.pooled.n) == (1, 3)
    assert math.isnan(result.spread.value) or result.spread.value >= 1.0


def test_spread_is_the_worst_group_over_pooled() -> None:
    rng = np.random.default_rng(0)
    faces = [face(f"x{i}", "X") for i in range(10)] + [face(f"y{i}", "Y") for i in range(10)]
    scores = rng.uniform(0, 1, (20, 20))
    scores = (scores + scores.T) / 2
    result = group_far(faces, scores, 0.6)
    worst = max(r.value for r in result.group.values())
    assert result.spread.value == pytest.approx(worst / result.pooled.value)
    assert result.spread.low <= result.spread.value <= result.spread.high


def test_threshold_for_rate_is_the_lowest_within_the_rate() -> None:
    scores = np.linspace(0, 1, 11)[None, :] * np.ones((11, 1))
    scores = np.maximum(scores, scores.T)  # upper triangle pairs: 55 scores
    mask = ~np.eye(11, dtype=bool)
    threshold = threshold_for_rate(scores, mask, 0.1)
    upper = scores[np.triu(mask, k=1)]
    assert (upper >= threshold).mean() <= 0.1
    assert (upper >= threshold - 0.101).mean() > 0.1


def test_cohort_levels_leave_a_face_out_of_its_own_cohort() -> None:
    vectors = np.eye(3)
    assert cohort_levels(vectors, vectors, 1, self_in=True) == pytest.approx([0, 0, 0])
    assert cohort_levels(vectors, vectors, 1, self_in=False) == pytest.approx([1, 1, 1])
    levels = np.array([0.2, 0.0])
    assert normalised(np.array([[1.0, 0.5], [0.5, 1.0]]), levels)[0, 1] == pytest.approx(0.4)


def test_the_tail_fit_recovers_an_exponential_tail() -> None:
    """Scores with P(score >= t) = 10 ** -((t - a) / b) above a: the fit gives back a and b."""
    a, b = 0.1, 0.08
    u = np.random.default_rng(1).uniform(size=200_000)
    scores = a + b * -np.log10(u)  # P(s >= t) = 10 ** (-(t - a) / b)
    fitted_a, fitted_b, points = fit_tail({"X": scores, "Y": scores - 0.05})
    assert fitted_a == pytest.approx(a, abs=0.01) and fitted_b == pytest.approx(b, abs=0.005)
    assert len(points) >= 5  # every p with >= 5 pairs above in the smallest group


def test_top_two_takes_each_students_best_row() -> None:
    scores = np.array([[0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.6]])
    student = np.array([0, 0, 1, 2])  # student 0 has two rows
    best, second, who = top_two(scores, student)
    assert best == pytest.approx([0.9, 0.6]) and second == pytest.approx([0.7, 0.3])
    assert list(who) == [0, 2]


def test_the_rule_and_the_margin_accept() -> None:
    draw = Draw(
        1000,
        np.array([0.7, 0.7, 0.3]),
        np.array([0.1, 0.69, 0.1]),
        np.zeros(3, bool),
        np.zeros(3, bool),
    )
    assert list(accepted(draw, 0.5, 0.0)) == [True, True, False]
    assert list(accepted(draw, 0.5, 0.05)) == [True, False, False]


def test_fpir_draw_never_matches_a_probe_with_itself() -> None:
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(30, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    pool = [Face(f"u{i}", "utkface", vectors[i], "X") for i in range(30)]
    draw = fpir_draw(pool[:5], pool, 30, seed=0)  # every probe is in the gallery too
    assert draw.gallery_rows == 30
    assert (draw.best < 0.999).all()  # its own copy (cos 1) is left out
    rates = per_group_rates(pool[:5], accepted(draw, identify_threshold(0.9, None, 30, 0.01), 0))
    assert rates["all"].n == 5 and rates["X"].n == 5


def test_padding_is_one_face_per_identity(eval_dir: Path) -> None:
    padding = padding_images(eval_dir, None)
    keys = [(source, unit) for source, unit, _ in padding]
    assert len(keys) == len(set(keys))
    by_source: dict[str, int] = {}
    for source, _, path in padding:
        by_source[source] = by_source.get(source, 0) + 1
        assert path.is_file()
    assert by_source["desk"] == 29 and by_source["nuaa/msu"] == 22
    assert by_source["pointing04"] == 7 and by_source["aflw2000"] == 13


def test_a_gallery_dir_adds_an_identity_per_folder_with_up_to_three_photos(
    eval_dir: Path, tmp_path: Path
) -> None:
    source = next((eval_dir / "faces" / "identities").iterdir())
    for person, count in (("p1", 2), ("p2", 5)):
        (tmp_path / person).mkdir()
        for photo in sorted(source.glob("*.jpg"))[:count]:
            (tmp_path / person / photo.name).write_bytes(photo.read_bytes())
    extra = [row for row in padding_images(eval_dir, tmp_path) if row[0] == "gallery-dir"]
    assert [unit for _, unit, _ in extra] == ["p1"] * 2 + ["p2"] * 3


def test_top_two_of_single_row_students_is_the_two_highest() -> None:
    scores = np.array([[0.1, 0.5, 0.3]])
    best, second, who = top_two(scores, np.array([2, 0, 1]))
    assert best[0] == 0.5 and second[0] == 0.3 and who[0] == 0


def test_a_gallery_of_several_rows_per_student_counts_rows_and_scores_students() -> None:
    a, b, c = np.eye(3)
    probe = Face("probe", "utkface", (a + 0.2 * b) / np.linalg.norm(a + 0.2 * b), "X")
    pool = [Face("s1", "lfw", a), Face("s1", "lfw", a), Face("s2", "lfw", c)]
    draw = fpir_draw([probe], pool, 3, seed=0)
    assert draw.gallery_rows == 3
    # s1's two rows are one student: the second-best student is s2, not s1's other photo.
    assert draw.best[0] > 0.9 and draw.second[0] == 0.0
    assert fpir_draw([probe], pool, 2, seed=0).gallery_rows == 2  # the last student cut short


def test_padding_close_to_a_kept_face_is_dropped() -> None:
    a, b = np.eye(4)[0], np.eye(4)[1]
    near_a = (a + 0.1 * b) / np.linalg.norm(a + 0.1 * b)  # cos 0.995 to a
    padding = [Face("p", "desk", near_a), Face("q", "desk", b), Face("r", "desk", b)]
    kept = deduplicate(padding, np.stack([a]))
    assert [f.unit for f in kept] == ["q"]  # p is near a base face, r repeats q
    same = [Face("q", "desk", b), Face("q", "desk", b)]
    assert len(deduplicate(same, np.stack([a]))) == 2  # one identity's photos may be alike


def test_a_flat_gallery_dir_groups_lfw_style_names(eval_dir: Path, tmp_path: Path) -> None:
    source = sorted((eval_dir / "faces" / "identities" / "Tom_Cruise").glob("*.jpg"))
    for i, photo in enumerate(source[:2]):
        (tmp_path / f"Some_Person_{i + 1:04d}.jpg").write_bytes(photo.read_bytes())
    extra = [row for row in padding_images(eval_dir, tmp_path) if row[0] == "gallery-dir"]
    assert [unit for _, unit, _ in extra] == ["Some_Person"] * 2
