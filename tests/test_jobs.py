"""The job registry and runner: in one process, and across real worker processes
(tests/jobs_worker.py) on one database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from podium.db import Database
from podium.jobs import Job, JobKind, JobRegistry, JobRunner, enqueue
from tests.jobs_worker import LOG_TABLE

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, size=4)
    await database.connect()
    await database.execute(LOG_TABLE)
    yield database
    await database.close()


async def until(condition: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def job_row(db: Database, job_id: int) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM jobs WHERE id = $1", job_id)
    assert row is not None
    return row


def test_backoff_doubles_up_to_its_limit() -> None:
    kind = JobKind("k", lambda job: asyncio.sleep(0), retry_base_seconds=2, retry_max_seconds=60)
    assert [kind.backoff(n) for n in (1, 2, 3, 4, 6, 20)] == [2, 4, 8, 16, 60, 60]


def test_a_name_is_registered_once() -> None:
    registry = JobRegistry()
    registry.kind(JobKind("k", lambda job: asyncio.sleep(0)))
    with pytest.raises(ValueError, match="twice"):
        registry.kind(JobKind("k", lambda job: asyncio.sleep(0)))
    registry.every("p", 1, lambda: asyncio.sleep(0))
    with pytest.raises(ValueError, match="twice"):
        registry.every("p", 1, lambda: asyncio.sleep(0))


async def test_a_job_exists_exactly_when_its_unit_commits(db: Database) -> None:
    ran: list[dict[str, object]] = []

    async def handle(job: Job) -> None:
        ran.append(job.payload)

    registry = JobRegistry()
    registry.kind(JobKind("test.note", handle))
    runner = JobRunner(db, registry, poll_seconds=0.05)
    with pytest.raises(RuntimeError):
        async with db.unit() as tx:
            await enqueue(tx, "test.note", {"n": 1})
            raise RuntimeError("the use case failed")
    async with db.unit() as tx:
        job_id = await enqueue(tx, "test.note", {"n": 2})
    later = await enqueue(db, "test.note", {"n": 3}, run_at=time.time() + 3600)
    await runner.start()
    try:
        await until(lambda: _done(db, job_id))
    finally:
        await runner.stop()
    assert ran == [{"n": 2}]
    assert (await job_row(db, later))["done_at"] is None  # not due yet


async def _done(db: Database, job_id: int) -> bool:
    return bool(await db.fetchval("SELECT done_at IS NOT NULL FROM jobs WHERE id = $1", job_id))


async def test_a_failing_job_is_retried_then_kept_as_failed(db: Database) -> None:
    tries: list[int] = []

    async def handle(job: Job) -> None:
        tries.append(job.attempts)
        raise OSError("the receiver is away")

    registry = JobRegistry()
    registry.kind(JobKind("test.fails", handle, max_attempts=3, retry_base_seconds=0.05))
    runner = JobRunner(db, registry, poll_seconds=0.05)
    job_id = await enqueue(db, "test.fails", {})
    await runner.start()
    try:

        async def failed() -> bool:
            return (await job_row(db, job_id))["failed_at"] is not None

        await until(failed)
    finally:
        await runner.stop()
    row = await job_row(db, job_id)
    assert tries == [1, 2, 3] and row["attempts"] == 3
    assert row["last_error"] == "OSError: the receiver is away"


async def test_a_job_of_a_kind_this_process_does_not_run_is_left_alone(db: Database) -> None:
    registry = JobRegistry()
    registry.kind(JobKind("test.known", lambda job: asyncio.sleep(0)))
    runner = JobRunner(db, registry, poll_seconds=0.05)
    job_id = await enqueue(db, "test.unknown", {})
    await runner.start()
    await asyncio.sleep(0.3)
    await runner.stop()
    assert (await job_row(db, job_id))["attempts"] == 0  # for a process that runs it


async def test_periodic_tasks_run_again_after_failing(db: Database) -> None:
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise OSError("Janus is away")

    registry = JobRegistry()
    registry.every("test.flaky", 0.05, flaky)
    runner = JobRunner(db, registry, poll_seconds=0.05)
    await runner.start()
    try:

        async def ran_thrice() -> bool:
            return len(runs) >= 3

        await until(ran_thrice)
    finally:
        await runner.stop()


async def start_then_stop(
    db: Database, kind: str, handler: Callable[[Job], Awaitable[None]], started: asyncio.Event
) -> int:
    """Run one job of `kind` in a runner and stop the runner once the handler has `started`."""
    registry = JobRegistry()
    registry.kind(JobKind(kind, handler, lease_seconds=600))
    runner = JobRunner(db, registry, poll_seconds=0.05)
    job_id = await enqueue(db, kind, {})
    await runner.start()
    await asyncio.wait_for(started.wait(), 10)
    await runner.stop()
    return job_id


async def test_stopping_hands_running_jobs_back(db: Database) -> None:
    started = asyncio.Event()

    async def long(job: Job) -> None:
        started.set()
        await asyncio.sleep(60)

    job_id = await start_then_stop(db, "test.long", long, started)
    row = await job_row(db, job_id)
    # Due again at once for another process, the interrupted try not counted.
    assert row["leased_until"] is None and row["attempts"] == 0 and row["done_at"] is None


async def test_a_job_is_handed_back_only_after_its_handler_has_ended(db: Database) -> None:
    """Handing back while the handler still cleans up let another process start the job beside
    it (seen in CI: two runs of a one-at-a-time kind at once)."""
    started = asyncio.Event()
    cleaned: list[bool] = []

    async def tidy(job: Job) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            await asyncio.sleep(0.3)  # a clean-up that takes a while (writes, a child to reap)
            row = await job_row(db, job.id)
            cleaned.append(row["leased_until"] is not None)  # still ours while it cleans up
            raise

    job_id = await start_then_stop(db, "test.tidy", tidy, started)
    assert cleaned == [True]
    assert (await job_row(db, job_id))["leased_until"] is None


# -- across real processes -------------------------------------------------------------------


class Workers:
    def __init__(self, url: str) -> None:
        self.url = url
        self.procs: dict[str, subprocess.Popen[str]] = {}

    def start(self, name: str) -> None:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.jobs_worker", self.url, name], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )  # fmt: skip
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        self.procs[name] = proc

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        self._reap(proc)

    @staticmethod
    def _reap(proc: subprocess.Popen[str]) -> None:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.terminate()
        self._reap(proc)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            self._reap(proc)
        self.procs.clear()


@pytest.fixture
def workers(database_url: str) -> Iterator[Workers]:
    made = Workers(database_url)
    yield made
    made.stop_all()


async def log_of(db: Database, job_id: int) -> list[tuple[str, str]]:
    rows = await db.fetch("SELECT worker, event FROM job_log WHERE job_id = $1 ORDER BY at", job_id)
    return [(r["worker"], r["event"]) for r in rows]


async def test_a_job_longer_than_its_lease_is_not_started_twice(
    db: Database, workers: Workers
) -> None:
    workers.start("a")
    workers.start("b")
    job_id = await enqueue(db, "test.slow", {"seconds": 4})  # a lease of 1 s, renewed
    await until(lambda: _done(db, job_id))
    log = await log_of(db, job_id)
    assert [event for _, event in log] == ["start", "end"] and log[0][0] == log[1][0], log


async def test_a_killed_workers_job_is_run_by_another_process(
    db: Database, workers: Workers
) -> None:
    workers.start("a")
    job_id = await enqueue(db, "test.slow", {"seconds": 3})

    async def started() -> bool:
        return bool(await log_of(db, job_id))

    await until(started)
    workers.kill("a")  # mid-job: its lease is no longer renewed
    workers.start("b")
    await until(lambda: _done(db, job_id))
    assert await log_of(db, job_id) == [("a", "start"), ("b", "start"), ("b", "end")]


async def test_concurrency_one_holds_across_two_processes(db: Database, workers: Workers) -> None:
    workers.start("a")
    workers.start("b")
    ids = [await enqueue(db, "test.one_at_a_time", {"seconds": 0.3}) for _ in range(6)]

    async def done(n: int) -> bool:
        return sum([await _done(db, job_id) for job_id in ids]) >= n

    await until(lambda: done(2), seconds=30)
    # The process that just finished one tends to claim the next: stop it (it hands its job
    # back), so the other has to carry on and both take part. (The last *end*: the last row may
    # be the other's start, and stopping that one let one process finish everything.)
    last = await db.fetchval(
        "SELECT worker FROM job_log WHERE event = 'end' ORDER BY at DESC LIMIT 1"
    )
    workers.stop(last)
    await until(lambda: done(6), seconds=30)
    rows = await db.fetch("SELECT job_id, worker, event FROM job_log ORDER BY at")
    # One at a time: each start follows the previous job's end, whichever process ran it (a job
    # handed back when its process stopped starts again, never beside another).
    assert len([r for r in rows if r["event"] == "end"]) == 6
    running = 0
    for r in rows:
        running += 1 if r["event"] == "start" else -1
        assert running in (0, 1), [(r["worker"], r["event"]) for r in rows]
    assert {r["worker"] for r in rows if r["event"] == "end"} == {"a", "b"}
    assert {r["worker"] for r in rows} == {"a", "b"}  # both processes took part


async def test_a_keyed_job_runs_once_more_when_asked_while_it_runs(db: Database) -> None:
    """One open job per key: asks while it waits fold into it; an ask while it runs makes it run
    once more after; never two runs of a key at once."""
    runs: list[dict[str, Any]] = []
    running = 0
    release = asyncio.Event()

    async def handle(job: Job) -> None:
        nonlocal running
        running += 1
        assert running == 1
        runs.append(job.payload)
        if len(runs) == 1:
            await release.wait()
        running -= 1

    registry = JobRegistry()
    registry.kind(JobKind("test.keyed", handle))
    runner = JobRunner(db, registry, poll_seconds=0.05)
    first = await enqueue(db, "test.keyed", {"n": 1}, key="k")
    assert await enqueue(db, "test.keyed", {"n": 2}, key="k") == first  # folded: one open job
    await runner.start()
    try:
        await until(lambda: _started(runs))
        for n in (3, 4):  # asked again while it runs
            assert await enqueue(db, "test.keyed", {"n": n}, key="k") == first
        release.set()
        await until(lambda: _done(db, first))
    finally:
        await runner.stop()
    assert len(runs) == 2  # the first run, and one more for what came meanwhile
    other = await enqueue(db, "test.keyed", {"n": 5}, key="k")
    assert other != first  # the key's job is done: a new one opens


async def _started(runs: list[dict[str, Any]]) -> bool:
    return bool(runs)
