"""Challenge tokens: a random nonce, the actions asked and an expiry, signed with HMAC-SHA256.

The token carries everything needed to check an answer, so the service keeps no state per
challenge; the only thing stored is the nonce of an answered token (``LivenessStore.spend``),
so that the same token cannot be answered twice. A token is
``base64url(payload JSON) "." base64url(HMAC-SHA256(key, first part))``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import BaseModel, Field, ValidationError

from proctor.errors import InvalidTokenError, TokenExpiredError

Action = Literal["turn_left", "turn_right", "blink", "open_mouth"]
ACTIONS: tuple[Action, ...] = get_args(Action)
NONCE_BYTES = 16


class Payload(BaseModel):
    """What a token says, checked field by field once its signature is known to be ours."""

    n: str = Field(min_length=16, max_length=64)  # nonce
    s: list[Action] = Field(min_length=1, max_length=len(ACTIONS))  # steps, in order
    e: float  # expiry, Unix seconds


@dataclass(frozen=True)
class Challenge:
    nonce: str
    steps: tuple[Action, ...]
    expires_at: float  # Unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, key: bytes, steps: int, lifetime_s: float) -> None:
        self.key = key
        self.steps = steps
        self.lifetime_s = lifetime_s
        self.random = secrets.SystemRandom()

    def _signature(self, body: str) -> str:
        return _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest())

    def issue(self, now: float) -> tuple[str, Challenge]:
        """A new token: ``steps`` distinct actions in random order, expiring after the
        lifetime (whole seconds)."""
        challenge = Challenge(
            nonce=_b64(secrets.token_bytes(NONCE_BYTES)),
            steps=tuple(self.random.sample(ACTIONS, self.steps)),
            expires_at=float(int(now + self.lifetime_s)),
        )
        payload = Payload(n=challenge.nonce, s=list(challenge.steps), e=challenge.expires_at)
        body = _b64(json.dumps(payload.model_dump(), separators=(",", ":")).encode())
        return f"{body}.{self._signature(body)}", challenge

    def verify(self, token: str, now: float) -> Challenge:
        """The challenge a token carries; ``InvalidTokenError`` unless we signed it,
        ``TokenExpiredError`` once it has expired."""
        body, _, signature = token.strip().partition(".")
        expected = self._signature(body).encode()
        if not body or not hmac.compare_digest(signature.encode(), expected):
            raise InvalidTokenError("the liveness token is malformed or not signed by this service")
        try:
            payload = Payload.model_validate_json(_unb64(body))
        except (ValidationError, ValueError, binascii.Error):
            raise InvalidTokenError("the liveness token's content is malformed") from None
        if payload.e <= now:
            raise TokenExpiredError("the liveness token has expired; ask for a new challenge")
        return Challenge(payload.n, tuple(payload.s), payload.e)
