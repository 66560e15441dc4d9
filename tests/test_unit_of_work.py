"""The unit of work (db.Unit) against a real PostgreSQL: one transaction per use case, effects
after the commit, compensations after a rollback, nothing held before the first statement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from podium.db import Database


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, size=2)
    await database.connect()
    await database.execute("CREATE TABLE t (x int UNIQUE)")
    yield database
    await database.close()


async def count(db: Database) -> int:
    return int(await db.fetchval("SELECT count(*) FROM t"))


async def test_statements_commit_together_then_effects_run_in_order(db: Database) -> None:
    seen: list[str] = []

    async def effect(name: str) -> None:
        seen.append(f"{name}:{await count(db)}")  # the effect sees the committed rows

    async with db.unit() as tx:
        await tx.execute("INSERT INTO t VALUES (1)")
        tx.after_commit(lambda: effect("first"))
        await tx.execute("INSERT INTO t VALUES (2)")
        tx.after_commit(lambda: effect("second"))
        tx.on_rollback(lambda: effect("undo"))
        assert seen == []  # nothing leaves before the commit
    assert seen == ["first:2", "second:2"]


async def test_a_failure_rolls_everything_back_and_runs_compensations(db: Database) -> None:
    seen: list[str] = []

    async def note(name: str) -> None:
        seen.append(name)

    with pytest.raises(asyncpg.UniqueViolationError):
        async with db.unit() as tx:
            tx.on_rollback(lambda: note("made first, undone last"))
            await tx.execute("INSERT INTO t VALUES (1)")
            tx.after_commit(lambda: note("never"))
            tx.on_rollback(lambda: note("made last, undone first"))
            await tx.execute("INSERT INTO t VALUES (1)")
    assert await count(db) == 0
    assert seen == ["made last, undone first", "made first, undone last"]
    assert db.pool.in_use == 0


async def test_an_error_raised_by_the_use_case_rolls_back(db: Database) -> None:
    with pytest.raises(ValueError, match="refused"):
        async with db.unit() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
            raise ValueError("refused")
    assert await count(db) == 0


async def test_a_unit_holds_nothing_until_its_first_statement(db: Database) -> None:
    async with db.unit() as tx:
        tx.require_idle("call a slow system")  # fine: nothing held yet
        assert not tx.active and db.pool.in_use == 0
        await tx.db.fetchval("SELECT 1")  # a read outside the unit holds nothing either
        assert not tx.active
        await tx.execute("INSERT INTO t VALUES (1)")
        assert tx.active and db.pool.in_use == 1
        with pytest.raises(RuntimeError, match="inside a database transaction"):
            tx.require_idle("call a slow system")
    assert db.pool.in_use == 0 and await count(db) == 1


async def test_a_sole_statement_runs_on_its_own_and_ends_the_unit(db: Database) -> None:
    async with db.unit() as tx:
        row = await tx.sole("INSERT INTO t VALUES (1) RETURNING txid_current_if_assigned()")
        assert row is not None
        assert not tx.active  # no BEGIN/COMMIT: PostgreSQL committed it on its own
        assert await count(db) == 1
        with pytest.raises(RuntimeError, match="takes no more"):
            await tx.execute("INSERT INTO t VALUES (2)")
        with pytest.raises(RuntimeError, match="nothing can undo it"):
            tx.on_rollback(lambda: asyncio.sleep(0))
    assert await count(db) == 1


async def test_a_sole_statement_joins_a_unit_that_has_begun_or_must_undo(db: Database) -> None:
    undone: list[bool] = []

    async def undo() -> None:
        undone.append(True)

    with pytest.raises(RuntimeError, match="after the store"):
        async with db.unit() as tx:
            tx.on_rollback(undo)  # an outside effect to undo: the statement must not commit alone
            await tx.sole("INSERT INTO t VALUES (1)")
            assert tx.active
            raise RuntimeError("after the store")
    assert undone == [True] and await count(db) == 0
    async with db.unit() as tx:
        await tx.execute("INSERT INTO t VALUES (1)")
        await tx.sole("INSERT INTO t VALUES (2)")  # inside the open transaction
        await tx.execute("INSERT INTO t VALUES (3)")
    assert await count(db) == 3


async def test_a_savepoint_undoes_only_its_part(db: Database) -> None:
    async with db.unit() as tx:
        await tx.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(asyncpg.UniqueViolationError):
            async with tx.savepoint():
                await tx.execute("INSERT INTO t VALUES (2)")
                await tx.execute("INSERT INTO t VALUES (1)")
        await tx.execute("INSERT INTO t VALUES (3)")
    assert [r["x"] for r in await db.fetch("SELECT x FROM t ORDER BY x")] == [1, 3]


async def test_a_failing_effect_does_not_stop_the_others_and_is_raised(db: Database) -> None:
    seen: list[str] = []

    async def fails() -> None:
        raise OSError("the broker is away")

    async def works() -> None:
        seen.append("ran")

    with pytest.raises(OSError, match="broker"):
        async with db.unit() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
            tx.after_commit(fails)
            tx.after_commit(works)
    assert seen == ["ran"] and await count(db) == 1  # committed: the caller decides


async def test_a_unit_cancelled_mid_statement_is_rolled_back(db: Database) -> None:
    undone = asyncio.Event()

    async def undo() -> None:
        undone.set()

    async def use_case() -> None:
        async with db.unit() as tx:
            tx.on_rollback(undo)
            await tx.execute("INSERT INTO t VALUES (1)")
            await tx.execute("SELECT pg_sleep(5)")

    task = asyncio.create_task(use_case())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert undone.is_set()
    assert db.pool.in_use == 0
    assert await count(db) == 0  # the server rolled back the connection it lost
