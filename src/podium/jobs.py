"""Durable jobs in the database, run by every Podium process.

A job is claimed with `FOR UPDATE SKIP LOCKED` and leased for a while, then run outside any
transaction (a webhook may take seconds); success marks it done, failure schedules it again with
exponential backoff, and after MAX_ATTEMPTS it is marked failed and kept for inspection. A
process that dies mid-job leaves a lease that ends: the job runs again (at least once). The same
loop announces classes whose end has passed, opens lobbies whose timer has come, and keeps
the Janus servers in line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from podium.conference.models import DEFAULT_LIMITS, RoomLimits
from podium.conference.pool import MediaPool
from podium.db import Database
from podium.lobby import service as lobby
from podium.notifications import service as notifications
from podium.rooms.live import Hub

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 15
LEASE_SECONDS = 60
BATCH = 20
MAX_BACKOFF_SECONDS = 3600.0

CLAIM = f"""
UPDATE jobs SET leased_until = now() + interval '{LEASE_SECONDS} seconds',
                attempts = attempts + 1
WHERE id IN (
    SELECT id FROM jobs
    WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= now()
      AND (leased_until IS NULL OR leased_until < now())
    ORDER BY run_at LIMIT {BATCH} FOR UPDATE SKIP LOCKED)
RETURNING id, kind, payload, attempts
"""

DONE = "UPDATE jobs SET done_at = now(), leased_until = NULL, last_error = NULL WHERE id = $1"

RETRY = """
UPDATE jobs SET run_at = now() + make_interval(secs => $2), leased_until = NULL,
                last_error = $3, failed_at = CASE WHEN attempts >= $4 THEN now() END
WHERE id = $1
"""

Handler = Callable[[dict[str, Any]], Awaitable[None]]


def backoff(attempts: int, base: float) -> float:
    """Seconds before the next try: base, 2·base, 4·base … at most an hour."""
    return float(min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


class JobRunner:
    def __init__(
        self, db: Database, pool: MediaPool | None = None, *, poll_seconds: float = 1.0,
        retry_base: float = 2.0, media_check_seconds: float = 10.0,
        limits: RoomLimits = DEFAULT_LIMITS, hub: Hub | None = None,
    ):  # fmt: skip
        self.db = db
        self.hub = hub
        self.pool = pool
        self.media_check_seconds = media_check_seconds
        self.limits = limits
        self._media_checked = float("-inf")
        self.poll_seconds = poll_seconds
        self.retry_base = retry_base
        self._client = httpx.AsyncClient(follow_redirects=False)
        self._handlers: dict[str, Handler] = {
            "webhook": lambda payload: notifications.deliver_webhook(
                self.db, self._client, payload
            ),
        }
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()

    async def _loop(self) -> None:
        while True:
            try:
                await notifications.announce_stops(self.db)
                if self.hub is not None:
                    await lobby.open_due(self.db, self.hub)
                await self._check_media()
                if not await self.run_due():
                    await asyncio.sleep(self.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away; try again shortly
                log.warning("job loop: %s", exc)
                await asyncio.sleep(self.poll_seconds)

    async def _check_media(self) -> None:
        """Every so often, bring the Janus servers in line with the database."""
        if self.pool is None or not self.pool.configured:
            return
        if time.monotonic() - self._media_checked < self.media_check_seconds:
            return
        self._media_checked = time.monotonic()
        await self.pool.reconcile(self.db, self.limits)

    async def run_due(self) -> int:
        """Claim and run the jobs that are due; answers how many ran."""
        jobs = await self.db.fetch(CLAIM)
        await asyncio.gather(*(self._run(job) for job in jobs))
        return len(jobs)

    async def _run(self, job: Any) -> None:
        handler = self._handlers.get(job["kind"])
        try:
            if handler is None:
                raise RuntimeError(f"no handler for jobs of kind {job['kind']!r}")
            await handler(job["payload"])
        except Exception as exc:
            delay = backoff(job["attempts"], self.retry_base)
            await self.db.execute(RETRY, job["id"], delay, str(exc)[:500], MAX_ATTEMPTS)
            log.info("job %s (%s) failed, try %s: %s", job["id"], job["kind"],
                     job["attempts"], exc)  # fmt: skip
        else:
            await self.db.execute(DONE, job["id"])
