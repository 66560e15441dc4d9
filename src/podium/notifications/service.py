"""Telling tenants what happened: a notification per change, written in the change's unit, read
by the pull feed and delivered by signed webhooks (the `webhook` job kind: at least once,
retried with backoff)."""

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
from podium.db import Database, Executor
from podium.jobs import Job, JobKind, JobRegistry
from podium.notifications import queries

MAX_FEED_PAGE = 500
WEBHOOK_TIMEOUT_SECONDS = 10.0
WEBHOOK_LEASE_SECONDS = 60.0  # well past the delivery's timeout

_encode = msgspec.json.Encoder().encode


async def notify(tx: Executor, audience: str, type: str, payload: Any) -> None:
    """Record a notification (in the caller's unit)."""
    await tx.execute(queries.NOTIFY, uuid.uuid4(), audience, type, payload)


async def notify_many(tx: Executor, notes: list[tuple[str, str, Any]]) -> None:
    """Record several (audience, type, payload) notifications in one statement."""
    if notes:
        audiences, types, payloads = (list(column) for column in zip(*notes, strict=True))
        await tx.execute(queries.NOTIFY_MANY, audiences, types, payloads)


async def feed(
    db: Executor, principal: Principal, audience: str, after: int, limit: int
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


async def deliver_webhook(db: Executor, client: httpx.AsyncClient, payload: dict[str, Any]) -> None:
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


def register_jobs(
    registry: JobRegistry, db: Database, client: httpx.AsyncClient, retry_base_seconds: float
) -> None:
    """Webhook deliveries: a job per notification (NOTIFY writes it), retried with backoff."""

    async def deliver(job: Job) -> None:
        await deliver_webhook(db, client, job.payload)

    registry.kind(JobKind("webhook", deliver, lease_seconds=WEBHOOK_LEASE_SECONDS,
                          retry_base_seconds=retry_base_seconds))  # fmt: skip
