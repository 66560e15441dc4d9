"""Idempotency-Key: a retried POST with the same key answers the first response.

The key row is inserted in the same transaction as the work it guards, so a key exists exactly
when its work committed. A concurrent request with the same key waits on the key's unique index
until the first commits, then answers the stored response. A key reused with a different body
is refused. Keys are recycled after a day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from podium.db import Database
from podium.errors import ValidationFailed

MAX_KEY_LENGTH = 255

CLAIM_KEY = """
INSERT INTO idempotency_keys (audience, key, fingerprint) VALUES ($1, $2, $3)
ON CONFLICT (audience, key) DO UPDATE
SET fingerprint = EXCLUDED.fingerprint, status = NULL, body = NULL, created_at = now()
WHERE idempotency_keys.created_at < now() - interval '24 hours'
RETURNING true
"""

SELECT_KEY = "SELECT fingerprint, status, body FROM idempotency_keys WHERE audience=$1 AND key=$2"

STORE_RESPONSE = "UPDATE idempotency_keys SET status = $3, body = $4 WHERE audience=$1 AND key=$2"


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


async def run_once(
    db: Database,
    audience: str,
    key: str,
    print_: str,
    work: Callable[[asyncpg.Connection], Awaitable[tuple[int, Any]]],
) -> Outcome:
    """Run `work` once per (audience, key); `work` returns (status, JSON-able body)."""
    async with db.transaction() as conn:
        claimed = await conn.fetchval(CLAIM_KEY, audience, key, print_)
        if not claimed:
            row = await conn.fetchrow(SELECT_KEY, audience, key)
            if row["fingerprint"] != print_:
                raise ValidationFailed(
                    "this Idempotency-Key was used with a different request",
                    field="Idempotency-Key",
                    code="idempotency_key_reused",
                )
            return Outcome(row["status"], row["body"], replayed=True)
        status, body = await work(conn)
        await conn.execute(STORE_RESPONSE, audience, key, status, body)
        return Outcome(status, body, replayed=False)
