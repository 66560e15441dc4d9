"""The connection pool, against a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from podium.db import Database
from podium.dbpool import PoolClosed


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, size=2)
    await database.connect()
    yield database
    await database.close()


async def test_never_more_connections_than_its_size(db: Database) -> None:
    peak = 0

    async def work() -> None:
        nonlocal peak
        async with db.connection() as conn:
            peak = max(peak, db.pool.in_use)
            await conn.execute("SELECT pg_sleep(0.02)")

    await asyncio.gather(*[work() for _ in range(10)])
    assert peak == 2


async def test_waiters_are_served_first_come_first_served(db: Database) -> None:
    order: list[int] = []
    held = [await db.pool.acquire(), await db.pool.acquire()]

    async def wait(i: int) -> None:
        async with db.connection():
            order.append(i)
            await asyncio.sleep(0)

    waiters = [asyncio.create_task(wait(i)) for i in range(6)]
    await asyncio.sleep(0.01)  # all six are queued, in order
    db.pool.release(held.pop())
    # A newcomer arriving right after the release must not overtake the queue.
    late = asyncio.create_task(wait(99))
    db.pool.release(held.pop())
    await asyncio.gather(*waiters, late)
    assert order == [0, 1, 2, 3, 4, 5, 99]


async def test_a_cancelled_waiter_leaves_the_queue(db: Database) -> None:
    held = [await db.pool.acquire(), await db.pool.acquire()]
    gone = asyncio.create_task(db.pool.acquire())
    stays = asyncio.create_task(db.fetchval("SELECT 7"))
    await asyncio.sleep(0.01)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    db.pool.release(held.pop())
    assert await stays == 7
    db.pool.release(held.pop())
    assert db.pool.in_use == 0


async def test_a_query_cancelled_midway_discards_its_connection(db: Database) -> None:
    task = asyncio.create_task(db.execute("SELECT pg_sleep(5)"))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert db.pool.in_use == 0
    assert await db.fetchval("SELECT 1") == 1


async def test_a_killed_backend_is_replaced(db: Database, database_url: str) -> None:
    pid = await db.fetchval("SELECT pg_backend_pid()")
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.1)
    for _ in range(3):  # the dead idle connection is dropped, a fresh one opened
        try:
            assert await db.fetchval("SELECT 1") == 1
        except (asyncpg.ConnectionDoesNotExistError, asyncpg.InterfaceError, OSError):
            continue  # the first use may be what discovers the death
    assert await db.fetchval("SELECT pg_backend_pid()") != pid


async def test_an_error_rolls_back_and_the_connection_is_reused(db: Database) -> None:
    await db.execute("CREATE TABLE t (x int UNIQUE)")
    with pytest.raises(asyncpg.UniqueViolationError):
        async with db.unit() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
            await tx.execute("INSERT INTO t VALUES (1)")
    assert await db.fetchval("SELECT count(*) FROM t") == 0
    assert db.pool.in_use == 0


async def test_closing_fails_the_waiters(database_url: str) -> None:
    db = Database(database_url, size=1)
    await db.connect()
    held = await db.pool.acquire()
    waiter = asyncio.create_task(db.pool.acquire())
    await asyncio.sleep(0.01)
    await db.pool.close()
    with pytest.raises(PoolClosed):
        await waiter
    db.pool.release(held)  # released after close: closed, not reused
    assert held.is_closed()


async def test_connect_fails_at_once_when_the_database_is_unreachable() -> None:
    db = Database("postgresql://postgres@127.0.0.1:1/nothing", size=1)
    with pytest.raises(OSError):
        await db.connect()
