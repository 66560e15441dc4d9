"""The `podium` command group, and what its commands share: the settings, an up-to-date
database (the configured one or the embedded server), a short-lived pool on it."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import click

from podium import logs
from podium.auth.models import Tenant
from podium.auth.service import list_tenants
from podium.config import Settings, SettingsError, load_settings
from podium.db import Database, migrate
from podium.embedded import EmbeddedPostgres, EmbeddedServerError
from podium.errors import PodiumError

T = TypeVar("T")


def read_settings() -> Settings:
    """The settings, or a clear error for the terminal."""
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The database URL, up to date (every command migrates first, so none meets a database
    without its tables): the configured one, or the embedded server's (started, then
    stopped)."""
    if settings.database_url:
        migrate(settings.database_url)
        yield settings.database_url
        return
    root = settings.data_dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    server = EmbeddedPostgres(root)
    # Two podium commands starting at once must not both start a server on one data directory.
    with open(root / ".postgres.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            url = server.start()
        except EmbeddedServerError as exc:
            raise click.ClickException(f"embedded PostgreSQL: {exc}") from None
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    try:
        migrate(url)
        yield url
    finally:
        server.stop()


def with_db(url: str, fn: Callable[[Database], Awaitable[T]]) -> T:
    """Run `fn` with a small pool on the database; Podium's errors become the command's."""

    async def run() -> T:
        db = Database(url, size=2)
        await db.connect()
        try:
            return await fn(db)
        finally:
            await db.close()

    try:
        return asyncio.run(run())
    except PodiumError as exc:
        raise click.ClickException(exc.detail) from None


def find_tenant(url: str, audience: str) -> Tenant:
    """The tenant of `audience`, or the command fails saying so."""
    found = {t.audience: t for t in with_db(url, list_tenants)}
    if audience not in found:
        raise click.ClickException(f"no tenant {audience!r}; see `podium tenant list`")
    return found[audience]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Podium: webinars and online classes. Settings come from PODIUM_* variables and .env."""
    logs.install()
