"""Test fixtures: a real PostgreSQL for the session and a fresh database per test.

The session starts the embedded server (or uses PODIUM_TEST_DATABASE_URL, an admin URL of a
server the tests may create databases on), migrates a template database once, and clones it for
each test (CREATE DATABASE … TEMPLATE is a file copy: tens of milliseconds).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.auth import tokens
from podium.auth.models import Tenant
from podium.auth.service import generate_key, tenant_from_config
from podium.config import Settings, TenantConfig
from podium.db import migrate
from podium.embedded import EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[1]

TEMPLATE = "podium_template"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    external = os.environ.get("PODIUM_TEST_DATABASE_URL")
    server = None
    if external:
        url = external
    else:
        root = Path(tempfile.mkdtemp(prefix="podium-test-pg-"))
        server = EmbeddedPostgres(root)
        url = server.start()
    try:
        asyncio.run(
            _admin(
                url,
                f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)",
                f"CREATE DATABASE {TEMPLATE}",
            )
        )
        migrate(with_database(url, TEMPLATE))
        yield url
    finally:
        if server is not None:
            server.stop()


@pytest.fixture
def database_url(pg_admin_url: str) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(pg_admin_url, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
    try:
        yield with_database(pg_admin_url, name)
    finally:
        asyncio.run(_admin(pg_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


TENANT = TenantConfig(audience="example.org", key="example-org-secret-0123456789abcdef")
OTHER = TenantConfig(audience="other.org", key="other-org-secret-0123456789abcdefgh")
_ES_PUBLIC, ES_PRIVATE = generate_key("ES256")
ES_TENANT = TenantConfig(audience="es.example", algorithm="ES256", key=_ES_PUBLIC)


def tenant(cfg: TenantConfig = TENANT) -> Tenant:
    return tenant_from_config(cfg)


def token_for(cfg: TenantConfig = TENANT, sub: str | None = None, ttl: int = 600) -> str:
    t = tenant(cfg)
    signing = ES_PRIVATE if cfg.algorithm == "ES256" else None
    return tokens.mint(t, sub or t.service_account, ttl, signing)


def auth(cfg: TenantConfig = TENANT, sub: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(cfg, sub)}"}


@pytest.fixture
def settings() -> Settings:
    return Settings(tenants=[TENANT, OTHER, ES_TENANT], _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def client(settings: Settings, database_url: str) -> AsyncIterator[AsyncTestClient]:
    app = create_app(settings, database_url)
    async with AsyncTestClient(app) as c:
        c.headers.update(auth())
        yield c


def start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    """A real `podium serve` process on the test database, ready when this returns."""
    env = {
        **os.environ,
        "PODIUM_DATABASE_URL": database_url,
        "PODIUM_TENANTS": f'[{{"audience": "{TENANT.audience}", "key": "{TENANT.key}"}}]',
        "PODIUM_LOG_LEVEL": "warning",
    }
    log = tempfile.NamedTemporaryFile(prefix="podium-server-", suffix=".log", delete=False)  # noqa: SIM115
    with log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "podium.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(Path(log.name).read_text()[-3000:])
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not become ready")
