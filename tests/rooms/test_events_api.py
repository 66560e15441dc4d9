"""Listing a room's events: filters, both directions, cursors, limits, tenancy."""

from __future__ import annotations

import uuid
from typing import Any

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
