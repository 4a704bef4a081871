"""The held-up phone evaluation decides each frame as ``/analyze_frame`` does, and deals its
sources by person, recording or image."""

from __future__ import annotations

import json
from pathlib import Path

from proctor.analyzers.objects import VERIFIER_MODEL
from proctor.api.main import create_app
from proctor.eval.phone import (
    APPROACHES,
    VERIFY_FLOOR,
    approach_rules,
    observe,
    phone_pipeline,
    reports_phone,
    shipped,
)
from proctor.eval.phone_data import KINDS, REPORT_ONLY, phone_frames, shared_frames
from proctor.settings import ObjectsSettings
from tests.conftest import FACE_MODELS, MODELS_DIR, make_settings, require_models
from tests.helpers import local_client


def test_the_shared_sets_give_every_kind_on_both_sides(eval_dir: Path) -> None:
    frames = shared_frames(eval_dir)
    for side in ("tune", "report"):
        kinds = {f.kind for f in frames if f.side == side}
        assert kinds == set(KINDS), side
    # A unit (a frame block, a person, an image) never straddles the split.
    sides: dict[str, set[str]] = {}
    for frame in frames:
        sides.setdefault(frame.image.unit, set()).add(frame.side)
    assert all(len(s) == 1 for s in sides.values())
    exam = [f for f in frames if f.source == "exam_objects"]
    assert sum(f.kind == "phone" for f in exam) == 56 and len(exam) == 195


def test_the_report_only_sources_never_reach_tune(tmp_path: Path, eval_dir: Path) -> None:
    data = tmp_path / "data"
    for source in (*REPORT_ONLY, "other_source"):
        (data / source / "images").mkdir(parents=True)
        images = [
            {"file": f"images/{n}.jpg", "group": f"g{n}", "kind": "lookalike", "boxes": []}
            for n in range(6)
        ]
        (data / source / "labels.json").write_text(json.dumps({"source": {}, "images": images}))
    frames = [f for f in phone_frames(eval_dir, data) if f.source in (*REPORT_ONLY, "other_source")]
    assert {f.side for f in frames if f.source in REPORT_ONLY} == {"report"}
    assert {f.side for f in frames if f.source == "other_source"} == {"tune", "report"}


def test_the_shipped_approach_is_what_the_settings_run() -> None:
    default = shipped()
    assert default.verifier and default.second_look == ObjectsSettings().second_look
    assert default in APPROACHES


def test_the_eval_decides_a_phone_as_analyze_frame_does(eval_dir: Path, tmp_path: Path) -> None:
    require_models(*FACE_MODELS, "object_detection_nanodet", VERIFIER_MODEL)
    exam = [f for f in shared_frames(eval_dir) if f.source == "exam_objects"]
    chosen = [f for f in exam if f.kind == "phone"][:6] + [f for f in exam if f.kind != "phone"][:6]
    pipeline = phone_pipeline(MODELS_DIR, phone_floor=VERIFY_FLOOR, hands=False)
    seen = observe(chosen, pipeline)
    default = shipped()
    rules = approach_rules(pipeline.get("objects").rules, default)  # type: ignore[union-attr]
    decided = [reports_phone(s, rules, default) for s in seen]
    settings = make_settings(tmp_path, analyzers=["faces", "objects"])
    with local_client(create_app(settings)) as client:
        for frame, phone in zip(chosen, decided, strict=True):
            files = {"file": ("frame.jpg", frame.image.path.read_bytes())}
            api = client.post("/analyze_frame", files=files).json()
            assert phone == ("cell phone" in api["banned_objects"]), frame.image.path
    assert len(set(decided)) == 2  # the comparison has teeth: phones reported and not
