"""The minigroup API of spec 001 (and what 002 accepts) through HTTP."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OTHER, auth

FUTURE = int(time.time()) + 3600
M = "/api/v1/minigroups"


def minigroup(scope: str = "m1", **extra: Any) -> dict[str, Any]:
    return {"scope": scope, "audience": "example.org", "host": "teacher-1", **extra}


async def create(client: AsyncTestClient, **extra: Any) -> dict[str, Any]:
    r = await client.post(M, json=minigroup(**extra))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_create_and_read_both_ways(client: AsyncTestClient) -> None:
    created = await create(
        client, time=[FUTURE, FUTURE + 60], tags={"t": 1}, reserve=6, properties={"is_adult": True}
    )
    assert created["real_time"]["host"] == "teacher-1"
    assert created["kind"] == "minigroup" and created["status"] == "real-time"
    by_id = await client.get(f"{M}/{created['class_id']}?class_keys[]=is_adult")
    by_scope = await client.get(
        "/api/v1/audiences/example.org/minigroups/m1", params=[("class_keys", "is_adult")]
    )
    assert by_id.status_code == by_scope.status_code == 200
    assert by_id.json() == by_scope.json()
    assert by_id.json()["properties"] == {"is_adult": True}
    assert by_id.json()["real_time"] == created["real_time"]


async def test_host_is_required(client: AsyncTestClient) -> None:
    r = await client.post(M, json={"scope": "m", "audience": "example.org"})
    assert r.status_code == 422 and r.json()["field"] == "host"


async def test_reads_are_typed(client: AsyncTestClient) -> None:
    webinar = await client.post(
        "/api/v1/webinars", json={"title": "W", "scope": "w", "audience": "example.org"}
    )
    wid = webinar.json()["class_id"]
    assert (await client.get(f"{M}/{wid}")).status_code == 404
    assert (await client.get("/api/v1/audiences/example.org/minigroups/w")).status_code == 404
    mg = await create(client)
    assert (await client.get(f"/api/v1/webinars/{mg['class_id']}")).status_code == 404


async def test_update_by_id_and_by_scope_answer_the_same_shape(client: AsyncTestClient) -> None:
    created = await create(client)
    a = await client.put(f"{M}/{created['class_id']}", json={"host": "teacher-2"})
    assert a.status_code == 200 and a.json()["real_time"]["host"] == "teacher-2"
    b = await client.put(
        "/api/v1/audiences/example.org/minigroups/m1",
        json={"time": [FUTURE, FUTURE + 100], "reserve": 3},
    )
    assert b.status_code == 200
    assert set(a.json()) == set(b.json())
    assert b.json()["time"] == [FUTURE, FUTURE + 100] and b.json()["reserve"] == 3
    assert (await client.put(f"{M}/{created['class_id']}", json={})).status_code == 422
    r = await client.put("/api/v1/audiences/example.org/minigroups/m1", json={})
    assert r.status_code == 422


async def test_download_is_404_until_a_recording_exists(client: AsyncTestClient) -> None:
    created = await create(client)
    r = await client.get(f"{M}/{created['class_id']}/download")
    assert r.status_code == 404 and r.json()["type"] == "/problems/recording_not_found"
    r = await client.get(f"{M}/{uuid.uuid4()}/download")
    assert r.status_code == 404 and r.json()["type"] == "/problems/minigroup_not_found"
    r = await client.get(f"{M}/{created['class_id']}/download", headers=auth(sub="student"))
    assert r.status_code == 403
    webinar = await client.post(
        "/api/v1/webinars", json={"title": "W", "scope": "w", "audience": "example.org"}
    )
    r = await client.get(f"/api/v1/webinars/{webinar.json()['class_id']}/download")
    assert r.status_code == 404 and r.json()["type"] == "/problems/recording_not_found"


async def events_of(client: AsyncTestClient, room_id: str, **params: Any) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/event_rooms/{room_id}/events", params=params)
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()
    return events


@pytest.mark.parametrize("kind", ["minigroups", "webinars"])
async def test_events_are_stored_in_the_class_room(client: AsyncTestClient, kind: str) -> None:
    body = (
        minigroup()
        if kind == "minigroups"
        else {"title": "W", "scope": "w1", "audience": "example.org"}
    )
    created = (await client.post(f"/api/v1/{kind}", json=body)).json()
    path = f"/api/v1/{kind}/{created['class_id']}/events"
    r = await client.post(path, json={"type": "message", "data": {"text": "hi"}})
    assert r.status_code == 201 and r.json() == {}
    r = await client.post(
        path,
        json={"type": "draw", "set": "board", "label": "s1", "attribute": "pinned", "data": [1, 2]},
    )
    assert r.status_code == 201
    r = await client.post(path, json={"type": "cursor", "data": {}, "is_persistent": False})
    assert r.status_code == 201
    events = await events_of(client, created["real_time"]["event_room_id"])
    assert [(e["type"], e["set"], e["label"], e["attribute"]) for e in events] == [
        ("message", "message", None, None),
        ("draw", "board", "s1", "pinned"),
    ]
    assert [e["seq"] for e in events] == [1, 2]
    assert events[0]["data"] == {"text": "hi"} and events[0]["created_by"] == "service"
    assert events[0]["occurred_at"] >= 0 and events[1]["occurred_at"] >= events[0]["occurred_at"]
    assert (await events_of(client, created["real_time"]["event_room_id"], type="draw"))[0][
        "label"
    ] == "s1"


async def test_event_errors(client: AsyncTestClient) -> None:
    created = await create(client)
    path = f"{M}/{created['class_id']}/events"
    assert (await client.post(path, json={"data": {}})).json()["field"] == "type"
    assert (await client.post(path, json={"type": "x"})).json()["field"] == "data"
    r = await client.post(path, json={"type": "x", "data": "y" * (100 * 1024)})
    assert r.status_code == 422 and r.json()["field"] == "data"
    r = await client.post(path, json={"type": "x", "data": 1}, headers=auth(sub="student"))
    assert r.status_code == 403
    assert (
        await client.post(f"{M}/{uuid.uuid4()}/events", json={"type": "x", "data": 1})
    ).status_code == 404
    assert (await client.post(f"{M}/nope/events", json={"type": "x", "data": 1})).json()[
        "field"
    ] == "minigroup_id"
    # A closed class's room takes no more events.
    now = int(time.time())
    await client.put(f"{M}/{created['class_id']}", json={"time": [now - 100, now - 10]})
    r = await client.post(path, json={"type": "x", "data": 1})
    assert r.status_code == 409 and r.json()["type"] == "/problems/room_closed"


async def test_whiteboard_makes_its_two_events(client: AsyncTestClient) -> None:
    created = await create(client)
    r = await client.post(f"{M}/{created['class_id']}/whiteboard")
    assert r.status_code == 201 and r.json() == {}
    doc, page = await events_of(client, created["real_time"]["event_room_id"])
    assert doc["type"] == doc["set"] == "document"
    assert doc["data"] == {
        "title": "whiteboard",
        "page": 1,
        "published": True,
        "url": "about:whiteboard",
    }
    assert uuid.UUID(doc["label"])
    assert page["type"] == "document_page"
    assert page["set"] == f"document_page_{doc['label']}"
    assert page["label"] == f"{page['set']}_1"
    assert page["data"] == {"page": 1, "title": ""}
    assert (
        await client.post(f"{M}/{created['class_id']}/whiteboard", headers=auth(sub="student"))
    ).status_code == 403
    webinar = await client.post(
        "/api/v1/webinars", json={"title": "W", "scope": "w", "audience": "example.org"}
    )
    r = await client.post(f"/api/v1/webinars/{webinar.json()['class_id']}/whiteboard")
    assert r.status_code in (404, 405)  # minigroups only


@pytest.mark.parametrize("kind", ["minigroups", "webinars"])
async def test_recreate(client: AsyncTestClient, kind: str, database_url: str) -> None:
    import asyncpg

    body = (
        minigroup()
        if kind == "minigroups"
        else {"title": "W", "scope": "w1", "audience": "example.org"}
    )
    now = int(time.time())
    created = (
        await client.post(f"/api/v1/{kind}", json={**body, "time": [now - 100, now - 10]})
    ).json()
    assert created["status"] == "closed"
    r = await client.post(
        f"/api/v1/{kind}/{created['class_id']}/recreate",
        json={"time": [FUTURE, FUTURE + 60], "locked_chat": False},
    )
    assert r.status_code == 200, r.text
    body2 = r.json()
    assert body2["class_id"] == created["class_id"] and body2["status"] == "real-time"
    assert body2["real_time"]["event_room_id"] != created["real_time"]["event_room_id"]
    assert body2["real_time"]["conference_room_id"] != created["real_time"]["conference_room_id"]
    assert body2["locked_chat"] is False and body2["time"] == [FUTURE, FUTURE + 60]
    conn = await asyncpg.connect(database_url)
    try:
        old_closed = await conn.fetchval(
            "SELECT (SELECT closed_at IS NOT NULL FROM event_rooms WHERE id = $1) AND "
            "(SELECT closed_at IS NOT NULL FROM conference_rooms WHERE id = $2)",
            uuid.UUID(created["real_time"]["event_room_id"]),
            uuid.UUID(created["real_time"]["conference_room_id"]),
        )
        new_open = await conn.fetchval(
            "SELECT closed_at IS NULL FROM event_rooms WHERE id = $1",
            uuid.UUID(body2["real_time"]["event_room_id"]),
        )
    finally:
        await conn.close()
    assert old_closed and new_open
    # Without a body field: open-ended time, chat locked.
    r = await client.post(f"/api/v1/{kind}/{created['class_id']}/recreate", json={})
    assert r.json()["time"] == [None, None] and r.json()["locked_chat"] is True


async def test_recreate_errors(client: AsyncTestClient) -> None:
    created = await create(client)
    path = f"{M}/{created['class_id']}/recreate"
    assert (await client.post(path, json={"time": [5, 1]})).status_code == 422
    assert (await client.post(path, json={}, headers=auth(sub="student"))).status_code == 403
    assert (await client.post(f"{M}/{uuid.uuid4()}/recreate", json={})).status_code == 404
    assert (await client.post(path, json={}, headers=auth(OTHER))).status_code == 404


@pytest.mark.parametrize(("sent", "kept"), [(125, 125), (-5, 0), (10**6, 86400)])
async def test_timestamps_are_clamped_and_the_last_write_wins(
    client: AsyncTestClient, sent: int, kept: int
) -> None:
    created = await create(client)
    path = f"{M}/{created['class_id']}/timestamps"
    student = auth(sub="student-1")
    r = await client.post(path, json={"position": 7}, headers=student)
    assert r.status_code == 201
    r = await client.post(path, json={"position": sent}, headers=student)
    assert r.status_code == 201
    read = (await client.get(f"{M}/{created['class_id']}", headers=student)).json()
    assert read["saved_position"] == kept
    assert "position" not in read  # shown as `position` once the class is transcoded
    other = (await client.get(f"{M}/{created['class_id']}", headers=auth(sub="s2"))).json()
    assert "saved_position" not in other


async def test_timestamp_errors(client: AsyncTestClient) -> None:
    created = await create(client)
    path = f"{M}/{created['class_id']}/timestamps"
    assert (await client.post(path, json={})).json()["field"] == "position"
    assert (await client.post(path, json={"position": "5"})).json()["field"] == "position"
    assert (
        await client.post(f"{M}/{uuid.uuid4()}/timestamps", json={"position": 1})
    ).status_code == 404


async def test_turn_host_is_one_of_the_configured(database_url: str) -> None:
    from podium.app import create_app
    from podium.config import Settings
    from tests.conftest import TENANT

    hosts = ["turn-a.example.org", "turn-b.example.org"]
    settings = Settings(tenants=[TENANT], turn_hosts=hosts, _env_file=None)  # type: ignore[call-arg]
    async with AsyncTestClient(create_app(settings, database_url)) as c:
        c.headers.update(auth())
        created = (await c.post(M, json=minigroup())).json()
        seen = {(await c.get(f"{M}/{created['class_id']}")).json()["turn_host"] for _ in range(20)}
    assert seen <= set(hosts) and seen
