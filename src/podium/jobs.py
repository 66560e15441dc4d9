"""Durable jobs and periodic tasks, run by every Podium process. Knows no capability: each one
registers what it runs in a `JobRegistry` (`kind(...)`, `every(...)`) when the app is built.

- `enqueue(tx, kind, payload, run_at=…)` writes the job in the caller's unit: it exists exactly
  when the change that asked for it committed. With a `key`, a kind keeps at most one open job
  per key: asking again while one waits changes nothing, while one runs makes it run once more
  when it ends (so work that arrives during a run is never left behind, and a key's work never
  runs twice at once).
- A runner claims due jobs (`FOR UPDATE SKIP LOCKED`) and leases each for its kind's
  `lease_seconds`; while the handler runs, a heartbeat renews the lease every third of it, so a
  job is never started twice while its worker lives. A worker that dies stops renewing: once
  the lease lapses another process takes the job over (at least once: handlers are written to
  be run again). A lease is a token per claim, so a worker that lost its lease (paused past
  it) can neither renew nor finish what another now owns.
- A kind's `concurrency` holds across processes: its claim runs under the kind's advisory lock
  and counts the kind's live leases. Each process also runs at most `slots` jobs at once.
- A failure is retried after `retry_base · 2^(attempts-1)` seconds (at most `retry_max`); after
  `max_attempts` the job is marked failed and kept for inspection.
- A periodic task runs in every process every `every_seconds`, never twice at once in one
  process; tasks are written so that two processes running them together is safe (they claim
  rows with SKIP LOCKED). A failure is logged; the next run comes as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from podium import logs, metrics
from podium.db import Database, Executor, Row
from podium.tasks import cancel_and_wait

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int  # this one included


Handler = Callable[[Job], Awaitable[object]]


class Lost:
    """A job whose lease another process took over: this one neither finishes nor retries it."""


LOST = Lost()


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    handler: Handler
    lease_seconds: float = 60.0
    concurrency: int | None = None  # at most this many running at once, across processes
    max_attempts: int = 15
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 3600.0

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try: base, 2·base, 4·base … at most retry_max."""
        return float(
            min(self.retry_base_seconds * 2 ** max(attempts - 1, 0), self.retry_max_seconds)
        )


@dataclass(frozen=True, slots=True)
class Periodic:
    name: str
    every_seconds: float
    run: Callable[[], Awaitable[object]]


class JobRegistry:
    """What this process runs: job kinds by name, and periodic tasks."""

    def __init__(self) -> None:
        self.kinds: dict[str, JobKind] = {}
        self.periodic: dict[str, Periodic] = {}

    def kind(self, kind: JobKind) -> None:
        if kind.name in self.kinds:
            raise ValueError(f"job kind {kind.name!r} is registered twice")
        self.kinds[kind.name] = kind

    def every(self, name: str, seconds: float, run: Callable[[], Awaitable[object]]) -> None:
        if name in self.periodic:
            raise ValueError(f"periodic task {name!r} is registered twice")
        self.periodic[name] = Periodic(name, seconds, run)


ENQUEUE = """
INSERT INTO jobs (kind, payload, run_at) VALUES ($1, $2, coalesce(to_timestamp($3), now()))
RETURNING id
"""

# One open job per (kind, key): a second ask marks the open one to run once more.
ENQUEUE_KEYED = """
INSERT INTO jobs (kind, payload, run_at, key)
VALUES ($1, $2, coalesce(to_timestamp($3), now()), $4)
ON CONFLICT (kind, key) WHERE key IS NOT NULL AND done_at IS NULL AND failed_at IS NULL
DO UPDATE SET rerun = jobs.rerun OR jobs.leased_until IS NOT NULL
RETURNING id
"""

# Due jobs of the kinds in $1, at most $3 of them, leased for $2 seconds, each with its own token.
CLAIM = """
UPDATE jobs SET leased_until = now() + make_interval(secs => $2),
                lease_token = gen_random_uuid(), attempts = attempts + 1
WHERE id IN (
    SELECT id FROM jobs
    WHERE kind = ANY($1::text[]) AND done_at IS NULL AND failed_at IS NULL AND run_at <= now()
      AND (leased_until IS NULL OR leased_until < now())
    ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED)
RETURNING id, kind, payload, attempts, lease_token
"""

LOCK_KIND = "SELECT pg_advisory_xact_lock(hashtext('podium:jobs:' || $1))"

RUNNING = """
SELECT count(*) FROM jobs
WHERE kind = $1 AND done_at IS NULL AND failed_at IS NULL AND leased_until >= now()
"""

RENEW = """
UPDATE jobs SET leased_until = now() + make_interval(secs => $3)
WHERE id = $1 AND lease_token = $2 AND done_at IS NULL RETURNING id
"""

# Done, unless it was asked for again while it ran: then it is due again at once.
DONE = """
UPDATE jobs SET done_at = CASE WHEN rerun THEN NULL ELSE now() END, rerun = false,
                attempts = CASE WHEN rerun THEN 0 ELSE attempts END, run_at = now(),
                leased_until = NULL, last_error = NULL
WHERE id = $1 AND lease_token = $2
"""

RETRY = """
UPDATE jobs SET run_at = now() + make_interval(secs => $3), leased_until = NULL,
                last_error = $4, failed_at = CASE WHEN attempts >= $5 THEN now() END
WHERE id = $1 AND lease_token = $2
"""

# A job handed back unfinished (the process is stopping) is due again at once, the try not
# counted.
HAND_BACK = """
UPDATE jobs SET leased_until = NULL, attempts = greatest(attempts - 1, 0)
WHERE id = $1 AND lease_token = $2 AND done_at IS NULL
"""

# Finished jobs are kept a week for inspection, then removed.
PRUNE = "DELETE FROM jobs WHERE done_at < now() - interval '7 days'"


# What `/metrics` reads of the queue: per kind, the jobs due or waiting, how long the oldest due
# one has waited, and those that gave up.
STATS = """
SELECT kind,
       count(*) FILTER (WHERE done_at IS NULL AND failed_at IS NULL) AS queued,
       extract(epoch FROM now() - min(run_at) FILTER (
           WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= now()))::float8
           AS oldest_seconds,
       count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed
FROM jobs WHERE done_at IS NULL GROUP BY kind ORDER BY kind
"""


async def enqueue(
    tx: Executor, kind: str, payload: dict[str, Any], *, run_at: float | None = None,
    key: str | None = None,
) -> int:  # fmt: skip
    """A job to run once the caller's unit commits (at `run_at`, unix seconds, if later); with
    a `key`, the kind's one open job for that key (see the module)."""
    if key is None:
        job_id: int = await tx.fetchval(ENQUEUE, kind, payload, run_at)
    else:
        job_id = await tx.fetchval(ENQUEUE_KEYED, kind, payload, run_at, key)
    return job_id


class JobRunner:
    def __init__(
        self, db: Database, registry: JobRegistry, *, poll_seconds: float = 1.0, slots: int = 8
    ) -> None:
        self.db = db
        self.registry = registry
        self.poll_seconds = poll_seconds
        self.slots = slots
        self._running: dict[int, tuple[asyncio.Task[None], uuid.UUID]] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        if "jobs.prune" not in registry.periodic:
            registry.every("jobs.prune", 3600.0, self._prune)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(), name="jobs")]
        self._tasks += [
            asyncio.create_task(self._every(p), name=f"periodic {p.name}")
            for p in self.registry.periodic.values()
        ]

    async def stop(self) -> None:
        """Stop claiming and running; jobs in flight are handed back for another process."""
        await cancel_and_wait(self._tasks)
        running = list(self._running.items())
        await cancel_and_wait(task for _, (task, _) in running)
        for job_id, (_, token) in running:
            with contextlib.suppress(Exception):
                await self.db.execute(HAND_BACK, job_id, token)
        self._running.clear()

    async def _every(self, task: Periodic) -> None:
        while True:
            try:
                await task.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or Janus may be away: next time
                log.warning("periodic %s: %s", task.name, exc)
            await asyncio.sleep(task.every_seconds)

    async def _loop(self) -> None:
        while True:
            try:
                claimed = await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away; try again shortly
                log.warning("job loop: %s", exc)
                claimed = 0
            if not claimed:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def run_due(self) -> int:
        """Claim the jobs that are due (as many as there are free slots) and start them;
        answers how many started."""
        started = 0
        free = self.slots - len(self._running)
        # Kinds without a limit are claimed together, one claim per lease length: a job's first
        # lease is its own kind's (a longer one would keep a dead worker's job from being
        # taken over for that long).
        by_lease: dict[float, list[str]] = {}
        for k in self.registry.kinds.values():
            if k.concurrency is None:
                by_lease.setdefault(k.lease_seconds, []).append(k.name)
        for lease, names in sorted(by_lease.items()):
            free = self.slots - len(self._running)
            if free <= 0:
                break
            started += self._start_all(await self.db.fetch(CLAIM, names, lease, free))
        for kind in self.registry.kinds.values():
            free = self.slots - len(self._running)
            if kind.concurrency is None or free <= 0:
                continue
            async with self.db.unit() as tx:
                await tx.execute(LOCK_KIND, kind.name)
                running = int(await tx.fetchval(RUNNING, kind.name))
                room = min(free, kind.concurrency - running)
                rows = await tx.fetch(CLAIM, [kind.name], kind.lease_seconds, room) if room else []
            started += self._start_all(rows)
        return started

    def _start_all(self, rows: list[Row]) -> int:
        for row in rows:
            job = Job(row["id"], row["kind"], row["payload"], row["attempts"])
            task = asyncio.create_task(self._run(job, row["lease_token"]), name=f"job {job.id}")
            self._running[job.id] = (task, row["lease_token"])
        return len(rows)

    async def _run(self, job: Job, token: uuid.UUID) -> None:
        logs.begin(job=job.id, kind=job.kind)  # the job's lines say which (its own task)
        kind = self.registry.kinds[job.kind]  # claims ask only for this process's kinds
        try:
            outcome = await self._work(job, kind, token)
            if isinstance(outcome, Lost):
                metrics.jobs_finished.labels(job.kind, "lost").inc()
            else:
                await self._finish(job, token, kind, outcome)
                metrics.jobs_finished.labels(job.kind, "ok" if outcome is None else "retry").inc()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database went away while finishing: the lease lapses
            log.warning("job %s (%s): %s", job.id, job.kind, exc)
        finally:
            self._running.pop(job.id, None)
            self._wake.set()

    async def _work(self, job: Job, kind: JobKind, token: uuid.UUID) -> str | Lost | None:
        """Run the handler, renewing the lease while it runs; answers its error (None when it
        succeeded), or LOST when the lease went to another process meanwhile."""
        work = asyncio.ensure_future(kind.handler(job))
        beat = kind.lease_seconds / 3
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=beat)
                if done:
                    break
                try:
                    renewed = await self.db.fetchval(RENEW, job.id, token, kind.lease_seconds)
                except Exception as exc:  # keep going; the next beat tries again
                    log.warning("job %s: could not renew its lease: %s", job.id, exc)
                    continue
                if renewed is None:  # its lease lapsed and another process took the job
                    log.warning("job %s (%s) lost its lease; stopping it here", job.id, job.kind)
                    work.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await work
                    return LOST
        except asyncio.CancelledError:
            # The process is stopping: the job is handed back only once its handler has ended
            # (its clean-up may still be writing); another process must not start it beside it.
            await cancel_and_wait([work])
            raise
        failure = work.exception()
        return None if failure is None else f"{type(failure).__name__}: {failure}"

    async def _finish(self, job: Job, token: uuid.UUID, kind: JobKind, error: str | None) -> None:
        if error is None:
            await self.db.execute(DONE, job.id, token)
            return
        delay = kind.backoff(job.attempts)
        await self.db.execute(RETRY, job.id, token, delay, error[:500], kind.max_attempts)
        log.info("job %s (%s) failed, try %s: %s", job.id, job.kind, job.attempts, error)

    async def _prune(self) -> None:
        await self.db.execute(PRUNE)
