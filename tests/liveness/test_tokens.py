"""Challenge tokens: signed, random, expiring; anything else refused with its code."""

from __future__ import annotations

import pytest

from proctor.errors import InvalidTokenError, TokenExpiredError
from proctor.liveness.tokens import ACTIONS, TokenSigner

SIGNER = TokenSigner(b"k" * 32, steps=3, lifetime_s=120.0)


def test_a_token_carries_its_challenge_until_it_expires() -> None:
    token, challenge = SIGNER.issue(now=1000.0)
    assert challenge.expires_at == 1120.0
    assert len(set(challenge.steps)) == 3 and set(challenge.steps) <= set(ACTIONS)
    assert SIGNER.verify(token, now=1119.0) == challenge
    with pytest.raises(TokenExpiredError):
        SIGNER.verify(token, now=1120.0)


def test_nonces_and_orders_vary() -> None:
    issued = [SIGNER.issue(now=0.0)[1] for _ in range(50)]
    assert len({c.nonce for c in issued}) == 50
    assert len({c.steps for c in issued}) > 5


def test_another_key_a_changed_payload_or_garbage_is_invalid() -> None:
    token, _ = SIGNER.issue(now=0.0)
    other = TokenSigner(b"x" * 32, steps=3, lifetime_s=120.0)
    body, _, signature = token.partition(".")
    for bad in (other.issue(now=0.0)[0], f"{body}x.{signature}", "", ".", "é.é", token[:-1]):
        with pytest.raises(InvalidTokenError):
            SIGNER.verify(bad, now=0.0)
    # Correctly signed, but not a challenge.
    forged = TokenSigner(SIGNER.key, 3, 120.0)
    payload = "eyJuIjoiMSJ9"  # {"n":"1"}
    with pytest.raises(InvalidTokenError):
        SIGNER.verify(f"{payload}.{forged._signature(payload)}", now=0.0)
