"""/readyz follows the database: 200 while it answers, 503 problem when it is gone."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.config import Settings
from podium.db import migrate
from podium.embedded import EmbeddedPostgres


async def test_readyz_reports_a_lost_database() -> None:
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="podium-ready-")))
    url = await asyncio.to_thread(server.start)
    try:
        await asyncio.to_thread(migrate, url)
        app = create_app(Settings(_env_file=None), url)
        async with AsyncTestClient(app) as client:
            assert (await client.get("/readyz")).status_code == 200
            await asyncio.to_thread(server.stop)
            r = await client.get("/readyz")
            assert r.status_code == 503
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["type"] == "/problems/database_unavailable"
            assert (await client.get("/healthz")).status_code == 200
    finally:
        await asyncio.to_thread(server.stop)
