"""Who may call what: admin and client keys (X-API-Key or Bearer), the loopback-only default,
open access only when asked for, CORS, and the rate limit per caller.

Only the faces analyzer is loaded: access is decided before any analysis, and the routes it
guards are the same whichever analyzers run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from proctor.api.main import create_app
from tests.conftest import FACE_MODELS, make_settings, require_models
from tests.helpers import local_client

ADMIN, CLIENT = "admin-key-0123456789", "client-key-9876543210"
REMOTE = ("203.0.113.7", 40000)  # TEST-NET-3: not this machine

#: One request per guarded route family: (method, path, what it needs).
ADMIN_ROUTES = [
    ("GET", "/students"),
    ("GET", "/students/nobody"),
    ("DELETE", "/students/nobody"),
    ("GET", "/attempts"),
    ("GET", "/attempts/nothing"),
    ("GET", "/metrics"),
]
CLIENT_ROUTE = ("POST", "/analyze_frame_base64")


def app_with(tmp: Path, **settings: object):
    require_models(*FACE_MODELS)
    return create_app(make_settings(tmp, analyzers=["faces"], **settings))


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    """A service with one admin and one client key, called from another host."""
    app = app_with(tmp_path, admin_keys=f"{ADMIN}, spare-admin", client_keys=CLIENT)
    with TestClient(app, client=REMOTE) as client:
        yield client


def call(client: TestClient, method: str, path: str, key: str | None = None, bearer=False):
    headers = {}
    if key is not None:
        headers = {"Authorization": f"Bearer {key}"} if bearer else {"X-API-Key": key}
    body = {"image": ""} if path == CLIENT_ROUTE[1] else None
    return client.request(method, path, headers=headers, json=body)


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_routes_need_an_admin_key(keyed: TestClient, method: str, path: str) -> None:
    missing = call(keyed, method, path)
    assert missing.status_code == 401 and missing.json()["code"] == "missing_api_key"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = call(keyed, method, path, "admin-key-012345678X")
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_api_key"
    client_key = call(keyed, method, path, CLIENT)
    assert client_key.status_code == 403 and client_key.json()["code"] == "admin_key_required"
    for bearer in (False, True):
        allowed = call(keyed, method, path, ADMIN, bearer=bearer)
        assert allowed.status_code not in (401, 403), allowed.json()


def test_analysis_takes_a_client_or_an_admin_key(keyed: TestClient) -> None:
    method, path = CLIENT_ROUTE
    assert call(keyed, method, path).status_code == 401
    assert call(keyed, method, path, "not-a-key").status_code == 401
    for key in (CLIENT, ADMIN, "spare-admin"):
        for bearer in (False, True):
            answer = call(keyed, method, path, key, bearer=bearer)
            # authorised: the empty image itself is what is refused
            assert answer.status_code == 400 and answer.json()["code"] == "empty_upload"


def test_health_stays_open_and_says_the_mode_without_the_keys(keyed: TestClient) -> None:
    answer = keyed.get("/health")
    assert answer.status_code == 200
    access = answer.json()["access"]
    assert access["mode"] == "keys"
    assert (access["admin_keys"], access["client_keys"]) == (2, 1)
    assert ADMIN not in answer.text and CLIENT not in answer.text


def test_without_keys_only_loopback_is_served(tmp_path: Path) -> None:
    app = app_with(tmp_path)
    with TestClient(app, client=REMOTE) as remote, local_client(app) as local:
        assert local.get("/health").json()["access"]["mode"] == "loopback"
        assert remote.get("/health").status_code == 200
        for method, path in [*ADMIN_ROUTES, CLIENT_ROUTE]:
            refused = call(remote, method, path)
            assert refused.status_code == 403 and refused.json()["code"] == "loopback_only"
            assert call(local, method, path).status_code not in (401, 403)
        # Starlette's default test caller is a name, not an address: not loopback either.
        with TestClient(app) as unnamed:
            assert unnamed.get("/students").json()["code"] == "loopback_only"


def test_open_access_must_be_asked_for_and_yields_to_keys(tmp_path: Path) -> None:
    with TestClient(app_with(tmp_path, open_access=True), client=REMOTE) as remote:
        assert remote.get("/health").json()["access"]["mode"] == "open"
        assert remote.get("/students").status_code == 200
    keyed = app_with(tmp_path, open_access=True, client_keys=CLIENT)
    with TestClient(keyed, client=REMOTE) as remote:
        assert remote.get("/health").json()["access"]["mode"] == "keys"
        assert remote.get("/students").status_code == 401


def test_keys_come_from_comma_separated_environment_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCTOR_ADMIN_KEYS", f" {ADMIN} ,second-admin,")
    monkeypatch.setenv("PROCTOR_CLIENT_KEYS", CLIENT)
    with TestClient(app_with(tmp_path), client=REMOTE) as client:
        assert client.get("/health").json()["access"]["admin_keys"] == 2
        assert call(client, "GET", "/students", "second-admin").status_code == 200
        assert call(client, "GET", "/students", CLIENT).status_code == 403


def test_cors_allows_only_the_listed_origins(tmp_path: Path) -> None:
    """Default: a page opened from disk (Origin: null) only; the app's own pages are
    same-origin. A listed platform origin is allowed, any other site is not."""
    preflight = {"Access-Control-Request-Method": "POST"}
    with local_client(app_with(tmp_path)) as client:
        from_disk = client.options("/students", headers={"Origin": "null", **preflight})
        assert from_disk.headers.get("access-control-allow-origin") == "null"
        elsewhere = client.options("/students", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in elsewhere.headers
        simple = client.get("/students", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers
    listed = app_with(tmp_path, cors_origins=["https://lms.example.edu"])
    with local_client(listed) as client:
        ok = client.options(
            "/analyze_frame",
            headers={
                "Origin": "https://lms.example.edu",
                "Access-Control-Request-Headers": "x-api-key",
                **preflight,
            },
        )
        assert ok.headers["access-control-allow-origin"] == "https://lms.example.edu"
        assert "x-api-key" in ok.headers["access-control-allow-headers"].lower()
        assert (
            client.options("/students", headers={"Origin": "null", **preflight}).headers.get(
                "access-control-allow-origin"
            )
            != "null"
        )


def test_rate_limit_per_key_with_retry_after(tmp_path: Path) -> None:
    app = app_with(
        tmp_path,
        admin_keys=ADMIN,
        client_keys=f"{CLIENT},other-client",
        rate_limit_per_minute=6,
        rate_limit_burst=3,
    )
    with TestClient(app, client=REMOTE) as client:
        statuses = [call(client, "GET", "/students", ADMIN).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = call(client, "GET", "/students", ADMIN)
        assert limited.json()["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 10
        # Another key has its own budget; /health is never limited.
        assert call(client, "GET", "/students", CLIENT).status_code == 403
        assert all(client.get("/health").status_code == 200 for _ in range(5))


def test_rate_limit_per_address_without_keys(tmp_path: Path) -> None:
    app = app_with(tmp_path, open_access=True, rate_limit_per_minute=6, rate_limit_burst=2)
    with (
        TestClient(app, client=REMOTE) as first,
        TestClient(app, client=("198.51.100.9", 1000)) as second,
    ):
        assert [first.get("/students").status_code for _ in range(3)] == [200, 200, 429]
        assert second.get("/students").status_code == 200


def test_rate_limit_zero_is_off(tmp_path: Path) -> None:
    app = app_with(tmp_path, rate_limit_per_minute=0, rate_limit_burst=1)
    with local_client(app) as client:
        assert {client.get("/students").status_code for _ in range(5)} == {200}
