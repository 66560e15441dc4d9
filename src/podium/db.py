"""The database: asyncpg pool, transactions (the only place that commits), migrations.

Two ways in, chosen per use case:
- `db.fetchrow(...)` (and fetch, fetchval, execute) for a single statement: PostgreSQL runs it
  atomically on its own, so a read or a one-statement write needs no BEGIN/COMMIT round trips;
- `async with db.transaction() as conn:` for several statements that must commit together.

Connections come from `pool.ConnectionPool` (first come, first served; see why there).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from podium.pool import ConnectionPool

MIGRATIONS = Path(__file__).parent / "migrations"

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


class Database:
    def __init__(self, url: str, *, size: int = 10) -> None:
        self.url = url
        self.size = size
        self._pool: ConnectionPool | None = None

    async def _open_connection(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(
            self.url,
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

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        async with self.pool.connection() as conn, conn.transaction():
            yield conn

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.pool.connection() as conn:
            return await conn.fetch(query, *args)  # type: ignore[no-any-return]

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
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
