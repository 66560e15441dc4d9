"""Telling tenants what happened: a notification per change, read by the pull feed and
delivered by signed webhooks (at least once, retried with backoff; see jobs.py)."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

import httpx
import msgspec

from podium.auth.models import Principal
from podium.auth.policy import Action, authorize, within
from podium.db import Database
from podium.notifications import queries

MAX_FEED_PAGE = 500
WEBHOOK_TIMEOUT_SECONDS = 10.0

_encode = msgspec.json.Encoder().encode


async def notify(ex: Any, audience: str, type: str, payload: Any) -> None:
    """Record a notification (in the caller's transaction, when it has one)."""
    await ex.execute(queries.NOTIFY, uuid.uuid4(), audience, type, payload)


async def announce_stops(db: Database) -> int:
    """Announce every class whose end has passed and was not announced yet."""
    return int(await db.fetchval(queries.ANNOUNCE_STOPS) or 0)


async def feed(
    db: Database, principal: Principal, audience: str, after: int, limit: int
) -> dict[str, Any]:
    """The audience's notifications after `after` (the `id` of the last one seen)."""
    authorize(within(principal, audience), Action.UPDATE_CLASS)
    rows = await db.fetch(queries.FEED, audience, after, limit)
    events = [dict(row) for row in rows]
    return {"events": events, "last_id": events[-1]["id"] if events else after}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over `<timestamp>.<body>`, hex: what `Podium-Signature: v1=…` carries."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return mac.hexdigest()


class DeliveryFailed(Exception):
    pass


async def deliver_webhook(db: Database, client: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    """POST one notification to its tenant's webhook; raises DeliveryFailed to be retried."""
    row = await db.fetchrow(queries.DELIVERY, payload["notification_id"])
    if row is None or not row["webhook_url"]:
        return  # the notification or the webhook is gone: nothing to deliver
    body = _encode({
        "id": row["event_id"], "type": row["type"], "audience": row["audience"],
        "created_at": row["created_at"], "data": row["payload"],
    })  # fmt: skip
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "Podium-Event-Id": str(row["event_id"]),
        "Podium-Timestamp": str(timestamp),
        "Podium-Signature": "v1=" + sign(row["webhook_secret"] or "", timestamp, body),
        "User-Agent": "Podium-Webhooks",
    }
    try:
        response = await client.post(
            row["webhook_url"], content=body, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS
        )
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"the receiver answered {response.status_code}")


async def set_webhook(db: Database, audience: str, url: str | None, secret: str | None) -> bool:
    return await db.fetchval(queries.SET_WEBHOOK, audience, url, secret) is not None
