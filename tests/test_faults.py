"""Faults on real processes: PostgreSQL restarted under load. Requests fail fast with 503 while
it is away, Podium recovers by itself when it is back, and leaves no connection stuck."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from podium.db import migrate
from podium.embedded import EmbeddedPostgres, free_port
from tests.conftest import start_server, stop_server, token_for


async def _load(base: str, stop: asyncio.Event, seen: list[tuple[float, int, float]]) -> None:
    """Reads and creates, one after the other, recording (when, status, seconds taken)."""
    headers = {"Authorization": f"Bearer {token_for(ttl=3600)}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
        made = await http.post(
            "/api/v1/webinars",
            json={"title": "T", "scope": f"pg-{time.monotonic_ns()}", "audience": "example.org"},
        )
        class_id = made.json()["class_id"]
        n = 0
        while not stop.is_set():
            n += 1
            t0 = time.monotonic()
            try:
                if n % 4:
                    r = await http.get(f"/api/v1/webinars/{class_id}")
                else:
                    r = await http.post("/api/v1/webinars", json={
                        "title": "T", "scope": f"pg-{time.monotonic_ns()}",
                        "audience": "example.org"})  # fmt: skip
                status = r.status_code
                if status == 503:
                    assert r.json()["type"] == "/problems/database_unavailable"
                    assert r.headers["retry-after"] == "1"
            except httpx.HTTPError:
                status = 0
            seen.append((t0, status, time.monotonic() - t0))
            await asyncio.sleep(0.02)


async def _podium_connections(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"))  # fmt: skip
    finally:
        await conn.close()


async def test_postgresql_restarted_under_load() -> None:
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="podium-fault-pg-")))
    url = await asyncio.to_thread(pg.start)
    await asyncio.to_thread(migrate, url)
    port = free_port()
    proc = start_server(url, port, {"PODIUM_DB_POOL_SIZE": "8"})
    seen: list[tuple[float, int, float]] = []
    stop = asyncio.Event()
    try:
        load = [asyncio.create_task(_load(f"http://127.0.0.1:{port}", stop, seen))
                for _ in range(4)]  # fmt: skip
        await asyncio.sleep(1.5)
        down_at = time.monotonic()
        await asyncio.to_thread(pg.stop)  # every connection Podium holds dies with it
        await asyncio.sleep(2.0)
        up_at = time.monotonic()
        await asyncio.to_thread(pg.start)  # the same port, the same data
        await asyncio.sleep(3.0)
        stop.set()
        await asyncio.gather(*load)
        before = [s for t, s, _ in seen if t < down_at]
        during = [(s, took) for t, s, took in seen if down_at + 0.3 < t < up_at]
        after = [s for t, s, _ in seen if t > up_at + 2.0]
        assert before and set(before) <= {200, 201}
        # Away: every request is answered, 503, without waiting on the database.
        assert during and {s for s, _ in during} == {503}, {s for s, _ in during}
        slowest = max(took for _, took in during)
        print(f"slowest answer while PostgreSQL was away: {slowest * 1000:.0f} ms")
        assert slowest < 5.0  # answered, never hung until the client gave up
        # Back: Podium reconnected by itself.
        assert after and set(after) <= {200, 201}, set(after)
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
        assert await _podium_connections(url) <= 8  # nothing stuck beyond its pool
    finally:
        stop_server(proc)
        pg.stop()
