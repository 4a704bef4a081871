"""The admission gate: a bounded number of frames run, a bounded number wait, the rest are
refused at once; through the API the refusal is a 503 ``overloaded`` with Retry-After."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from proctor.admission import AdmissionGate
from proctor.api.main import create_app
from proctor.errors import OverloadedError
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, local_client, photo


def test_workers_run_the_queue_waits_and_the_rest_is_refused() -> None:
    gate = AdmissionGate(workers=1, queue=1, retry_after_s=2.5)
    release = threading.Event()
    inside = threading.Event()

    def hold() -> None:
        with gate.slot():
            inside.set()
            release.wait(10)

    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(hold)
        assert inside.wait(10)
        waiting = pool.submit(hold)  # waits for the worker
        while gate.admitted < 2:
            threading.Event().wait(0.01)
        with pytest.raises(OverloadedError) as refused, gate.slot():
            pass
        assert refused.value.retry_after_s == 2.5 and refused.value.code == "overloaded"
        release.set()
        running.result(10)
        waiting.result(10)
    assert gate.admitted == 0
    with gate.slot():  # free again
        assert gate.admitted == 1


def test_a_failing_analysis_gives_its_slot_back() -> None:
    gate = AdmissionGate(workers=1, queue=0, retry_after_s=1)
    with pytest.raises(ValueError), gate.slot():
        raise ValueError("the frame failed")
    with gate.slot():
        assert gate.admitted == 1


def test_an_overloaded_service_answers_503_with_retry_after(
    tmp_path: Path, identities_dir: Path
) -> None:
    require_models(*FACE_MODELS)
    settings = make_settings(
        tmp_path, analyzers=["faces"], analysis_workers=1, analysis_queue=0, retry_after_s=3
    )
    frame = jpeg(in_webcam_frame(photo(identities_dir, "Tom_Cruise", 2)))
    with local_client(create_app(settings)) as client:
        gate = client.app.state.services.admission  # type: ignore[attr-defined]
        with gate.slot():  # the one worker is busy
            assert client.get("/health").json()["admission"] == {
                "workers": 1,
                "queue": 0,
                "admitted": 1,
            }
            answer = client.post("/analyze_frame", files={"file": ("f.jpg", frame, "image/jpeg")})
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "3"
        assert answer.json()["code"] == "overloaded"
        again = client.post("/analyze_frame", files={"file": ("f.jpg", frame, "image/jpeg")})
        assert again.status_code == 200 and len(again.json()["faces"]) == 1
