"""Rates with their 95 % intervals, and the rule that calls a difference a tie.

Every rate the evaluations print carries its count and its Wilson score interval (good at
small counts and at rates near 0 or 1, where the normal approximation fails). A statistic
that is not a proportion (an AP, a mean error) gets a percentile bootstrap interval over the
independent units it was measured on (people, source frames, images). Two figures whose
intervals overlap are a tie.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

Z95 = 1.959963984540054
UnitT = TypeVar("UnitT")


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of ``k`` successes in ``n`` trials (``(nan, nan)`` when n = 0)."""
    if n <= 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n``, with its 95 % Wilson interval."""

    k: int
    n: int

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def percent(self, digits: int = 1) -> str:
        """``25.0% (3/12; 8.9-53.2%)``."""
        if not self.n:
            return "n/a (0/0)"
        low, high = self.interval
        return (
            f"{100 * self.value:.{digits}f}% ({self.k}/{self.n}; "
            f"{100 * low:.{digits}f}-{100 * high:.{digits}f}%)"
        )

    def __str__(self) -> str:
        return self.percent()


@dataclass(frozen=True)
class Estimate:
    """A statistic with a 95 % interval (from ``bootstrap``) and the units it rests on."""

    value: float
    low: float
    high: float
    units: int

    def format(self, digits: int = 3, units: bool = True) -> str:
        """``8.73 (7.90-9.61, 3 units)``; ``units=False`` where a table has a units column."""
        if math.isnan(self.value):
            return "n/a"
        count = f", {self.units} units" if units else ""
        return f"{self.value:.{digits}f} ({self.low:.{digits}f}-{self.high:.{digits}f}{count})"

    def __str__(self) -> str:
        return self.format()


def bootstrap(
    units: Sequence[UnitT],
    statistic: Callable[[Sequence[UnitT]], float],
    *,
    resamples: int = 1000,
    seed: int = 20261129,
) -> Estimate:
    """``statistic`` of ``units`` with a 95 % percentile interval from resampling the units
    (each unit is independent: a person, a source frame, an image)."""
    value = statistic(units)
    if len(units) < 2:
        return Estimate(value, math.nan, math.nan, len(units))
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        picked = rng.integers(0, len(units), len(units))
        result = statistic([units[i] for i in picked])
        if not math.isnan(result):
            draws.append(result)
    if not draws:
        return Estimate(value, math.nan, math.nan, len(units))
    low, high = np.percentile(draws, [2.5, 97.5])
    return Estimate(value, float(low), float(high), len(units))


def by_units(
    groups: Mapping[str, np.ndarray],
    statistic: Callable[[np.ndarray], float] = np.mean,
) -> Estimate:
    """``statistic`` of every unit's values pooled (``np.concatenate``), with the interval
    from resampling the units: a mean error over a person's many images, or a slope over
    (label, measured) rows, without pretending the images are independent."""
    names = sorted(groups)

    def pooled(chosen: Sequence[str]) -> float:
        values = [groups[name] for name in chosen if len(groups[name])]
        return float(statistic(np.concatenate(values))) if values else math.nan

    return bootstrap(names, pooled)


def tie(a: Rate | Estimate, b: Rate | Estimate) -> bool:
    """True when the two 95 % intervals overlap: the difference is not established."""
    a_low, a_high = a.interval if isinstance(a, Rate) else (a.low, a.high)
    b_low, b_high = b.interval if isinstance(b, Rate) else (b.low, b.high)
    return a_low <= b_high and b_low <= a_high
