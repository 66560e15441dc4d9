"""kill -9 the server while clients create webinars: every 201 survives, nothing is half-made."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import asyncpg
import httpx

from podium.embedded import free_port
from tests.conftest import TENANT, start_server, token_for


async def _client_loop(
    base: str, worker: int, created: dict[str, str], stop: asyncio.Event
) -> None:
    headers = {"Authorization": f"Bearer {token_for()}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=5) as client:
        n = 0
        while not stop.is_set():
            scope = f"crash-{worker}-{n}"
            n += 1
            try:
                r = await client.post(
                    "/api/v1/webinars",
                    json={
                        "title": "T",
                        "scope": scope,
                        "audience": TENANT.audience,
                    },
                )
            except httpx.HTTPError:
                return  # the server is gone
            if r.status_code == 201:
                created[scope] = r.json()["class_id"]


async def _load_then_kill(base: str, proc: subprocess.Popen[bytes]) -> dict[str, str]:
    created: dict[str, str] = {}
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_client_loop(base, w, created, stop)) for w in range(6)]
    deadline = time.monotonic() + 10
    while len(created) < 150 and time.monotonic() < deadline:  # noqa: ASYNC110 (a counter)
        await asyncio.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # mid-flight: requests are in progress right now
    proc.wait()
    stop.set()
    await asyncio.gather(*tasks)
    return created


def test_kill_9_loses_no_acknowledged_webinar(database_url: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(database_url, port)
    try:
        created = asyncio.run(_load_then_kill(base, proc))
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(created) >= 20, "the load did not get going"

    proc = start_server(database_url, port)
    try:
        headers = {"Authorization": f"Bearer {token_for()}"}
        with httpx.Client(base_url=base, headers=headers, timeout=5) as client:
            for scope, class_id in created.items():
                r = client.get(f"/api/v1/webinars/{class_id}")
                assert r.status_code == 200, (scope, r.text)
                body = r.json()
                assert body["id"] == scope
                assert body["real_time"]["event_room_id"]
                assert body["real_time"]["conference_room_id"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

    async def orphans() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(
                await conn.fetchval("""
                SELECT (SELECT count(*) FROM classes c
                        WHERE NOT EXISTS (SELECT 1 FROM event_rooms e WHERE e.id = c.event_room_id)
                           OR NOT EXISTS (SELECT 1 FROM conference_rooms r
                                          WHERE r.id = c.conference_room_id))
                     + (SELECT count(*) FROM event_rooms e
                        WHERE NOT EXISTS (SELECT 1 FROM classes c WHERE c.id = e.class_id))
                     + (SELECT count(*) FROM conference_rooms r
                        WHERE NOT EXISTS (SELECT 1 FROM classes c WHERE c.id = r.class_id))
            """)
            )
        finally:
            await conn.close()

    assert asyncio.run(orphans()) == 0
