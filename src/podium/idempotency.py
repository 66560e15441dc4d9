"""Idempotency-Key: a retried POST with the same key answers the first response.

The key row is claimed in the same unit as the work it guards, so a key exists exactly when its
work committed; the response is stored in that unit too. A concurrent request with the same key
waits on the key's unique index until the first commits, then answers the stored response. A
key reused with a different body is refused. Keys are recycled after a day.

Use: `replayed(db, …)` first, outside the unit (a retry answers without making anything), then
`claim(tx, …)` in the unit before its writes, then the work, then `store(tx, …)`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from podium.db import Executor, Row
from podium.errors import ValidationFailed

MAX_KEY_LENGTH = 255

CLAIM_KEY = """
INSERT INTO idempotency_keys (audience, key, fingerprint) VALUES ($1, $2, $3)
ON CONFLICT (audience, key) DO UPDATE
SET fingerprint = EXCLUDED.fingerprint, status = NULL, body = NULL, created_at = now()
WHERE idempotency_keys.created_at < now() - interval '24 hours'
RETURNING true
"""

SELECT_KEY = """
SELECT fingerprint, status, body FROM idempotency_keys
WHERE audience = $1 AND key = $2 AND created_at >= now() - interval '24 hours'
"""

STORE_RESPONSE = "UPDATE idempotency_keys SET status = $3, body = $4 WHERE audience=$1 AND key=$2"


@dataclass(frozen=True, slots=True)
class Key:
    """An Idempotency-Key a request came with, and the fingerprint of the request."""

    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: Any
    replayed: bool


def fingerprint(path: str, body: bytes) -> str:
    return hashlib.sha256(path.encode() + b"\0" + body).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            field="Idempotency-Key",
        )
    return key


def _replay(row: Row, key: Key) -> Outcome:
    if row["fingerprint"] != key.fingerprint:
        raise ValidationFailed(
            "this Idempotency-Key was used with a different request",
            field="Idempotency-Key",
            code="idempotency_key_reused",
        )
    return Outcome(row["status"], row["body"], replayed=True)


async def replayed(db: Executor, audience: str, key: Key) -> Outcome | None:
    """The stored answer of a request this key already completed, if any."""
    row = await db.fetchrow(SELECT_KEY, audience, key.key)
    if row is None or row["status"] is None:
        return None
    return _replay(row, key)


async def claim(tx: Executor, audience: str, key: Key) -> Outcome | None:
    """Claim the key in the unit; answers the stored outcome when another request holds it
    (waiting for that request to commit first)."""
    if await tx.fetchval(CLAIM_KEY, audience, key.key, key.fingerprint):
        return None
    row = await tx.fetchrow(SELECT_KEY, audience, key.key)
    assert row is not None  # a claim that lost found the key
    return _replay(row, key)


async def store(tx: Executor, audience: str, key: Key, status: int, body: Any) -> None:
    await tx.execute(STORE_RESPONSE, audience, key.key, status, body)
