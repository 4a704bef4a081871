"""Wilson intervals, the bootstrap over units and the tie rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proctor.eval.stats import Estimate, Rate, bootstrap, by_units, tie, wilson


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (3, 12, 0.0889, 0.5323),  # 25.0% (3/12; 8.9-53.2%)
        (0, 10, 0.0, 0.2775),  # no successes: the interval still reaches 28 %
        (10, 10, 0.7225, 1.0),
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_wilson_known_values(k: int, n: int, low: float, high: float) -> None:
    assert wilson(k, n) == pytest.approx((low, high), abs=1e-4)


def test_wilson_of_nothing_is_undefined() -> None:
    assert all(math.isnan(v) for v in wilson(0, 0))
    assert Rate(0, 0).percent() == "n/a (0/0)"


def test_rate_prints_value_count_and_interval() -> None:
    assert str(Rate(3, 12)) == "25.0% (3/12; 8.9-53.2%)"
    assert Rate(1, 6).percent(0) == "17% (1/6; 3-56%)"


def test_bootstrap_is_deterministic_and_brackets_the_value() -> None:
    rng = np.random.default_rng(5)
    units = list(rng.normal(10.0, 2.0, size=30))
    first = bootstrap(units, np.mean)
    assert first == bootstrap(units, np.mean)  # fixed seed: the same interval every run
    assert first.value == pytest.approx(np.mean(units))
    assert first.low < first.value < first.high
    assert first.units == 30
    assert bootstrap(units, np.mean, seed=1) != first


def test_bootstrap_needs_two_units_for_an_interval() -> None:
    alone = bootstrap([4.0], np.mean)
    assert alone.value == 4.0 and math.isnan(alone.low) and math.isnan(alone.high)


def test_by_units_pools_values_but_resamples_units() -> None:
    groups = {"a": np.array([1.0, 1.0, 1.0, 1.0]), "b": np.array([3.0]), "c": np.array([2.0])}
    estimate = by_units(groups)
    assert estimate.value == pytest.approx(np.mean([1, 1, 1, 1, 3, 2]))
    assert estimate.units == 3
    # Every resample is a mix of whole units: its mean lies between the unit means.
    assert 1.0 <= estimate.low <= estimate.high <= 3.0
    assert by_units(groups, np.median).value == pytest.approx(1.0)


def test_tie_when_intervals_overlap() -> None:
    assert tie(Rate(3, 12), Rate(6, 12))
    assert not tie(Rate(1, 100), Rate(60, 100))
    assert tie(Estimate(1.0, 0.5, 1.5, 3), Estimate(1.4, 1.2, 2.0, 3))
    assert not tie(Estimate(1.0, 0.5, 1.1, 3), Estimate(1.4, 1.2, 2.0, 3))
    assert tie(Rate(2, 10), Estimate(0.3, 0.25, 0.4, 5))


def test_estimate_formats_with_or_without_units() -> None:
    estimate = Estimate(8.7312, 7.9, 9.61, 3)
    assert estimate.format(2) == "8.73 (7.90-9.61, 3 units)"
    assert estimate.format(1, units=False) == "8.7 (7.9-9.6)"
    assert Estimate(math.nan, math.nan, math.nan, 0).format() == "n/a"
