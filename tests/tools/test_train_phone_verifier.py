"""The rules the phone verifier's training applies to its out-of-fold scores."""

from __future__ import annotations

from tools.train_phone_verifier import choose_look, choose_point


def rates(phone: float, lookalike: float, plain: float) -> dict[str, float]:
    return {"phone": phone, "lookalike": lookalike, "plain": plain}


def test_the_point_with_most_recall_within_both_goals_is_chosen() -> None:
    points = [
        (0.05, 0.5, rates(0.9, 0.30, 0.05)),  # most recall, over both goals
        (0.10, 0.6, rates(0.5, 0.08, 0.01)),  # within: chosen
        (0.25, 0.9, rates(0.2, 0.01, 0.00)),  # within, less recall
    ]
    assert choose_point(points) == (0.10, 0.6)


def test_a_tie_in_recall_goes_to_the_higher_threshold() -> None:
    points = [(0.1, 0.6, rates(0.5, 0.05, 0.0)), (0.1, 0.7, rates(0.5, 0.02, 0.0))]
    assert choose_point(points) == (0.1, 0.7)


def test_with_no_point_within_the_goals_the_least_excess_wins() -> None:
    points = [
        (0.05, 0.5, rates(0.9, 0.50, 0.20)),  # 0.9 - 0.4 - 0.19 = 0.31
        (0.25, 0.8, rates(0.4, 0.12, 0.02)),  # 0.4 - 0.02 - 0.01 = 0.37: chosen
    ]
    assert choose_point(points) == (0.25, 0.8)


def test_the_second_look_must_beat_the_frame_beyond_the_intervals() -> None:
    tied = {
        "frame": {"tune_oof": rates(0.19, 0, 0)},
        "second_look": {"tune_oof": rates(0.25, 0, 0)},
    }
    assert choose_look(tied, 121) is False
    better = {
        "frame": {"tune_oof": rates(0.2, 0, 0)},
        "second_look": {"tune_oof": rates(0.6, 0, 0)},
    }
    assert choose_look(better, 121) is True
