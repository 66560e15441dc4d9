"""Shared by the conference tests: a real Janus per test, an app wired to it, and waiting."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.config import JanusServerConfig, Settings
from tests.conftest import OTHER, TENANT, JanusServer, auth

needs_janus = pytest.mark.skipif(
    shutil.which("janus") is None, reason="janus is not installed (Debian: apt-get install janus)"
)

# Checks and jobs run often, so tests see their effects quickly.
QUICK = {"janus_check_seconds": 0.2, "jobs_poll_seconds": 0.05}


@pytest.fixture
def janus() -> Iterator[JanusServer]:
    server = JanusServer("j1", capacity=50)
    server.start()
    yield server
    server.stop()


async def client_for(
    database_url: str, *servers: JanusServer, **overrides: Any
) -> AsyncIterator[AsyncTestClient]:
    settings = Settings(  # type: ignore[call-arg]
        tenants=[TENANT, OTHER], _env_file=None,
        janus_urls=[JanusServerConfig(**s.config()) for s in servers],  # type: ignore[arg-type]
        **overrides,
    )  # fmt: skip
    async with AsyncTestClient(create_app(settings, database_url)) as c:
        c.headers.update(auth())
        yield c


def minigroup(scope: str, reserve: int | None = None, **extra: Any) -> dict[str, Any]:
    return {"scope": scope, "audience": "example.org", "host": "t", "reserve": reserve, **extra}


async def conference_row(database_url: str, room_id: str) -> asyncpg.Record:
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT * FROM conference_rooms WHERE id = $1", uuid.UUID(room_id)
        )
    finally:
        await conn.close()
    assert row is not None
    return row


async def eventually(condition: Any, seconds: float = 10) -> None:
    """Wait until `condition()` (sync or async) is true."""
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


ROOT = Path(__file__).resolve().parents[2]
UNSHARE = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]


def why_no_media() -> str | None:
    """Why media cannot flow here (a test with media skips with it), or None."""
    if shutil.which("janus") is None:
        return "janus is not installed (Debian: apt-get install janus)"
    if importlib.util.find_spec("aiortc") is None:
        return "aiortc is not installed (pip install aiortc)"
    if shutil.which("ip") is None or shutil.which("unshare") is None:
        return "needs `ip` (iproute2) and `unshare` (util-linux)"
    probe = subprocess.run([*UNSHARE, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return "this machine refuses network namespaces (unshare --net needs root)"
    return None


def run_scenario(module: str) -> dict[str, Any]:
    """Run a media scenario module in its own network and pid namespace (notes/janus.md): what
    it saw, from the one RESULT line it prints."""
    proc = subprocess.run(
        [*UNSHARE, sys.executable, "-m", module],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    seen: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    return seen
