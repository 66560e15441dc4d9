"""The class lifecycle: every way a class ends goes through one function, which closes both
rooms, writes `.stop` once and emits "class ended" once, inside the ending unit."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from podium.classes import lifecycle
from podium.config import JanusServerConfig, Settings
from podium.db import Database, Unit

RECORD = "INSERT INTO ended_log (class_id, cause, conference_room_id) VALUES ($1, $2, $3)"


async def record(tx: Unit, ended: lifecycle.ClassEnded) -> None:
    """A subscriber that writes in the ending unit, as recordings will (enqueue a job)."""
    await tx.execute(RECORD, ended.class_id, ended.cause.value, ended.conference_room_id)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, size=4)
    await database.connect()
    await database.execute(
        "CREATE TABLE ended_log (class_id uuid, cause text, conference_room_id uuid)"
    )
    lifecycle.on_class_ended("test.record", record)
    yield database
    lifecycle._HOOKS.pop("test.record", None)
    await database.close()


async def ends_of(db: Database, class_id: str) -> list[str]:
    rows = await db.fetch("SELECT cause FROM ended_log WHERE class_id = $1", uuid.UUID(class_id))
    return [r["cause"] for r in rows]


async def stops_of(db: Database, class_id: str) -> int:
    return int(await db.fetchval(
        "SELECT count(*) FROM notifications WHERE type LIKE '%.stop' AND payload->>'id' = $1",
        class_id,
    ))  # fmt: skip


async def rooms_closed(db: Database, class_id: str) -> bool:
    return bool(await db.fetchval("""
        SELECT e.closed_at IS NOT NULL AND r.closed_at IS NOT NULL
        FROM classes c JOIN event_rooms e ON e.id = c.event_room_id
        JOIN conference_rooms r ON r.id = c.conference_room_id WHERE c.id = $1""",
        uuid.UUID(class_id)))  # fmt: skip


async def until(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def webinar(scope: str, **extra: Any) -> dict[str, Any]:
    return {"title": "T", "scope": scope, "audience": "example.org", **extra}


async def test_an_update_that_ends_the_class_ends_it_once(
    client: AsyncTestClient, db: Database
) -> None:
    made = (await client.post("/api/v1/webinars", json=webinar("e-1"))).json()
    now = int(time.time())
    r = await client.patch(f"/api/v1/webinars/{made['class_id']}", json={"time": [now - 60, now]})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert await ends_of(db, made["class_id"]) == ["ended"]  # in the update's own unit
    assert await rooms_closed(db, made["class_id"])
    assert await stops_of(db, made["class_id"]) == 1
    await lifecycle.end_due(db, Settings(_env_file=None))  # type: ignore[call-arg]
    assert await ends_of(db, made["class_id"]) == ["ended"]  # the sweep finds it ended
    assert await stops_of(db, made["class_id"]) == 1


async def test_time_passing_ends_the_class_through_the_sweep(
    client: AsyncTestClient, db: Database
) -> None:
    now = int(time.time())
    made = await client.post("/api/v1/webinars", json=webinar("e-2", time=[now - 60, now + 1]))
    class_id = made.json()["class_id"]
    assert await ends_of(db, class_id) == []

    async def ended() -> bool:
        return await ends_of(db, class_id) == ["time_passed"]

    await until(ended)  # the app's own periodic sweep
    assert await rooms_closed(db, class_id) and await stops_of(db, class_id) == 1


async def test_a_recreate_ends_the_old_run_without_a_stop(
    client: AsyncTestClient, db: Database
) -> None:
    made = (
        await client.post(
            "/api/v1/minigroups", json={"scope": "e-3", "audience": "example.org", "host": "h"}
        )
    ).json()
    old_room = made["real_time"]["conference_room_id"]
    r = await client.post(f"/api/v1/minigroups/{made['class_id']}/recreate", json={})
    assert r.status_code == 200
    log = await db.fetch("SELECT cause, conference_room_id FROM ended_log")
    assert [(x["cause"], str(x["conference_room_id"])) for x in log] == [("recreated", old_room)]
    assert await stops_of(db, made["class_id"]) == 0
    # The new run ends on its own, once.
    now = int(time.time())
    await client.put(f"/api/v1/minigroups/{made['class_id']}", json={"time": [now - 5, now]})
    assert await ends_of(db, made["class_id"]) == ["recreated", "ended"]
    assert await stops_of(db, made["class_id"]) == 1


async def test_a_cancelled_session_ends_without_a_stop(
    client: AsyncTestClient, db: Database
) -> None:
    start = datetime.now(UTC) + timedelta(hours=1)
    body = {"session_name": "S", "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_time": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
    session = (await client.post("/v1/sessions", json=body)).json()
    assert (await client.delete(f"/v1/sessions/{session['session_id']}")).status_code == 200
    assert await ends_of(db, session["session_id"]) == ["canceled"]
    assert await rooms_closed(db, session["session_id"])
    assert await stops_of(db, session["session_id"]) == 0


async def _janus_room(database_url: str, class_id: str, **observed: Any) -> None:
    """What the Janus check would have recorded about the class's room (the check itself is
    proven against a real Janus in tests/conference)."""
    conn = await asyncpg.connect(database_url)
    try:
        sets = ", ".join(f"{k} = now() - make_interval(secs => ${i})"
                         for i, k in enumerate(observed, start=2))  # fmt: skip
        await conn.execute(
            f"UPDATE conference_rooms SET backend = 'janus', janus_server = 'j1', {sets} "
            "WHERE class_id = $1", uuid.UUID(class_id), *observed.values(),
        )  # fmt: skip
    finally:
        await conn.close()


def with_janus(**extra: Any) -> Settings:
    server = JanusServerConfig(id="j1", url="http://127.0.0.1:1/janus",
                               admin_url="http://127.0.0.1:1/admin", admin_secret="s" * 8,
                               room_key="k" * 8)  # fmt: skip
    return Settings(_env_file=None, janus_urls=[server], **extra)  # type: ignore[call-arg]


async def test_what_the_media_check_saw_ends_classes(
    client: AsyncTestClient, db: Database, database_url: str
) -> None:
    ids = {}
    for scope in ("host-left", "host-here", "long-stream", "host-left-unseen"):
        ids[scope] = (await client.post("/api/v1/webinars", json=webinar(scope))).json()["class_id"]
    settings = with_janus(host_timeout_seconds=600, max_stream_seconds=3600)
    await _janus_room(database_url, ids["host-left"], host_seen_at=700, counted_at=1)
    await _janus_room(database_url, ids["host-here"], host_seen_at=1, counted_at=1)
    await _janus_room(database_url, ids["long-stream"], first_stream_at=4000)
    # The host left long ago, but no check has looked lately (Janus away): nobody is timed out.
    await _janus_room(database_url, ids["host-left-unseen"], host_seen_at=700, counted_at=600)
    assert await lifecycle.end_due(db, settings) == 2
    assert await ends_of(db, ids["host-left"]) == ["host_timed_out"]
    assert await ends_of(db, ids["long-stream"]) == ["stream_cap"]
    assert await ends_of(db, ids["host-here"]) == await ends_of(db, ids["host-left-unseen"]) == []
    timed_out = (await client.get(f"/api/v1/webinars/{ids['host-left']}")).json()
    assert timed_out["status"] == "closed" and timed_out["timed_out"] is True
    note = await db.fetchval(
        "SELECT payload FROM notifications WHERE type = 'webinar.stop' AND payload->>'id' = $1",
        ids["host-left"],
    )
    assert note["timed_out"] is True


async def test_concurrent_enders_end_each_class_once(
    client: AsyncTestClient, db: Database, database_url: str
) -> None:
    """Sweeps in several units at once, while updates end the same classes."""
    now = int(time.time())
    ids = []
    for i in range(30):
        made = await client.post("/api/v1/webinars", json=webinar(f"c-{i}", time=[now - 60, None]))
        ids.append(made.json()["class_id"])
    conn = await asyncpg.connect(database_url)
    try:  # their end passes at once
        await conn.execute("UPDATE classes SET ends_at = now() - interval '1 second'")
    finally:
        await conn.close()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    await asyncio.gather(*(lifecycle.end_due(db, settings) for _ in range(4)))
    for class_id in ids:
        assert await ends_of(db, class_id) == ["time_passed"]
        assert await stops_of(db, class_id) == 1
