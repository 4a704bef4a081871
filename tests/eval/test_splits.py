"""Tune/report splits: deterministic, balanced, whole units on one side."""

from __future__ import annotations

import pytest

from proctor.eval.splits import assign, split_by_group, split_items


@pytest.mark.parametrize("count", [1, 2, 7, 13, 40])
def test_assign_is_balanced(count: int) -> None:
    sides = list(assign(f"unit{i}" for i in range(count)).values())
    assert abs(sides.count("tune") - sides.count("report")) <= 1


def test_assign_depends_on_the_names_only() -> None:
    names = [f"person{i:02d}" for i in range(20)]
    first = assign(names)
    assert assign(reversed(names)) == first
    assert assign(names + names[:5]) == first  # repeats are one unit
    assert set(first) == set(names)


def test_split_items_keeps_every_unit_on_one_side() -> None:
    items = [(f"p{i % 9}", i) for i in range(60)]
    sides = split_items(items, lambda item: item[0])
    tune = {unit for unit, _ in sides["tune"]}
    report = {unit for unit, _ in sides["report"]}
    assert not tune & report
    assert tune | report == {f"p{i}" for i in range(9)}
    assert sorted(sides["tune"] + sides["report"]) == sorted(items)


def test_split_by_group_splits_each_group_on_its_own() -> None:
    items = [("a", f"person{i % 7}") for i in range(70)] + [("b", f"image{i}") for i in range(13)]
    sides = split_by_group(items, lambda item: item[1], lambda item: item[0])
    for group, units in (("a", 7), ("b", 13)):
        tune = {u for g, u in sides["tune"] if g == group}
        report = {u for g, u in sides["report"] if g == group}
        assert not tune & report
        assert {len(tune), len(report)} == {units // 2, units - units // 2}
