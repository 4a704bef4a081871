"""The attempt's risk score: 0-100, monotone, bounded, explained per alert code.

Each incident ``i`` is a probability-like weight
``p_i = w(code) * q_i * (1 - exp(-d_i / tau(code)))``: ``w`` says how much the code alone says
about cheating, ``tau`` how long it must last to say it fully, ``d_i`` is the incident's
duration plus one frame interval (an incident is at least one frame long), and
``q_i = min(1, peak confidence / full confidence)``. The score is ``100 * (1 - prod(1 - p_i))``:
another incident, a longer one or a more confident one can only raise it, and it only approaches
100. Each code's share of the score is proportional to its ``-log(1 - p_i)`` sum, so the
breakdown adds up to the score. Dismissed incidents drop out of the reviewed score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Added to every incident's duration: it stands for the frame interval its last frame covers.
MIN_DURATION_S = 2.0


@dataclass(frozen=True)
class CodeWeight:
    weight: float  # 0..1: how much a full, long incident of this code alone says
    tau_s: float  # seconds after which 63 % of the weight is reached


@dataclass(frozen=True)
class Scored:
    code: str
    duration_s: float
    peak_confidence: float
    full_confidence: float


@dataclass(frozen=True)
class Risk:
    score: float
    breakdown: dict[str, float]  # code -> points; the points add up to the score


def incident_weight(item: Scored, weight: CodeWeight) -> float:
    duration = max(0.0, item.duration_s) + MIN_DURATION_S
    quality = min(1.0, item.peak_confidence / item.full_confidence) if item.full_confidence else 1
    return weight.weight * quality * (1.0 - math.exp(-duration / weight.tau_s))


def risk_score(items: Iterable[Scored], weights: Mapping[str, CodeWeight]) -> Risk:
    """The score of these incidents (codes without a weight count for nothing)."""
    evidence: dict[str, float] = {}
    for item in items:
        weight = weights.get(item.code)
        if weight is None:
            continue
        p = min(incident_weight(item, weight), 0.999999)
        evidence[item.code] = evidence.get(item.code, 0.0) - math.log1p(-p)
    total = sum(evidence.values())
    score = 100.0 * (1.0 - math.exp(-total))
    breakdown = {
        code: round(score * value / total, 2) if total else 0.0
        for code, value in sorted(evidence.items(), key=lambda kv: -kv[1])
    }
    return Risk(round(score, 2), breakdown)
