"""kill -9 the server while clients write: every answered change survives whole, nothing is
half-made (webinars with their rooms; sessions with their participants; lobby changes with their
notifications)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from podium.embedded import free_port
from tests.conftest import TENANT, start_server, stop_server, token_for


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


async def _until_killed(
    proc: subprocess.Popen[bytes], loops: list[Any], enough: Any, stop: asyncio.Event
) -> None:
    """Run the client loops until `enough()`, then kill -9 the server mid-flight."""
    tasks = [asyncio.create_task(loop) for loop in loops]
    deadline = time.monotonic() + 15
    while not enough() and time.monotonic() < deadline:  # noqa: ASYNC110 (a counter)
        await asyncio.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stop.set()
    await asyncio.gather(*tasks)


def _session_body(worker: int, n: int) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(hours=1)
    return {
        "session_name": f"s-{worker}-{n}",
        "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "participants": [{"display_name": f"p{i}", "role": "guest" if i else "host"}
                         for i in range(5)],
    }  # fmt: skip


def test_kill_9_leaves_no_session_without_its_participants(database_url: str) -> None:
    """Session API creates with 5 participants each, from 6 clients: every 200 is readable
    whole after a restart; no session without all its participants, and no participant
    without its session."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(database_url, port)
    made: dict[str, str] = {}
    stop = asyncio.Event()

    async def creator(worker: int) -> None:
        headers = {"Authorization": f"Bearer {token_for()}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=5) as client:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    r = await client.post("/v1/sessions", json=_session_body(worker, n))
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    made[r.json()["session_id"]] = r.json()["session_name"]

    try:
        asyncio.run(_until_killed(proc, [creator(w) for w in range(6)],
                                  lambda: len(made) >= 60, stop))  # fmt: skip
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(made) >= 10, "the load did not get going"

    proc = start_server(database_url, port)
    try:
        headers = {"Authorization": f"Bearer {token_for()}"}
        with httpx.Client(base_url=base, headers=headers, timeout=5) as client:
            for session_id, name in made.items():
                r = client.get(f"/v1/sessions/{session_id}")
                assert r.status_code == 200 and r.json()["session_name"] == name
                assert len(r.json()["participants"]) == 5, r.text
    finally:
        stop_server(proc)

    async def counts() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(database_url)
        try:
            return list(
                await conn.fetch("""
                SELECT c.id, c.lobby_state, c.feature_flags IS NOT NULL AS flags,
                       (SELECT count(*) FROM participants p WHERE p.class_id = c.id) AS people
                FROM classes c WHERE c.kind = 'session'""")
            )
        finally:
            await conn.close()

    rows = asyncio.run(counts())
    # Every session in the database (answered or cut off by the kill) is whole.
    assert rows and all(r["people"] == 5 and r["lobby_state"] == 1 for r in rows), [
        dict(r) for r in rows if r["people"] != 5 or r["lobby_state"] != 1
    ]


def test_kill_9_loses_no_lobby_notification(database_url: str) -> None:
    """Lobby changes from 6 clients, each on its own class: every change that answered 200 has
    its notification, and so has the state each class was left in."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(database_url, port)
    answered: set[str] = set()
    stop = asyncio.Event()
    headers = {"Authorization": f"Bearer {token_for()}"}

    async def changer(worker: int) -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=5) as client:
            r = await client.post("/api/v1/webinars", json={
                "title": "T", "scope": f"lobby-{worker}", "audience": TENANT.audience})  # fmt: skip
            path = f"/api/v1/webinars/{r.json()['class_id']}/lobby"
            n = 0
            while not stop.is_set():
                n += 1
                message = f"m-{worker}-{n}"
                try:
                    r = await client.put(path, json={"state": n % 2, "message": message})
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    answered.add(message)

    try:
        asyncio.run(_until_killed(proc, [changer(w) for w in range(6)],
                                  lambda: len(answered) >= 150, stop))  # fmt: skip
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(answered) >= 20, "the load did not get going"

    async def check() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            told = {
                r["m"]
                for r in await conn.fetch(
                    "SELECT payload->>'message' AS m FROM notifications WHERE type = 'lobby'"
                )
            }
            left = {
                r["lobby_message"]
                for r in await conn.fetch(
                    "SELECT lobby_message FROM classes WHERE lobby_message IS NOT NULL"
                )
            }
        finally:
            await conn.close()
        assert answered <= told, sorted(answered - told)[:5]
        assert left <= told, sorted(left - told)  # no change stored without its notification

    asyncio.run(check())
