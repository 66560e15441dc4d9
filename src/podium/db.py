"""The database: asyncpg pool, transactions (the only place that commits), migrations.

Two ways in, chosen per use case:
- `db.fetchrow(...)` (and fetch, fetchval, execute) for a single statement: PostgreSQL runs it
  atomically on its own, so a read or a one-statement write needs no BEGIN/COMMIT round trips;
- `async with db.transaction() as conn:` for several statements that must commit together.

Connections are handed out first come, first served. asyncpg's pool lets a newcomer take a
connection that was just released to a waiter, and the waiter queues again at the back: under
load a few requests wait many times over (a measured p99 of 100 ms where p50 was 18 ms). A
semaphore sized to the pool queues callers fairly before they reach it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

MIGRATIONS = Path(__file__).parent / "migrations"

_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder().decode


class NoResetConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection released without asyncpg's reset query.

    The pool would otherwise send `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL;` on every release — about half of PostgreSQL's CPU for a simple read. Podium never
    leaves session state behind (no SET, LISTEN, cursors or session advisory locks outside a
    transaction), and an open transaction is still rolled back by asyncpg before release.
    """

    def get_reset_query(self) -> str:
        return ""


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


class Database:
    def __init__(self, url: str, *, size: int = 10) -> None:
        self.url = url
        self.size = size
        self._pool: asyncpg.Pool | None = None
        self._turns = asyncio.Semaphore(size)

    async def connect(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=min(2, self.size),
            max_size=self.size,
            init=_init_connection,
            connection_class=NoResetConnection,
            # Enforced by the server: asyncpg's client-side command_timeout costs an
            # asyncio timer per query on the hot path.
            server_settings={
                "statement_timeout": "30s",
                "idle_in_transaction_session_timeout": "60s",
            },
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("database is not connected")
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of one's own (for several statements outside a transaction)."""
        async with self._turns, self.pool.acquire() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        async with self._turns, self.pool.acquire() as conn, conn.transaction():
            yield conn

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self._turns:
            return await self.pool.fetch(query, *args)  # type: ignore[no-any-return]

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self._turns:
            return await self.pool.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self._turns:
            return await self.pool.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        async with self._turns:
            return await self.pool.execute(query, *args)  # type: ignore[no-any-return]

    async def ping(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self.fetchval("SELECT 1"), 2))
        except (OSError, asyncpg.PostgresError, TimeoutError, RuntimeError):
            return False


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
