"""Test fixtures: a real PostgreSQL for the session and a fresh database per test.

The session starts the embedded server (or uses PODIUM_TEST_DATABASE_URL, an admin URL of a
server the tests may create databases on), migrates a template database once, and clones it for
each test (CREATE DATABASE … TEMPLATE is a file copy: tens of milliseconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
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
from podium.embedded import EmbeddedPostgres, free_port
from tests.janus import JanusServer  # noqa: F401 (tests import it from here)
from tests.processes import stop, wait_for_port
from tests.s3 import S3Server
from tests.s3 import why_not as s3_why_not

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


def token_for(
    cfg: TenantConfig = TENANT, sub: str | None = None, ttl: int = 600,
    classes: list[str] | None = None,
) -> str:  # fmt: skip
    t = tenant(cfg)
    signing = ES_PRIVATE if cfg.algorithm == "ES256" else None
    return tokens.mint(t, sub or t.service_account, ttl, signing, classes)


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


# Where each server process started by `start_server` writes its output, by pid.
SERVER_LOGS: dict[int, Path] = {}


def start_server(
    database_url: str, port: int, extra_env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:  # fmt: skip
    """A real `podium serve` process on the test database, ready when this returns."""
    env = {
        **os.environ,
        "PODIUM_DATABASE_URL": database_url,
        "PODIUM_TENANTS": f'[{{"audience": "{TENANT.audience}", "key": "{TENANT.key}"}}]',
        "PODIUM_LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    log = tempfile.NamedTemporaryFile(prefix="podium-server-", suffix=".log", delete=False)  # noqa: SIM115
    with log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "podium.cli", "serve", "--port", str(port), *args],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    SERVER_LOGS[proc.pid] = Path(log.name)
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


@dataclass
class Served:
    """A real server process and a client of it (the tenant's service token by default)."""

    port: int
    proc: subprocess.Popen[bytes]
    http: httpx.AsyncClient

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def served(
    database_url: str, extra_env: dict[str, str] | None = None, token: str | None = None
) -> AsyncIterator[Served]:
    port = free_port()
    proc = start_server(database_url, port, extra_env)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=10,
            headers={"Authorization": f"Bearer {token or token_for()}"},
        ) as http:  # fmt: skip
            yield Served(port, proc, http)
    finally:
        stop_server(proc)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    stop(proc, timeout=30)


@pytest.fixture
def server_address(database_url: str) -> Iterator[str]:
    """`127.0.0.1:<port>` of a real `podium serve` process on the test's database."""
    port = free_port()
    proc = start_server(database_url, port)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop_server(proc)


class RedisServer:
    """A private redis-server on a free loopback port (Debian package `redis-server`)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tempfile.gettempdir()],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, "redis-server")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    """An S3-compatible server on loopback (moto's), with a bucket, for a module's tests."""
    if s3_why_not():
        pytest.skip(s3_why_not() or "")
    server = S3Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """A private redis-server on a free loopback port for the test."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
