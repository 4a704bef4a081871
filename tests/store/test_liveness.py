"""The liveness store on both engines: one generated signing key per database, and a nonce
that can be spent once until its token expires."""

from __future__ import annotations

from proctor.store.db import Database
from proctor.store.liveness import KEY_BYTES, LivenessStore


def test_replicas_share_one_generated_key_and_spend_a_nonce_once(database_url: str) -> None:
    first, second = Database(database_url), Database(database_url)
    try:
        first.migrate()
        second.migrate()
        one, other = LivenessStore(first), LivenessStore(second)
        key = one.signing_key()
        assert len(key) == KEY_BYTES and other.signing_key() == key == one.signing_key()
        assert one.spend("nonce-a", expires_at=200.0, now=100.0)
        assert not other.spend("nonce-a", expires_at=200.0, now=150.0)  # another replica
        assert other.spend("nonce-b", expires_at=300.0, now=150.0)
        # Once its token has expired the nonce is forgotten (the token is refused by then).
        assert one.spend("nonce-c", expires_at=400.0, now=250.0)
        assert one.spend("nonce-a", expires_at=500.0, now=250.0)
    finally:
        first.dispose()
        second.dispose()
