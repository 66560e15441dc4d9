"""Telling tenants what happened: a notification per change, written in the change's unit, read
by the pull feed and delivered by signed webhooks.

Webhooks go in order per stream — a class (whatever in it changed: lobby, rooms, claims, its end)
or the audience itself: one `webhook` job per stream delivers its undelivered notifications
oldest first and stops at the first the receiver refuses, to retry with backoff from there. A
receiver that is down for a while gets everything once it is back, each class's notifications
in the order they happened (at least once: a delivery whose answer is lost is sent again)."""

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
from podium.db import Database, Executor, Row
from podium.jobs import Job, JobKind, JobRegistry
from podium.notifications import queries

MAX_FEED_PAGE = 500
WEBHOOK_TIMEOUT_SECONDS = 10.0
WEBHOOK_LEASE_SECONDS = 60.0  # well past the delivery's timeout

_encode = msgspec.json.Encoder().encode


def stream_of(class_id: uuid.UUID | None) -> str:
    """The stream a notification is delivered in order within: its class, or the audience."""
    return "" if class_id is None else str(class_id)


async def notify(
    tx: Executor, audience: str, type: str, payload: Any, class_id: uuid.UUID | None = None
) -> None:
    """Record a notification (in the caller's unit), about the class when there is one."""
    await tx.execute(queries.NOTIFY, uuid.uuid4(), audience, type, payload, stream_of(class_id))


async def notify_many(tx: Executor, notes: list[tuple[str, str, Any, uuid.UUID | None]]) -> None:
    """Record several (audience, type, payload, class id) notifications in one statement."""
    if notes:
        audiences, types, payloads, classes = (list(c) for c in zip(*notes, strict=True))
        await tx.execute(queries.NOTIFY_MANY, audiences, types, payloads,
                         [stream_of(c) for c in classes])  # fmt: skip


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


STREAM_PAGE = 50


async def deliver_stream(db: Executor, client: httpx.AsyncClient, payload: dict[str, Any]) -> int:
    """Deliver a stream's undelivered notifications, oldest first; the first refusal raises
    DeliveryFailed (the job is retried from there). Answers how many went out."""
    if "notification_id" in payload:  # a job written before streams
        row = await db.fetchrow(queries.STREAM_OF, payload["notification_id"])
        if row is None:
            return 0
        payload = {"audience": row["audience"], "stream": row["stream"], "from_id": row["id"]}
    sent = 0
    while True:
        rows = await db.fetch(queries.PENDING, payload["audience"], payload["stream"],
                              payload["from_id"], STREAM_PAGE)  # fmt: skip
        for row in rows:
            if row["webhook_url"]:  # (the webhook was removed meanwhile: nothing to send)
                await _post(client, row)
            await db.execute(queries.DELIVERED, row["id"])
            sent += 1
        if len(rows) < STREAM_PAGE:
            return sent


async def _post(client: httpx.AsyncClient, row: Row) -> None:
    """POST one notification to its tenant's webhook; raises DeliveryFailed to be retried."""
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
    """Webhook deliveries: a job per stream (NOTIFY writes or re-arms it), retried with backoff.
    Its lease covers a page of deliveries; the heartbeat renews it while a long backlog goes."""

    async def deliver(job: Job) -> None:
        await deliver_stream(db, client, job.payload)

    registry.kind(JobKind("webhook", deliver, lease_seconds=WEBHOOK_LEASE_SECONDS,
                          retry_base_seconds=retry_base_seconds))  # fmt: skip
