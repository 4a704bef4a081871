"""The pose evaluation: its splits, the alert-limit rule, and that the shipped limits are what
the rule picks on the tune persons (real images, real models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proctor.eval.data import headpose_images, headpose_split
from proctor.eval.pose import (
    LIMIT_GRID,
    at_screen,
    choose_limits,
    load_pipeline,
    measure_all,
    smallest_limit,
    turned_pose,
)
from proctor.geometry.pose import HeadPose
from proctor.settings import GazeSettings, HeadPoseSettings
from tests.analyzers.mesh_pipeline import MODELS
from tests.conftest import MODELS_DIR, require_models


def test_limit_is_the_smallest_grid_value_the_faces_stay_within() -> None:
    assert smallest_limit([3.0, 12.5, 27.1]) == 30.0
    assert smallest_limit([3.0, 12.5, 30.0]) == 30.0  # alerts fire beyond the limit, not at it
    assert smallest_limit([]) == LIMIT_GRID[0]
    # 1 % of 150 faces (one) may exceed it: a single outlier is let through, two are not.
    assert smallest_limit([4.0] * 149 + [60.0]) == 5.0
    assert smallest_limit([4.0] * 148 + [60.0, 61.0]) == 60.0


def test_headpose_split_by_person_and_by_aflw_image(eval_dir: Path) -> None:
    sides = headpose_split(headpose_images(eval_dir))
    units = {side: {x.unit for x in images} for side, images in sides.items()}
    assert not units["tune"] & units["report"]
    for side in ("tune", "report"):
        datasets = {x.dataset for x in sides[side]}
        assert datasets == {"pointing04", "aflw2000-3d"}
        persons = {x.unit for x in sides[side] if x.dataset == "pointing04"}
        assert len(persons) in (3, 4)
        assert all(x.unit == x.name for x in sides[side] if x.dataset == "aflw2000-3d")


def test_labels_are_mapped_to_the_api_signs(eval_dir: Path) -> None:
    labels = json.loads((eval_dir / "headpose" / "labels.json").read_text())
    for image in headpose_images(eval_dir):
        label = labels[image.name]
        assert image.truth == (-label["yaw"], label["pitch"], label["roll"])


def test_turning_a_frontal_image_is_a_pure_roll() -> None:
    after = turned_pose(HeadPose(0.0, 0.0, 0.0), 15.0)
    assert (after.yaw_deg, after.pitch_deg, after.roll_deg) == pytest.approx((0, 0, 15))


def test_shipped_limits_are_the_rule_on_the_tune_persons(eval_dir: Path) -> None:
    require_models(*MODELS)
    tune = [x for x in headpose_split(headpose_images(eval_dir))["tune"] if at_screen(x)]
    assert len(tune) == 72  # 4 persons x 2 series x 3 yaws x 3 pitches
    chosen = choose_limits(tune, measure_all(load_pipeline(MODELS_DIR), tune))
    shipped = {"head_pose": HeadPoseSettings().model_dump(), "gaze": GazeSettings().model_dump()}
    for section, limits in chosen.items():
        for name, value in limits.items():
            assert shipped[section][name] == value, f"{section}.{name}"
