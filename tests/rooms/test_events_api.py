"""Listing a room's events: filters, both directions, cursors, limits, tenancy."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OTHER, auth


async def room_with_events(client: AsyncTestClient, n: int) -> str:
    r = await client.post(
        "/api/v1/minigroups", json={"scope": "r", "audience": "example.org", "host": "t"}
    )
    created = r.json()
    for i in range(n):
        await client.post(
            f"/api/v1/minigroups/{created['class_id']}/events",
            json={"type": "even" if i % 2 == 0 else "odd", "data": {"i": i}, "label": f"l{i % 3}"},
        )
    return str(created["real_time"]["event_room_id"])


async def listed(client: AsyncTestClient, room: str, **params: Any) -> list[int]:
    r = await client.get(f"/api/v1/event_rooms/{room}/events", params=params)
    assert r.status_code == 200, r.text
    return [e["data"]["i"] for e in r.json()]


async def test_forward_backward_and_cursors(client: AsyncTestClient) -> None:
    room = await room_with_events(client, 7)
    assert await listed(client, room) == [0, 1, 2, 3, 4, 5, 6]
    assert await listed(client, room, direction="backward") == [6, 5, 4, 3, 2, 1, 0]
    assert await listed(client, room, limit=3) == [0, 1, 2]
    assert await listed(client, room, last_seq=3, limit=2) == [3, 4]  # seq is 1-based
    assert await listed(client, room, direction="backward", last_seq=3) == [1, 0]
    assert await listed(client, room, type="odd") == [1, 3, 5]
    assert await listed(client, room, label="l0") == [0, 3, 6]
    assert await listed(client, room, set="even", label="l1") == [4]


async def test_paging_through_everything_with_the_sequence_cursor(
    client: AsyncTestClient,
) -> None:
    room = await room_with_events(client, 9)
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor is not None:
            params["last_seq"] = cursor
        r = await client.get(f"/api/v1/event_rooms/{room}/events", params=params)
        page = r.json()
        if not page:
            break
        seen += [e["data"]["i"] for e in page]
        cursor = page[-1]["seq"]
    assert seen == list(range(9))


async def test_errors_and_tenancy(client: AsyncTestClient) -> None:
    room = await room_with_events(client, 1)
    base = f"/api/v1/event_rooms/{room}/events"
    assert (await client.get(base, headers=auth(sub="student"))).status_code == 200
    assert (await client.get(base, headers=auth(OTHER))).status_code == 404
    assert (await client.get(f"/api/v1/event_rooms/{uuid.uuid4()}/events")).status_code == 404
    r = await client.get("/api/v1/event_rooms/nope/events")
    assert r.status_code == 422 and r.json()["field"] == "room_id"
    for bad in ({"limit": 0}, {"limit": 101}, {"direction": "sideways"}, {"last_seq": -1}):
        r = await client.get(base, params=bad)
        assert r.status_code == 422, bad
        assert r.json()["field"] == next(iter(bad))


@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize("by_time", [False, True])
async def test_a_deep_cursor_walks_an_index(
    client: AsyncTestClient, database_url: str, forward: bool, by_time: bool
) -> None:
    """The cost of a page does not grow with the depth of the cursor: the plan reads an index
    in order and stops at the limit (no sort, no scan of the room)."""
    import json

    import asyncpg

    from podium.rooms import queries

    room = uuid.UUID(await room_with_events(client, 0))
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            """
            INSERT INTO events (id, room_id, seq, type, set, data, occurred_at, created_by,
                                created_at)
            SELECT gen_random_uuid(), $1, n, 'm', 'm', '{}', n, 'x',
                   now() - interval '1 hour' + n * interval '1 millisecond'
            FROM generate_series(1, 3000) n""",
            room,
        )
        await conn.execute("ANALYZE events")
        deep_seq = 2900 if forward else 100
        deep_ms = await conn.fetchval(
            "SELECT floor(extract(epoch FROM created_at) * 1000)::bigint FROM events "
            "WHERE room_id = $1 AND seq = $2",
            room,
            deep_seq,
        )
        sql = queries.list_events(forward, by_time)
        args = (
            room,
            None,
            None,
            None,
            None,
            None if by_time else deep_seq,
            deep_ms if by_time else None,
            50,
        )
        plan = json.dumps(json.loads(await conn.fetchval("EXPLAIN (FORMAT JSON) " + sql, *args)))
        rows = await conn.fetch(sql, *args)
    finally:
        await conn.close()
    assert "Index" in plan and '"Sort"' not in plan and "Seq Scan" not in plan, plan
    assert len(rows) == 50
    assert rows[0]["seq"] == (deep_seq + 1 if forward else deep_seq - 1)


async def test_paging_by_the_time_cursor_visits_each_millisecond_once(
    client: AsyncTestClient,
) -> None:
    room = await room_with_events(client, 6)
    events = (await client.get(f"/api/v1/event_rooms/{room}/events")).json()
    first = events[0]
    later = (
        await client.get(
            f"/api/v1/event_rooms/{room}/events", params={"last_created_at": first["created_at"]}
        )
    ).json()
    assert all(e["created_at"] > first["created_at"] for e in later)
    assert {e["seq"] for e in later} | {
        e["seq"] for e in events if e["created_at"] == first["created_at"]
    } == set(range(1, 7))


@pytest.mark.parametrize("persistent", [True, False])
async def test_null_data_is_refused_naming_data(client: AsyncTestClient, persistent: bool) -> None:
    created = (await client.post(
        "/api/v1/minigroups", json={"scope": "null", "audience": "example.org", "host": "t"}
    )).json()  # fmt: skip
    event = {"type": "message", "data": None, "is_persistent": persistent}
    room = created["real_time"]["event_room_id"]
    for path in (f"/api/v1/minigroups/{created['class_id']}/events",
                 f"/api/v1/event_rooms/{room}/events"):  # fmt: skip
        r = await client.post(path, json=event)
        assert r.status_code == 422, r.text
        assert r.json()["field"] == "data" and r.json()["type"] == "/problems/data_required"
