"""The liveness challenge through the API: tokens refused with their codes (forged, expired,
answered twice), frame counts, and verdicts on bursts built from real Pointing'04 photos the
way ``python -m proctor.eval liveness`` builds them (real head turns; synthetic blink and
mouth edits of the frontal photo)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from proctor.api.main import body_limits, create_app
from proctor.eval.data import headpose_images
from proctor.eval.liveness import (
    Series,
    genuine_frames,
    moved_frames,
    pointing04_series,
    static_frames,
)
from proctor.liveness.service import LivenessService
from proctor.liveness.tokens import ACTIONS
from tests.conftest import FACE_MODELS, NOBODY, make_settings, require_models
from tests.helpers import jpeg, local_client

#: A person and photo series whose frames the passive check takes for live (see the eval:
#: it calls some of Pointing'04's studio photos spoof, which would fail any burst of them).
PERSON, OTHER = "pointing04_person07", "pointing04_person01"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    require_models(*FACE_MODELS)
    settings = make_settings(tmp_path_factory.mktemp("liveness"))
    with local_client(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def series(client: TestClient, eval_dir: Path) -> dict[str, Series]:
    wanted = [
        x for x in headpose_images(eval_dir) if x.unit in (PERSON, OTHER) and x.name[8] == "1"
    ]
    pipeline = client.app.state.services.pipeline  # type: ignore[attr-defined]
    return {s.person: s for s in pointing04_series(wanted, pipeline, NOBODY)}


def liveness(client: TestClient) -> LivenessService:
    return client.app.state.services.liveness  # type: ignore[attr-defined]


def post(
    client: TestClient, token: str, frames: list[np.ndarray], student_id: str | None = None
) -> httpx2.Response:
    files = [("frames", (f"{i}.jpg", jpeg(f), "image/jpeg")) for i, f in enumerate(frames)]
    data = {"token": token} | ({"student_id": student_id} if student_id else {})
    return client.post("/liveness", data=data, files=files)


def challenge(client: TestClient) -> tuple[str, list[str]]:
    response = client.get("/liveness/challenge")
    assert response.status_code == 200, response.text
    body = response.json()
    return body["token"], body["steps"]


def test_a_challenge_asks_three_distinct_actions_and_is_signed(client: TestClient) -> None:
    token, steps = challenge(client)
    assert len(steps) == 3 == len(set(steps)) and set(steps) <= set(ACTIONS)
    assert liveness(client).signer.verify(token, 0.0).steps == tuple(steps)


def test_a_genuine_burst_passes_once_and_its_token_is_then_refused(
    client: TestClient, series: dict[str, Series]
) -> None:
    token, steps = challenge(client)
    frames = genuine_frames(series[PERSON], steps)  # type: ignore[arg-type]
    body = post(client, token, frames).json()
    assert body["passed"], body["reasons"]
    assert body["reasons"] == [] and body["same_face"] is True
    assert [s["action"] for s in body["steps"]] == steps
    peaks = [s["frame"] for s in body["steps"]]
    assert all(s["passed"] for s in body["steps"]) and peaks == sorted(peaks)
    assert body["student_verified"] is None
    again = post(client, token, frames)
    assert again.status_code == 409 and again.json()["code"] == "token_used"
    # The same burst against a new challenge asking another sequence: a replay fails.
    new_token, new_steps = challenge(client)
    while new_steps == steps:  # 1 chance in 24
        new_token, new_steps = challenge(client)
    replayed = post(client, new_token, frames).json()
    assert not replayed["passed"] and replayed["reasons"]


def test_a_photo_turned_in_front_of_the_camera_fails_as_flat(
    client: TestClient, series: dict[str, Series]
) -> None:
    frames = moved_frames(series[PERSON])
    flat = []
    for turn in ("turn_left", "turn_right"):
        token, steps = challenge(client)
        while turn not in steps:  # three actions of four: half the challenges
            token, steps = challenge(client)
        body = post(client, token, frames).json()
        assert not body["passed"]
        # Turning a photo reads as a small turn at most: not seen, or seen and flat.
        mine = [r for r in body["reasons"] if r.startswith(turn)]
        assert mine, body["reasons"]
        flat += [r for r in mine if "flat picture" in r]
    assert flat  # the parallax check itself caught the turned photo at least once


def test_a_static_photo_fails_with_the_steps_not_seen(
    client: TestClient, series: dict[str, Series]
) -> None:
    token, steps = challenge(client)
    body = post(client, token, static_frames(series[PERSON])).json()
    assert not body["passed"]
    assert not any(s["passed"] for s in body["steps"])
    assert any(f"{steps[0]} was not seen" in reason for reason in body["reasons"])


def test_a_burst_spliced_from_two_people_fails(
    client: TestClient, series: dict[str, Series]
) -> None:
    token, steps = challenge(client)
    first = genuine_frames(series[PERSON], steps)
    second = genuine_frames(series[OTHER], steps)
    body = post(client, token, first[:6] + second[6:]).json()
    assert not body["passed"] and body["same_face"] is False
    assert any("spliced" in reason for reason in body["reasons"])


def test_the_claimed_student_is_checked_against_the_burst(
    client: TestClient, series: dict[str, Series]
) -> None:
    for person in (PERSON, OTHER):
        photo = ("f.jpg", jpeg(series[person].photos[0]), "image/jpeg")
        enrolled = client.post(
            "/students", data={"student_id": person[-8:], "name": person}, files={"images": photo}
        )
        assert enrolled.status_code == 201, enrolled.text
    token, steps = challenge(client)
    frames = genuine_frames(series[PERSON], steps)  # type: ignore[arg-type]
    body = post(client, token, frames, student_id=OTHER[-8:]).json()
    assert not body["passed"] and body["student_verified"] is False
    assert any("does not match the claimed student" in r for r in body["reasons"])
    token, steps = challenge(client)
    frames = genuine_frames(series[PERSON], steps)  # type: ignore[arg-type]
    body = post(client, token, frames, student_id=PERSON[-8:]).json()
    assert body["passed"] and body["student_verified"] is True, body["reasons"]


def test_forged_and_expired_tokens_are_refused_with_their_codes(
    client: TestClient, series: dict[str, Series]
) -> None:
    frames = static_frames(series[PERSON])[:5]
    token, _ = challenge(client)
    body, _, signature = token.partition(".")
    forged = f"{body[:-2]}AA.{signature}"
    for bad in (forged, "not-a-token", token + "x"):
        response = post(client, bad, frames)
        assert response.status_code == 400 and response.json()["code"] == "invalid_token"
    expired, _ = liveness(client).signer.issue(now=0.0)  # issued in 1970
    response = post(client, expired, frames)
    assert response.status_code == 410 and response.json()["code"] == "token_expired"


def test_a_wrong_frame_count_is_422_and_leaves_the_token_usable(
    client: TestClient, series: dict[str, Series]
) -> None:
    token, _ = challenge(client)
    frames = static_frames(series[PERSON])
    for count in (4, 61):
        response = post(client, token, (frames * 6)[:count])
        assert response.status_code == 422 and response.json()["code"] == "invalid_burst"
    assert post(client, token, frames[:5]).status_code == 200


def test_the_body_limit_has_room_for_a_burst_of_small_frames(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    limit_for = body_limits(settings)
    burst = settings.liveness.max_frames * settings.liveness.frame_bytes
    assert burst < limit_for("/liveness") < settings.liveness.max_frames * settings.max_upload_bytes
    assert limit_for("/liveness/challenge") < settings.liveness.frame_bytes


def test_a_missing_analyzer_is_a_503_that_does_not_burn_the_token(tmp_path: Path) -> None:
    """Without the face mesh (pose, eyes and mouth) no burst can be judged: 503 with its code,
    and the token stays unanswered, so the same one works once the models are back."""
    require_models(*FACE_MODELS)
    settings = make_settings(tmp_path, analyzers=["faces", "identity"])
    blank = [np.full((480, 640, 3), 90, np.uint8)] * 5
    with local_client(create_app(settings)) as partial:
        token, _ = challenge(partial)
        for _ in range(2):
            answer = post(partial, token, blank)
            assert answer.status_code == 503
            assert answer.json()["code"] == "model_unavailable"
        assert liveness(partial).store.spend(
            liveness(partial).signer.verify(token, 0.0).nonce, 1e12, 0.0
        )  # never spent by the refused answers
