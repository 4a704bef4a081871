"""The spoof evaluation's data: split by subject, every source on both sides."""

from __future__ import annotations

from pathlib import Path

from proctor.eval.spoof import desk_frames, frames_source, spoof_crops, spoof_frames


def test_frames_are_split_by_subject_with_every_source_on_both_sides(eval_dir: Path) -> None:
    frames = spoof_frames(eval_dir) + desk_frames(eval_dir)
    sides = {f.label["subject"]: f.split for f in frames}
    assert all(sides[f.label["subject"]] == f.split for f in frames)
    for split in ("tune", "report"):
        chosen = [f for f in frames if f.split == split]
        assert {frames_source(f.label) for f in chosen} == {"nuaa", "msu", "desk"}
        attacks = {f.label["attack"] for f in chosen if f.label["label"] == "spoof"}
        assert attacks == {"print", "replay"}


def test_crops_are_split_by_repository(eval_dir: Path) -> None:
    crops = spoof_crops(eval_dir)
    sides = {c.label["subject"]: c.split for c in crops}
    assert set(sides.values()) == {"tune", "report"}
    assert all(sides[c.label["subject"]] == c.split for c in crops)
