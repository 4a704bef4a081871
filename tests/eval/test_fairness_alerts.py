"""The clean-frame alert part of the fairness evaluation: its counting, and a short real run."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from proctor.eval.fairness_alerts import (
    SPOOF,
    Probe,
    banned_counts,
    code_counts,
    code_table,
    composite_probes,
    desk_folders,
    desk_probes,
    frame_rate,
    in_attempt,
    person_rate,
    report,
    room_notes,
    worst_group,
)
from proctor.eval.fairness_data import fairness_photos, fairness_split, room_backgrounds
from proctor.eval.stats import Rate
from proctor.services import build_pipeline
from proctor.settings import Settings
from tests.conftest import MODELS_DIR

NO_SPOOF = frozenset({SPOOF})

PROBES = [
    Probe("a1", "Asian", "report", ()),
    Probe("a2", "Asian", "report", (SPOOF,)),
    Probe("a3", "Asian", "report", ()),
    Probe("b1", "Black", "report", ("GAZE_AWAY", "HEAD_TURNED")),
    Probe("b2", "Black", "report", (SPOOF, "GAZE_AWAY")),
    Probe("w1", "White", "report", ()),
]


def test_frame_rate_counts_frames_with_any_alert_and_can_leave_codes_out() -> None:
    assert frame_rate(PROBES) == Rate(3, 6)
    assert frame_rate(PROBES, NO_SPOOF) == Rate(2, 6)
    assert frame_rate([]) == Rate(0, 0)


def test_person_rate_counts_a_person_once_whatever_their_frames() -> None:
    desk = [
        Probe("p", "desk", "report", ()),
        Probe("p", "desk", "report", ("NO_FACE",)),
        Probe("p", "desk", "report", ("NO_FACE",)),
        Probe("q", "desk", "tune", ()),
    ]
    assert person_rate(desk) == Rate(1, 2)
    assert person_rate(desk, frozenset({"NO_FACE"})) == Rate(0, 2)


def test_code_counts_count_frames_not_alerts() -> None:
    twice = Probe("x", "g", "report", ("BANNED_OBJECT", "BANNED_OBJECT"))
    assert code_counts([*PROBES, twice]) == Counter(
        {SPOOF: 2, "GAZE_AWAY": 2, "HEAD_TURNED": 1, "BANNED_OBJECT": 1}
    )


def test_banned_classes_and_the_rooms_they_fired_in() -> None:
    probes = [
        Probe("a", "g", "report", ("BANNED_OBJECT",), ("tv", "tv", "book"), "3"),
        Probe("b", "g", "report", ("BANNED_OBJECT",), ("tv",), "3"),
        Probe("c", "g", "report", (), (), "3"),
        Probe("d", "g", "report", ("BANNED_OBJECT",), ("cell phone",), "7"),
        Probe("e", "g", "report", (), (), "9"),
    ]
    assert banned_counts(probes) == Counter({"tv": 2, "book": 1, "cell phone": 1})
    (note,) = room_notes(probes)
    assert "tv 2, book 1, cell phone 1" in note
    assert "over 2 of the 3 rooms" in note
    assert "room 3: 2 of 3 frames, room 7: 1 of 1 frames" in note
    assert room_notes(probes[2:3]) == ["BANNED_OBJECT did not fire on any composite."]


def test_worst_group_with_and_without_the_spoof_check() -> None:
    assert worst_group(PROBES) == ("Black", Rate(2, 2))
    assert worst_group(PROBES, NO_SPOOF) == ("Black", Rate(2, 2))
    spoof_only = [p for p in PROBES if p.group != "Black"]
    assert worst_group(spoof_only) == ("Asian", Rate(1, 3))
    assert worst_group(spoof_only, NO_SPOOF) == ("Asian", Rate(0, 3))  # tie: by name


def test_code_table_has_a_column_per_group_and_a_row_per_code() -> None:
    rows = code_table(PROBES)
    assert rows[0] == "| code | Asian (n=3) | Black (n=2) | White (n=1) | ALL (n=6) |"
    assert f"| {SPOOF} | 1 | 1 | 0 | 2 |" in rows
    assert "| HEAD_TURNED | 0 | 1 | 0 | 1 |" in rows
    assert code_table(PROBES[:1]) == ["No alert fired on any frame."]


def test_report_summary_rows_are_four_table_rows() -> None:
    desk = [
        Probe("owner__repo__secret", "desk", "report", ("NO_FACE",)),
        Probe("owner__repo__other", "desk", "tune", ()),
    ]
    calm = [replace(p, codes=()) for p in desk]
    out = report(PROBES, Counter({"White": 1}), desk, calm, 0, ["faces", "spoof"], (20, 32))
    rows = out.summary.splitlines()
    assert len(rows) == 4
    for row in rows:  # | figure | split | value (95% interval) |
        assert row.startswith("| ") and row.endswith(" |") and row.count(" | ") == 2
    assert "(Black; UTKFace in rooms)" in rows[0]
    assert "100.0% (2/2;" in rows[0]
    assert "100.0% (1/1;" in rows[2]
    assert "0.0% (0/1;" in rows[3]  # in an attempt
    assert "20 of 32" in out.details
    assert "| White | 1 | 1 |" in out.details  # one enrolled, one not
    assert "desk person 1 | report" in out.details
    assert "owner__repo" not in out.details  # desk folder names (private people): not printed


def test_the_section_machinery_on_a_few_real_images(eval_dir: Path) -> None:
    settings = Settings(models_dir=MODELS_DIR)
    pipeline = build_pipeline(settings)
    missing = [name for name in settings.analyzers if pipeline.get(name) is None]
    if missing:
        pytest.skip(f"default analyzers not loaded: {missing}")
    photos = fairness_split(fairness_photos(eval_dir))["report"]
    few = [next(p for p in photos if p.group == g) for g in ("Black", "White")]
    composites, not_enrolled = composite_probes(pipeline, few, room_backgrounds(eval_dir))
    assert sum(not_enrolled.values()) + len(composites) == 2
    assert {p.group for p in composites} <= {"Black", "White"}
    for probe in composites:  # enrolled from its own crop and claimed: identity agrees
        assert "FACE_MISMATCH" not in probe.codes and "UNKNOWN_PERSON" not in probe.codes
    folders = desk_folders(eval_dir)
    assert len(folders) == 29
    desk, desk_not_enrolled = desk_probes(pipeline, folders[:2])
    assert desk_not_enrolled == 0
    assert {p.person for p in desk} == {f.name for f in folders[:2]}
    frames = sum(len(list(f.glob("*.jpg"))) for f in folders[:2])
    assert len(desk) == frames - 2  # one enrollment frame per person
    attempt = in_attempt(pipeline, desk)
    assert [p.person for p in attempt] == [p.person for p in desk]
    # Judged from a neutral, only the pose and gaze codes may change; the rest stay.
    pose_codes = {"HEAD_TURNED", "LOOKING_DOWN", "LOOKING_UP", "GAZE_AWAY", "FACE_OCCLUDED"}
    for alone, judged in zip(desk, attempt, strict=True):
        assert set(judged.codes) - pose_codes == set(alone.codes) - pose_codes
    out = report(
        composites, not_enrolled, desk, attempt, desk_not_enrolled, settings.analyzers, (1, 1)
    )
    assert len(out.summary.splitlines()) == 4
    assert "### Clean-frame alerts per group" in out.details
