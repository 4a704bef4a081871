"""Tuning and report splits: every default an evaluation chooses is chosen on ``tune`` and
reported on ``report``.

A split is made of whole units, the thing that makes samples dependent: a person for
faces and head pose, a block of ten consecutive webcam frames for exam_objects (augmented
copies of a frame are the same frame), a pseudo-identity for fairness, an image for COCO.
Units are ordered by a salted SHA-1 of their name and dealt alternately, so the halves
differ by at most one unit even when there are only seven, and the assignment never
depends on the order files are listed in or on anything measured. Items from data sets with
different units (Pointing'04 people and AFLW2000 images) are split one data set at a time
(``split_by_group``), so each side gets its share of every data set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Literal, TypeVar

Split = Literal["tune", "report"]
SPLITS: tuple[Split, Split] = ("tune", "report")
SALT = "proctor-split-2026"
ItemT = TypeVar("ItemT")


def _key(unit: str) -> str:
    return hashlib.sha1(f"{SALT}:{unit}".encode()).hexdigest()


def assign(units: Iterable[str]) -> dict[str, Split]:
    """Each distinct unit's split: sorted by hash, dealt tune, report, tune, ..."""
    ordered = sorted(set(units), key=_key)
    return {unit: SPLITS[i % 2] for i, unit in enumerate(ordered)}


def split_items(items: list[ItemT], unit_of: Callable[[ItemT], str]) -> dict[Split, list[ItemT]]:
    """``items`` divided by the split of their unit (every item of a unit on one side)."""
    sides = assign(unit_of(item) for item in items)
    out: dict[Split, list[ItemT]] = {"tune": [], "report": []}
    for item in items:
        out[sides[unit_of(item)]].append(item)
    return out


def split_by_group(
    items: list[ItemT], unit_of: Callable[[ItemT], str], group_of: Callable[[ItemT], str]
) -> dict[Split, list[ItemT]]:
    """``split_items`` within each group (a data set) on its own: dealing the units of all
    groups together could leave one side with none of a small group."""
    out: dict[Split, list[ItemT]] = {"tune": [], "report": []}
    for group in sorted({group_of(item) for item in items}):
        sides = split_items([item for item in items if group_of(item) == group], unit_of)
        for side in SPLITS:
            out[side] += sides[side]
    return out
