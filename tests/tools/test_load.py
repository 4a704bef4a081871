"""A short run of the load command (``python -m tools.load``: 4 clients for 5 s instead of 16
for 60): a real server on loopback answers every real desk frame, with no error; a refusal
with ``Retry-After`` is waited out and retried, as the long run does."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FACE_MODELS, MODELS_DIR, require_models
from tools.load import RSS_POINTS, failures, run


def test_a_short_load_has_no_errors(eval_dir: Path, tmp_path: Path) -> None:
    require_models(*FACE_MODELS)
    report = run(eval_dir, MODELS_DIR, tmp_path, clients=4, seconds=5)
    assert report["errors_by_status"] == {}
    assert report["ok"] > 0
    assert report["requests"] == report["ok"] + report["refused"]
    assert len(report["rss_mb_at"]) == len(RSS_POINTS)
    assert failures(report, max_rss_growth_mb=float("inf")) == []
