"""The in-memory gallery: rows grouped by student, best photo per student, snapshots."""

from __future__ import annotations

import numpy as np
import pytest

from proctor.gallery import Gallery


def unit(seed: int, dim: int = 16) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_rows_in_any_order_group_by_student() -> None:
    rows = [
        ("b", "Bea", unit(1)),
        ("a", "Al", unit(2)),
        ("b", "Bea", unit(3)),
        ("a", "Al", unit(4)),
    ]
    gallery = Gallery.from_rows("m", 7, rows)
    assert gallery.student_ids == ("a", "b") and gallery.names == ("Al", "Bea")
    assert gallery.version == 7 and len(gallery) == 2
    assert "a" in gallery and "c" not in gallery
    assert gallery.name_of("b") == "Bea"


def test_similarities_are_each_students_best_photo() -> None:
    rows = [("a", "Al", unit(1)), ("a", "Al", unit(2)), ("b", "Bea", unit(3))]
    gallery = Gallery.from_rows("m", 1, rows)
    faces = np.stack([unit(2), unit(3), unit(9)])
    scores = gallery.similarities(faces)
    expected = np.array(
        [[max(float(f @ unit(1)), float(f @ unit(2))), float(f @ unit(3))] for f in faces]
    )
    assert scores == pytest.approx(expected, abs=1e-6)
    assert scores[0, 0] == pytest.approx(1.0) and scores[1, 1] == pytest.approx(1.0)


def test_an_empty_gallery_scores_nothing() -> None:
    empty = Gallery("m", 0)
    assert empty.similarities(np.stack([unit(1)])).shape == (1, 0)
    assert empty.similarities(np.zeros((0, 16), np.float32)).shape == (0, 0)
