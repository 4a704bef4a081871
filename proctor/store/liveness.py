"""What liveness challenges keep in the database: the signing key the service generated for
itself, and the nonces of answered challenges until their tokens expire.

The key lives with the data, not in a file beside one process, so replicas on one PostgreSQL
database sign and check each other's tokens; two replicas starting together race to insert
it and both keep the one that landed. A nonce is spent by inserting it: the primary key makes
a second answer of the same token fail atomically, on either engine, with no lock held.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select

from proctor.store.db import Database
from proctor.store.schema import ServiceSecretRow, SpentNonceRow

LIVENESS_KEY = "liveness_hmac"
KEY_BYTES = 32


class LivenessStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def signing_key(self) -> bytes:
        """The stored liveness key, generated (32 random bytes) by whoever asks first."""
        with self.db.write() as session:
            session.execute(
                self.db.insert_ignoring_duplicates(ServiceSecretRow.__table__).values(
                    name=LIVENESS_KEY, value=secrets.token_bytes(KEY_BYTES)
                )
            )
        with self.db.read() as session:
            return session.scalars(
                select(ServiceSecretRow.value).where(ServiceSecretRow.name == LIVENESS_KEY)
            ).one()

    def spend(self, nonce: str, expires_at: float, now: float) -> bool:
        """Mark ``nonce`` answered; False when it already was. Nonces of expired tokens are
        deleted on the way: their tokens are refused by their expiry anyway."""
        with self.db.write() as session:
            session.execute(delete(SpentNonceRow).where(SpentNonceRow.expires_at < now))
            inserted = session.execute(
                self.db.insert_ignoring_duplicates(SpentNonceRow.__table__).values(
                    nonce=nonce, expires_at=expires_at
                )
            )
            return inserted.rowcount == 1
