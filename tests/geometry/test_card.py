"""The card finder on a SYNTHETIC card (real LFW photo on an OpenCV layout) in a real desk
frame, and the corner order the perspective correction relies on."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from proctor.eval.id_card import desk_frames, draw_card, overlap, photograph, rng_for
from proctor.geometry.card import CARD_ASPECT, find_card, order_corners, rectify
from proctor.settings import IdCardSettings
from tests.helpers import photo


def test_corners_come_out_clockwise_from_the_cards_top_left() -> None:
    rectangle = np.float32([[0, 0], [160, 0], [160, 100], [0, 100]])
    angle = np.deg2rad(30)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    turned = (rectangle @ rotation.T).astype(np.float32)
    shuffled = turned[[2, 0, 3, 1]]
    assert np.allclose(order_corners(shuffled), turned)


def test_a_card_held_up_in_a_real_frame_is_found_and_flattened(eval_dir: Path) -> None:
    rng = rng_for("Julianne_Moore_0003.jpg")
    face = photo(eval_dir / "faces" / "identities", "Julianne_Moore", 3)
    card = draw_card(face, "Julianne_Moore", rng)
    background = cv2.imread(str(desk_frames(eval_dir)[0][1]))
    image, corners = photograph(card, background, rng)
    options = IdCardSettings()
    found = find_card(
        image, options.aspect_tolerance, options.min_area_fraction, options.min_edge_support
    )
    assert overlap(found, corners) >= 0.8
    assert found is not None
    flat = rectify(image, found, 428)
    assert flat.shape == (round(428 / CARD_ASPECT), 428, 3)
    assert (
        find_card(
            background,
            options.aspect_tolerance,
            options.min_area_fraction,
            options.min_edge_support,
        )
        is None
    )
