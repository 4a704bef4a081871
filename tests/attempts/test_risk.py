"""The risk score: bounded, monotone, explained."""

from __future__ import annotations

import pytest

from proctor.attempts.risk import CodeWeight, Scored, risk_score

WEIGHTS = {"BANNED_OBJECT": CodeWeight(0.9, 10), "HEAD_TURNED": CodeWeight(0.4, 30)}


def phone(seconds: float, confidence: float = 0.9) -> Scored:
    return Scored("BANNED_OBJECT", seconds, confidence, 0.6)


def test_no_incident_scores_zero_and_scores_stay_below_100() -> None:
    assert risk_score([], WEIGHTS).score == 0
    many = risk_score([phone(600)] * 50, WEIGHTS)
    assert 99 < many.score <= 100


def test_more_longer_and_surer_incidents_never_lower_the_score() -> None:
    base = risk_score([phone(5)], WEIGHTS).score
    assert risk_score([phone(20)], WEIGHTS).score > base
    assert risk_score([phone(5), phone(5)], WEIGHTS).score > base
    assert risk_score([phone(5), Scored("HEAD_TURNED", 5, 1, 1)], WEIGHTS).score > base
    assert risk_score([phone(5, confidence=0.3)], WEIGHTS).score < base


def test_the_breakdown_adds_up_and_unknown_codes_count_for_nothing() -> None:
    risk = risk_score(
        [phone(20), Scored("HEAD_TURNED", 40, 1, 1), Scored("MOUTH_OPEN", 99, 1, 1)], WEIGHTS
    )
    assert set(risk.breakdown) == {"BANNED_OBJECT", "HEAD_TURNED"}
    assert sum(risk.breakdown.values()) == pytest.approx(risk.score, abs=0.02)
    assert risk.breakdown["BANNED_OBJECT"] > risk.breakdown["HEAD_TURNED"]
