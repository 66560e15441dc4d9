"""The database: asyncpg connections, the unit of work (the only place that commits), migrations.

Two ways in:
- `db.fetchrow(...)` (and fetch, fetchval, execute): one statement on its own. PostgreSQL runs a
  lone statement atomically, so a read needs no BEGIN/COMMIT round trips.
- `async with db.unit() as tx:` one use case: every statement through `tx` commits together or
  not at all. The route edge (or the job) opens it; services take `tx` and never commit.
  `tx.after_commit(fn)` collects what leaves the database (broker publish, Janus hang-ups,
  wake-ups): it runs only once the commit succeeded. `tx.on_rollback(fn)` collects
  compensations for outside effects made before the data that needed them was stored (a Janus
  room made for a class that is then refused).

A unit takes a connection and begins its transaction at its first statement, not before: a use
case calls slow outside systems (Janus) first, holding nothing, and `tx.require_idle(...)` says
so in code. Connections come from `dbpool.ConnectionPool` (first come, first served; see why
there).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeAlias

import asyncpg
import msgspec

from podium.dbpool import ConnectionPool

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# A database that does not answer a new connection within this makes requests fail fast (503).
CONNECT_TIMEOUT_SECONDS = 3.0

# A result row (asyncpg ships no types: a Record reads like a mapping of column to value).
Row: TypeAlias = asyncpg.Record
# Something a unit runs after its commit, or after its rollback.
Effect = Callable[[], Awaitable[object]]

_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder().decode


def _jsonb_encode(value: Any) -> bytes:
    return b"\x01" + _json_encode(value)  # jsonb's binary format: version 1, then the text


def _jsonb_decode(data: bytes) -> Any:
    return _json_decode(data[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        encoder=_jsonb_encode,
        decoder=_jsonb_decode,
        schema="pg_catalog",
        format="binary",
    )
    await conn.set_type_codec(
        "json", encoder=_json_encode, decoder=_json_decode, schema="pg_catalog", format="binary"
    )


class Executor(Protocol):
    """Where statements run: the database (each on its own) or a unit (all together)."""

    async def fetch(self, query: str, *args: Any) -> list[Row]: ...
    async def fetchrow(self, query: str, *args: Any) -> Row | None: ...
    async def fetchval(self, query: str, *args: Any) -> Any: ...
    async def execute(self, query: str, *args: Any) -> str: ...


class Database:
    def __init__(self, url: str, *, size: int = 10) -> None:
        self.url = url
        self.size = size
        self._pool: ConnectionPool | None = None

    async def _open_connection(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(
            self.url,
            timeout=CONNECT_TIMEOUT_SECONDS,
            # Enforced by the server: a client-side timeout costs an asyncio timer per query.
            server_settings={
                "statement_timeout": "30s",
                "idle_in_transaction_session_timeout": "60s",
            },
        )
        await _init_connection(conn)
        return conn

    async def connect(self) -> None:
        pool = ConnectionPool(self._open_connection, self.size)
        pool.release(await pool.acquire())  # fail at start-up, not at the first request
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> ConnectionPool:
        if self._pool is None:
            raise RuntimeError("database is not connected")
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of one's own (for several statements outside a transaction)."""
        async with self.pool.connection() as conn:
            yield conn

    def unit(self) -> Unit:
        """One use case's transaction, as `async with db.unit() as tx:` committed when the
        block ends (then its after-commit effects run), rolled back when it raises (then its
        compensations run)."""
        return Unit(self)

    async def fetch(self, query: str, *args: Any) -> list[Row]:
        async with self.pool.connection() as conn:
            return await conn.fetch(query, *args)  # type: ignore[no-any-return]

    async def fetchrow(self, query: str, *args: Any) -> Row | None:
        async with self.pool.connection() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.pool.connection() as conn:
            return await conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        async with self.pool.connection() as conn:
            return await conn.execute(query, *args)  # type: ignore[no-any-return]

    async def ping(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self.fetchval("SELECT 1"), 2))
        except (OSError, asyncpg.PostgresError, TimeoutError, RuntimeError):
            return False


class Unit:
    """A use case's transaction and the effects that wait for its outcome (see the module).
    Its own async context manager, with slots and its lists made on first use: a hot write
    makes one per request (measured: a generator-based context manager cost it µs more)."""

    __slots__ = ("_after", "_alone", "_conn", "_top", "_undo", "db")

    def __init__(self, db: Database) -> None:
        self.db = db  # for reads outside the unit, before it begins (see `require_idle`)
        self._conn: asyncpg.Connection | None = None
        self._top: Any = None  # asyncpg's transaction object
        self._alone = False  # its one statement ran on its own (see `sole`)
        self._after: list[Effect] | None = None
        self._undo: list[Effect] | None = None

    async def __aenter__(self) -> Unit:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc is None:
            try:
                await self._commit()
            except BaseException as failed:
                await self._abandon(cancelled=isinstance(failed, asyncio.CancelledError))
                raise
            await self._after_commit()
        else:
            await self._abandon(cancelled=isinstance(exc, asyncio.CancelledError))

    @property
    def active(self) -> bool:
        """The unit holds a connection inside its transaction."""
        return self._conn is not None

    def after_commit(self, effect: Effect) -> None:
        if self._after is None:
            self._after = []
        self._after.append(effect)

    def on_rollback(self, compensation: Effect) -> None:
        if self._alone:
            raise RuntimeError("this unit's one statement has committed; nothing can undo it")
        if self._undo is None:
            self._undo = []
        self._undo.append(compensation)

    def require_idle(self, doing: str) -> None:
        """Refuse to `doing` (a call to a slow outside system) while the unit holds a pooled
        connection and whatever locks its statements took."""
        if self._conn is not None:
            raise RuntimeError(f"cannot {doing} inside a database transaction")

    async def _begin(self) -> asyncpg.Connection:
        if self._alone:
            raise RuntimeError("this unit ran its one statement on its own; it takes no more")
        if self._conn is None:
            conn = await self.db.pool.acquire()
            top = conn.transaction()
            try:
                await top.start()
            except BaseException:
                self.db.pool.release(conn, broken=True)
                raise
            self._conn, self._top = conn, top
        return self._conn

    async def fetch(self, query: str, *args: Any) -> list[Row]:
        return await (await self._begin()).fetch(query, *args)  # type: ignore[no-any-return]

    async def fetchrow(self, query: str, *args: Any) -> Row | None:
        return await (await self._begin()).fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await (await self._begin()).fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return await (await self._begin()).execute(query, *args)  # type: ignore[no-any-return]

    async def sole(self, query: str, *args: Any) -> Row | None:
        """The unit's whole work in one statement. PostgreSQL commits a lone statement on its
        own, so when nothing ran before it and nothing needs undoing, it runs without
        BEGIN/COMMIT (two round trips that cost a hot write a third of its time); the unit then
        takes no more statements. Otherwise it runs inside the transaction like any other."""
        if self._conn is not None or self._undo:
            return await self.fetchrow(query, *args)
        if self._alone:
            raise RuntimeError("this unit ran its one statement on its own; it takes no more")
        self._alone = True
        return await self.db.fetchrow(query, *args)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Statements inside are undone alone when the block raises; the unit goes on."""
        async with (await self._begin()).transaction():
            yield

    async def _commit(self) -> None:
        if self._conn is None:
            return
        await self._top.commit()
        self._release(broken=False)

    def _release(self, broken: bool) -> None:
        conn, self._conn, self._top = self._conn, None, None
        if conn is not None:
            self.db.pool.release(conn, broken=broken)

    async def _abandon(self, cancelled: bool) -> None:
        if self._conn is not None:
            if cancelled:  # interrupted mid-query: its state is unknown; the server rolls back
                self._release(broken=True)
            else:
                try:
                    await self._top.rollback()
                    self._release(broken=False)
                except Exception:
                    self._release(broken=True)
        for compensation in reversed(self._undo or ()):
            try:
                await compensation()
            except Exception as exc:  # each one on its own; the original error is what counts
                log.warning("compensation after a rollback failed: %r", exc)

    async def _after_commit(self) -> None:
        """Run every effect, in order; one that fails does not stop the others, and the first
        failure is raised once all ran (the change is committed: the caller decides)."""
        if self._after is None:
            return
        first: BaseException | None = None
        for effect in self._after:
            try:
                await effect()
            except Exception as exc:
                log.warning("an effect after commit failed: %r", exc)
                first = first or exc
        if first is not None:
            raise first


def migrate(url: str, revision: str = "head") -> None:
    """Apply Alembic migrations (synchronous; call before the event loop starts)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, revision)


def run_script(sql: str) -> None:
    """Run a multi-statement SQL script inside a migration.

    SQLAlchemy's asyncpg dialect prepares every statement, and PostgreSQL cannot prepare several
    at once; the driver's own `execute` without arguments uses the simple query protocol.
    """
    from alembic import op
    from sqlalchemy.util import await_only

    raw: Any = op.get_bind().connection.driver_connection
    await_only(raw.execute(sql))


def sqlalchemy_url(url: str) -> str:
    """The same database as an SQLAlchemy URL (for Alembic only; the runtime uses asyncpg)."""
    _, _, rest = url.partition("://")
    return f"postgresql+asyncpg://{rest}"
