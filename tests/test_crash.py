"""kill -9 the server while clients write: every answered change survives whole, nothing is
half-made (webinars with their rooms; sessions with their participants; lobby changes with their
notifications)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from podium.embedded import free_port
from tests.conftest import TENANT, start_server, stop_server, token_for

HEADERS = {"Authorization": f"Bearer {token_for(ttl=3600)}"}
# One client's loop: (its client, its number, the count of writes so far) → the next write's
# answer, or None when it gave up.
Write = Callable[[httpx.AsyncClient, int, int], Awaitable[object]]


def write_until_killed(
    database_url: str, port: int, write: Write, enough: Callable[[], bool], clients: int = 6
) -> None:
    """Start a server, run `clients` loops of `write` until `enough()`, then kill -9 the server
    while requests are in flight."""
    proc = start_server(database_url, port)
    stop = asyncio.Event()

    async def loop(worker: int) -> None:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=HEADERS, timeout=5
        ) as client:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    await write(client, worker, n)
                except httpx.HTTPError:
                    return  # the server is gone

    async def run() -> None:
        tasks = [asyncio.create_task(loop(w)) for w in range(clients)]
        deadline = time.monotonic() + 15
        while not enough() and time.monotonic() < deadline:  # noqa: ASYNC110 (a counter)
            await asyncio.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)  # mid-flight: requests are in progress right now
        proc.wait()
        stop.set()
        await asyncio.gather(*tasks)

    try:
        asyncio.run(run())
    finally:
        if proc.poll() is None:
            proc.kill()


@contextlib.contextmanager
def restarted(database_url: str, port: int) -> Iterator[httpx.Client]:
    proc = start_server(database_url, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=HEADERS, timeout=5) as c:
            yield c
    finally:
        stop_server(proc)


def fetch(database_url: str, sql: str) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(database_url)
        try:
            return list(await conn.fetch(sql))
        finally:
            await conn.close()

    return asyncio.run(run())


def test_kill_9_loses_no_acknowledged_webinar(database_url: str) -> None:
    port = free_port()
    created: dict[str, str] = {}

    async def create(client: httpx.AsyncClient, worker: int, n: int) -> None:
        scope = f"crash-{worker}-{n}"
        r = await client.post(
            "/api/v1/webinars", json={"title": "T", "scope": scope, "audience": TENANT.audience}
        )
        if r.status_code == 201:
            created[scope] = r.json()["class_id"]

    write_until_killed(database_url, port, create, lambda: len(created) >= 150)
    assert len(created) >= 20, "the load did not get going"

    with restarted(database_url, port) as client:
        for scope, class_id in created.items():
            r = client.get(f"/api/v1/webinars/{class_id}")
            assert r.status_code == 200, (scope, r.text)
            body = r.json()
            assert body["id"] == scope
            assert body["real_time"]["event_room_id"]
            assert body["real_time"]["conference_room_id"]

    orphans = fetch(database_url, """
        SELECT (SELECT count(*) FROM classes c
                WHERE NOT EXISTS (SELECT 1 FROM event_rooms e WHERE e.id = c.event_room_id)
                   OR NOT EXISTS (SELECT 1 FROM conference_rooms r
                                  WHERE r.id = c.conference_room_id))
             + (SELECT count(*) FROM event_rooms e
                WHERE NOT EXISTS (SELECT 1 FROM classes c WHERE c.id = e.class_id))
             + (SELECT count(*) FROM conference_rooms r
                WHERE NOT EXISTS (SELECT 1 FROM classes c WHERE c.id = r.class_id)) AS n
    """)  # fmt: skip
    assert orphans[0]["n"] == 0


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
    made: dict[str, str] = {}

    async def create(client: httpx.AsyncClient, worker: int, n: int) -> None:
        r = await client.post("/v1/sessions", json=_session_body(worker, n))
        if r.status_code == 200:
            made[r.json()["session_id"]] = r.json()["session_name"]

    write_until_killed(database_url, port, create, lambda: len(made) >= 60)
    assert len(made) >= 10, "the load did not get going"

    with restarted(database_url, port) as client:
        for session_id, name in made.items():
            r = client.get(f"/v1/sessions/{session_id}")
            assert r.status_code == 200 and r.json()["session_name"] == name
            assert len(r.json()["participants"]) == 5, r.text

    rows = fetch(database_url, """
        SELECT c.id, c.lobby_state,
               (SELECT count(*) FROM participants p WHERE p.class_id = c.id) AS people
        FROM classes c WHERE c.kind = 'session'""")  # fmt: skip
    # Every session in the database (answered or cut off by the kill) is whole: its
    # participants and its flags (the lobby on) were stored with it. A participant without its
    # session cannot exist (a foreign key).
    assert rows and all(r["people"] == 5 and r["lobby_state"] == 1 for r in rows), [
        dict(r) for r in rows if r["people"] != 5 or r["lobby_state"] != 1
    ]


def test_kill_9_loses_no_lobby_notification(database_url: str) -> None:
    """Lobby changes from 6 clients, each on its own class: every change that answered 200 has
    its notification, and so has the state each class was left in."""
    port = free_port()
    answered: set[str] = set()
    paths: dict[int, str] = {}

    async def change(client: httpx.AsyncClient, worker: int, n: int) -> None:
        if worker not in paths:
            r = await client.post("/api/v1/webinars", json={
                "title": "T", "scope": f"lobby-{worker}", "audience": TENANT.audience})  # fmt: skip
            paths[worker] = f"/api/v1/webinars/{r.json()['class_id']}/lobby"
        message = f"m-{worker}-{n}"
        r = await client.put(paths[worker], json={"state": n % 2, "message": message})
        if r.status_code == 200:
            answered.add(message)

    write_until_killed(database_url, port, change, lambda: len(answered) >= 150)
    assert len(answered) >= 20, "the load did not get going"

    told = {r["m"] for r in fetch(database_url, """
        SELECT payload->>'message' AS m FROM notifications WHERE type = 'lobby'""")}  # fmt: skip
    left = {r["lobby_message"] for r in fetch(database_url, """
        SELECT lobby_message FROM classes WHERE lobby_message IS NOT NULL""")}  # fmt: skip
    assert answered <= told, sorted(answered - told)[:5]
    assert left <= told, sorted(left - told)  # no change stored without its notification


def test_kill_9_during_mixed_writes_loses_nothing_acknowledged(database_url: str) -> None:
    """Creates, event posts and participants from 6 clients at once: after a kill -9 and a
    restart every 2xx is there, and nothing is half-made."""
    port = free_port()
    shared: dict[str, str] = {}
    made: dict[str, set[str]] = {"classes": set(), "events": set(), "participants": set()}

    async def write(client: httpx.AsyncClient, worker: int, n: int) -> None:
        if not shared:
            r = await client.post("/api/v1/minigroups", json={
                "scope": "mixed-shared", "audience": TENANT.audience, "host": "h",
                "locked_chat": False})  # fmt: skip
            if r.status_code == 201:
                shared.update(id=r.json()["class_id"],
                              room=r.json()["real_time"]["event_room_id"])  # fmt: skip
            return
        step = n % 3
        if step == 0:
            r = await client.post(
                "/api/v1/webinars",
                json={"title": "T", "scope": f"mixed-{worker}-{n}", "audience": TENANT.audience},
            )
            if r.status_code == 201:
                made["classes"].add(r.json()["class_id"])
        elif step == 1:
            r = await client.post(
                f"/api/v1/event_rooms/{shared['room']}/events",
                json={"type": "message", "data": {"w": worker, "n": n}},
            )
            if r.status_code == 201:
                made["events"].add(r.json()["id"])
        else:
            r = await client.post(f"/api/v1/classes/{shared['id']}/participants",
                                  json={"display_name": f"p-{worker}-{n}"})  # fmt: skip
            if r.status_code == 201:
                made["participants"].add(r.json()["participant_id"])

    write_until_killed(database_url, port, write,
                       lambda: sum(len(v) for v in made.values()) >= 300)  # fmt: skip
    assert all(len(v) >= 10 for v in made.values()), {k: len(v) for k, v in made.items()}

    stored = {
        "classes": {str(r["id"]) for r in fetch(database_url, "SELECT id FROM classes")},
        "events": {str(r["id"]) for r in fetch(database_url, "SELECT id FROM events")},
        "participants": {str(r["id"]) for r in fetch(database_url,
                                                     "SELECT id FROM participants")},
    }  # fmt: skip
    for what, acknowledged in made.items():
        assert acknowledged <= stored[what], (what, len(acknowledged - stored[what]))
    seqs = [r["seq"] for r in fetch(database_url, "SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))  # the room's numbering has no hole
    half = fetch(
        database_url,
        """
        SELECT count(*) AS n FROM classes c
        WHERE NOT EXISTS (SELECT 1 FROM event_rooms e WHERE e.id = c.event_room_id)
           OR NOT EXISTS (SELECT 1 FROM conference_rooms r WHERE r.id = c.conference_room_id)""",
    )
    assert half[0]["n"] == 0
