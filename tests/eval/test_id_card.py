"""The ID-card evaluation's synthetic photos: the same card on every run, inside the frame,
and the overlap measure that decides whether the finder found it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from proctor.eval.id_card import CARD_HEIGHT, CARD_WIDTH, draw_card, overlap, photograph, rng_for
from proctor.geometry.card import CardQuad, order_corners
from tests.helpers import photo


def test_a_synthetic_card_photo_is_reproducible_and_inside_the_frame(
    identities_dir: Path,
) -> None:
    face = photo(identities_dir, "Mike_Weir", 2)
    background = np.full((480, 640, 3), 90, np.uint8)
    shots = []
    for _ in range(2):
        rng = rng_for("Mike_Weir_0002.jpg")
        card = draw_card(face, "Mike_Weir", rng)
        assert card.shape == (CARD_HEIGHT, CARD_WIDTH, 3)
        shots.append(photograph(card, background, rng))
    (first, corners), (second, again) = shots
    assert np.array_equal(first, second) and np.array_equal(corners, again)
    assert (corners >= 0).all() and (corners[:, 0] < 640).all() and (corners[:, 1] < 480).all()


def test_overlap_is_one_on_the_truth_and_zero_without_an_outline() -> None:
    truth = np.float32([[10, 10], [170, 10], [170, 110], [10, 110]])
    assert overlap(CardQuad(order_corners(truth), 0.1, 1.6), truth) == 1.0
    assert overlap(None, truth) == 0.0
    half = np.float32([[10, 10], [90, 10], [90, 110], [10, 110]])
    assert abs(overlap(CardQuad(half, 0.05, 0.8), truth) - 0.5) < 1e-6
