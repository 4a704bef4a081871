"""Who may call what: API keys, the loopback-only default, and a rate limit per caller.

Routers declare what they need (``ClientAccess`` for analysis, ``AdminAccess`` for students,
attempts and metrics); ``/health`` and the static pages need nothing. Keys are compared in
constant time against every configured key (no early exit that would time which one nearly
matched), and a caller is identified by the key's role and position, so the key itself is never
kept in a log line, a metric label or a rate-limit table.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from proctor.errors import (
    AdminKeyRequiredError,
    InvalidApiKeyError,
    LoopbackOnlyError,
    MissingApiKeyError,
    RateLimitedError,
)
from proctor.settings import Settings


class Role(IntEnum):
    """What a key may do; a higher role may do everything a lower one may."""

    CLIENT = 1
    ADMIN = 2


@dataclass(frozen=True)
class Caller:
    """An authorised caller: its role, and the name it is counted under for the rate limit
    (``admin#0``, ``client#2`` or, with no keys, ``addr:127.0.0.1``)."""

    role: Role
    identity: str


class RateLimiter:
    """A token bucket per caller: ``burst`` requests at once, refilled at ``per_minute``.

    Called from async dependencies only, so one event loop serialises it (no lock). Buckets
    that have refilled completely are forgotten once many callers are tracked, so a stream of
    client addresses cannot grow the table without bound."""

    MAX_TRACKED = 10_000

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.buckets: dict[str, tuple[float, float]] = {}  # identity -> (tokens, at)

    def take(self, identity: str) -> float | None:
        """Spend one token; None when allowed, else the seconds until one is available."""
        if self.rate <= 0:
            return None
        now = time.monotonic()
        tokens, at = self.buckets.get(identity, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1.0:
            self.buckets[identity] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self.buckets[identity] = (tokens - 1.0, now)
        if len(self.buckets) > self.MAX_TRACKED:
            self._forget_full(now)
        return None

    def _forget_full(self, now: float) -> None:
        full = [
            identity
            for identity, (tokens, at) in self.buckets.items()
            if tokens + (now - at) * self.rate >= self.burst
        ]
        for identity in full:
            del self.buckets[identity]


class AccessPolicy:
    """The configured keys and mode, and the rate limiter they share (one per app)."""

    def __init__(self, settings: Settings) -> None:
        self.mode = settings.access_mode
        self.keys: list[tuple[bytes, Role, str]] = [
            (key.get_secret_value().encode(), Role.ADMIN, f"admin#{n}")
            for n, key in enumerate(settings.admin_keys)
        ] + [
            (key.get_secret_value().encode(), Role.CLIENT, f"client#{n}")
            for n, key in enumerate(settings.client_keys)
        ]
        self.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)

    def identify(self, key: str | None, host: str | None) -> Caller:
        """The caller behind a request's key and address, or the reason it is refused."""
        if self.mode == "open":
            return Caller(Role.ADMIN, f"addr:{host}")
        if self.mode == "loopback":
            if not is_loopback(host):
                raise LoopbackOnlyError(
                    "no API key is configured, so this service answers loopback clients only: "
                    "set PROCTOR_CLIENT_KEYS/PROCTOR_ADMIN_KEYS (or PROCTOR_OPEN_ACCESS=true "
                    "for a public demo)"
                )
            return Caller(Role.ADMIN, f"addr:{host}")
        if not key:
            raise MissingApiKeyError(
                "an API key is required: send X-API-Key: <key> or Authorization: Bearer <key>"
            )
        given = key.encode()
        found: Caller | None = None
        for configured, role, identity in self.keys:  # every key compared: constant time
            if hmac.compare_digest(given, configured) and found is None:
                found = Caller(role, identity)
        if found is None:
            raise InvalidApiKeyError("the API key is not valid")
        return found

    def admit(self, caller: Caller) -> None:
        """Count the request against the caller's rate; refuse it beyond."""
        wait = self.limiter.take(caller.identity)
        if wait is not None:
            raise RateLimitedError(
                "too many requests from this caller: retry later",
                retry_after_s=max(1.0, math.ceil(wait)),
            )


def is_loopback(host: str | None) -> bool:
    """Whether the client address is this machine's (127.0.0.0/8, ::1)."""
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:  # not an address (a Unix socket peer has none)
        return False


api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An admin or client key (PROCTOR_ADMIN_KEYS, PROCTOR_CLIENT_KEYS).",
)
bearer_token = HTTPBearer(
    auto_error=False, description="The same key as a bearer token: Authorization: Bearer <key>."
)


def access_policy(request: Request) -> AccessPolicy:
    return request.app.state.access


async def authorised_caller(
    request: Request,
    policy: Annotated[AccessPolicy, Depends(access_policy)],
    api_key: Annotated[str | None, Security(api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_token)],
) -> Caller:
    """The caller, identified and counted against its rate (async: one event loop orders the
    rate limiter's updates)."""
    key = api_key or (bearer.credentials if bearer else None)
    caller = policy.identify(key, request.client.host if request.client else None)
    policy.admit(caller)
    return caller


async def require_admin(caller: Annotated[Caller, Depends(authorised_caller)]) -> Caller:
    if caller.role < Role.ADMIN:
        raise AdminKeyRequiredError("this route needs an admin key; a client key may analyse only")
    return caller


#: The answers every protected route may give, for the OpenAPI document.
ACCESS_RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "API key missing or not valid (missing_api_key, invalid_api_key)"},
    403: {
        "description": "A client key on an admin route (admin_key_required), or no key "
        "configured and a caller that is not loopback (loopback_only)"
    },
    429: {"description": "This key or address is over its rate (rate_limited, Retry-After)"},
}

#: Route dependencies: analysis (client or admin keys), and administration (admin keys).
ClientAccess = Depends(authorised_caller)
AdminAccess = Depends(require_admin)

#: What each access mode means, for the startup log line and /health.
ACCESS_MODES: dict[str, str] = {
    "keys": "API keys required (admin keys for students, attempts and metrics; client keys "
    "for analysis)",
    "loopback": "no API key configured: only loopback clients (this machine) are served; set "
    "PROCTOR_CLIENT_KEYS/PROCTOR_ADMIN_KEYS to serve other hosts",
    "open": "open access: every host may enroll, search, list and delete students without a key "
    "(PROCTOR_OPEN_ACCESS=true)",
}
