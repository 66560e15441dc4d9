"""Alembic environment: migrations are plain SQL run through SQLAlchemy's asyncpg dialect.

An advisory lock serialises concurrent `podium migrate` / `serve` start-ups on one database.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from podium.db import sqlalchemy_url

MIGRATION_LOCK = 7_202_611  # any constant shared by every Podium process


def _run(connection: Connection) -> None:
    connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    url = context.config.attributes["database_url"]
    engine = create_async_engine(sqlalchemy_url(url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `podium migrate`")
asyncio.run(_main())
