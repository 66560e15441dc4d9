"""The webinar API of spec 000 through HTTP, on a real PostgreSQL."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OTHER, auth

FUTURE = int(time.time()) + 3600


def webinar(scope: str = "w1", **extra: Any) -> dict[str, Any]:
    return {"title": "Algebra", "scope": scope, "audience": "example.org", **extra}


async def create(client: AsyncTestClient, **extra: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/webinars", json=webinar(**extra))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_create_answers_201_with_the_webinar_and_both_rooms(client: AsyncTestClient) -> None:
    r = await client.post(
        "/api/v1/webinars",
        json=webinar(
            time=[FUTURE, FUTURE + 3600],
            tags={"course": 7},
            reserve=20,
            preserve_history=False,
            locked_chat=False,
            backend="none",
        ),
    )
    assert r.status_code == 201
    body = r.json()
    assert body["id"] == "w1" and body["title"] == "Algebra"
    assert uuid.UUID(body["class_id"])
    assert uuid.UUID(body["real_time"]["event_room_id"])
    assert uuid.UUID(body["real_time"]["conference_room_id"])
    assert body["status"] == "real-time"
    assert body["on_demand"] == []
    assert body["time"] == [FUTURE, FUTURE + 3600]
    assert body["tags"] == {"course": 7}
    assert body["reserve"] == 20 and body["preserve_history"] is False
    assert body["locked_chat"] is False and body["backend"] == "none"


async def test_read_returns_what_create_returned(client: AsyncTestClient) -> None:
    created = await create(client, time=[FUTURE, FUTURE + 60])
    for path in (
        f"/api/v1/webinars/{created['class_id']}",
        "/api/v1/audiences/example.org/webinars/w1",
    ):
        r = await client.get(path)
        assert r.status_code == 200, r.text
        assert r.json() == created


async def test_rooms_are_stored_with_the_class(client: AsyncTestClient, database_url: str) -> None:
    import asyncpg

    created = await create(client, locked_chat=True, time=[FUTURE, None])
    conn = await asyncpg.connect(database_url)
    try:
        event_room = await conn.fetchrow(
            "SELECT * FROM event_rooms WHERE id = $1",
            uuid.UUID(created["real_time"]["event_room_id"]),
        )
        conference = await conn.fetchrow(
            "SELECT * FROM conference_rooms WHERE id = $1",
            uuid.UUID(created["real_time"]["conference_room_id"]),
        )
    finally:
        await conn.close()
    assert str(event_room["class_id"]) == created["class_id"]
    assert event_room["closed_at"] is None
    assert '"message": true' in event_room["locked_types"] or event_room["locked_types"]
    assert conference["backend"] == "none"
    assert int(conference["starts_at"].timestamp()) == FUTURE and conference["ends_at"] is None


async def test_properties_are_filtered_to_the_keys_asked(client: AsyncTestClient) -> None:
    created = await create(client, properties={"a": 1, "b": {"x": True}, "c": "no"})
    base = f"/api/v1/webinars/{created['class_id']}"
    assert (await client.get(base)).json()["properties"] == {}
    r = await client.get(base, params=[("class_keys", "a"), ("class_keys", "b")])
    assert r.json()["properties"] == {"a": 1, "b": {"x": True}}
    r = await client.get(base + "?class_keys[]=c&class_keys[]=missing")
    assert r.json()["properties"] == {"c": "no"}
    assert r.json()["account_properties"] == {}


async def test_account_properties_are_the_callers_own(
    client: AsyncTestClient, database_url: str
) -> None:
    import asyncpg

    created = await create(client)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO account_properties (audience, account_id, properties) VALUES "
            "('example.org', 'alice', '{\"lang\": \"en\", \"x\": 1}'),"
            "('example.org', 'bob', '{\"lang\": \"fr\"}')"
        )
    finally:
        await conn.close()
    r = await client.get(
        f"/api/v1/webinars/{created['class_id']}?account_keys[]=lang", headers=auth(sub="alice")
    )
    assert r.json()["account_properties"] == {"lang": "en"}


async def test_same_scope_again_is_409_with_the_existing_id(client: AsyncTestClient) -> None:
    created = await create(client)
    r = await client.post("/api/v1/webinars", json=webinar(title="Other"))
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["class_id"] == created["class_id"]
    assert r.json()["field"] == "scope"


async def test_the_same_scope_in_another_audience_is_another_class(
    client: AsyncTestClient,
) -> None:
    mine = await create(client)
    r = await client.post(
        "/api/v1/webinars", json={**webinar(), "audience": "other.org"}, headers=auth(OTHER)
    )
    assert r.status_code == 201
    assert r.json()["class_id"] != mine["class_id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "s", "audience": "example.org"}, "title"),
        ({"title": "t", "audience": "example.org"}, "scope"),
        ({"title": "t", "scope": "s"}, "audience"),
        (webinar(title=5), "title"),
        (webinar(title=""), "title"),
        (webinar(scope="x" * 256), "scope"),
        (webinar(time=[10, 5]), "time"),
        (webinar(time=[10, 10]), "time"),
        (webinar(time=[10]), "time"),
        (webinar(time="soon"), "time"),
        (webinar(time=[-1, 5]), "time[0]"),
        (webinar(time=[1, 10**20]), "time[1]"),
        (webinar(tags=[1, 2]), "tags"),
        (webinar(properties="x"), "properties"),
        (webinar(preserve_history="yes"), "preserve_history"),
        (webinar(reserve=-1), "reserve"),
        (webinar(reserve=2**31), "reserve"),
        (webinar(reserve=True), "reserve"),
        (webinar(reserve=1.5), "reserve"),
        (webinar(backend="jitsi"), "backend"),
        (webinar(locked_chat=1), "locked_chat"),
    ],
)
async def test_invalid_create_is_422_naming_the_field(
    client: AsyncTestClient, body: dict[str, Any], field: str
) -> None:
    r = await client.post("/api/v1/webinars", json=body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 422 and problem["field"] == field
    assert {"type", "title", "status", "detail"} <= problem.keys()


async def test_a_body_that_is_not_an_object_is_422(client: AsyncTestClient) -> None:
    r = await client.post("/api/v1/webinars", json=[1, 2])
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


async def test_janus_without_a_media_server_is_503_and_creates_nothing(
    client: AsyncTestClient,
) -> None:
    r = await client.post("/api/v1/webinars", json=webinar(backend="janus"))
    assert r.status_code == 503
    assert r.json()["type"] == "/problems/media_server_unavailable"
    assert "Janus" in r.json()["detail"]
    assert (await client.get("/api/v1/audiences/example.org/webinars/w1")).status_code == 404
    await create(client)  # the scope is still free


async def test_read_errors(client: AsyncTestClient) -> None:
    r = await client.get("/api/v1/webinars/not-a-uuid")
    assert r.status_code == 422 and r.json()["field"] == "webinar_id"
    r = await client.get(f"/api/v1/webinars/{uuid.uuid4()}")
    assert r.status_code == 404 and r.json()["type"] == "/problems/webinar_not_found"
    r = await client.get("/api/v1/audiences/example.org/webinars/nothing")
    assert r.status_code == 404


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_update_changes_fields_and_answers_the_read_shape(
    client: AsyncTestClient, method: str
) -> None:
    created = await create(client, time=[FUTURE, FUTURE + 60], tags={"a": 1})
    path = f"/api/v1/webinars/{created['class_id']}"
    r = await client.request(
        method,
        path,
        json={
            "time": [FUTURE + 100, FUTURE + 200],
            "reserve": 5,
            "host": "teacher-1",
            "title": "Geometry",
            "tags": {"b": 2},
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["time"] == [FUTURE + 100, FUTURE + 200]
    assert body["reserve"] == 5 and body["title"] == "Geometry" and body["tags"] == {"b": 2}
    assert body["real_time"]["host"] == "teacher-1"
    assert (await client.get(path)).json() == body
    # Only what is given changes; null clears host.
    r = await client.request(method, path, json={"host": None})
    assert r.json()["real_time"].get("host") is None and r.json()["title"] == "Geometry"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_update_by_scope_answers_the_same_shape(client: AsyncTestClient, method: str) -> None:
    created = await create(client)
    r = await client.request(
        method, "/api/v1/audiences/example.org/webinars/w1", json={"reserve": 3}
    )
    assert r.status_code == 200
    by_id = await client.get(f"/api/v1/webinars/{created['class_id']}")
    assert r.json() == by_id.json()


async def test_moving_the_end_into_the_past_closes_the_rooms(
    client: AsyncTestClient, database_url: str
) -> None:
    import asyncpg

    created = await create(client, time=[FUTURE, FUTURE + 60])
    path = f"/api/v1/webinars/{created['class_id']}"
    now = int(time.time())
    r = await client.put(path, json={"time": [now - 120, now - 60]})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    conn = await asyncpg.connect(database_url)
    try:
        closed = await conn.fetchval(
            "SELECT e.closed_at IS NOT NULL AND r.closed_at IS NOT NULL FROM classes c "
            "JOIN event_rooms e ON e.id = c.event_room_id "
            "JOIN conference_rooms r ON r.id = c.conference_room_id WHERE c.id = $1",
            uuid.UUID(created["class_id"]),
        )
    finally:
        await conn.close()
    assert closed
    # A closed class keeps its time; other fields may still change.
    r = await client.put(path, json={"time": [FUTURE, FUTURE + 60]})
    assert r.status_code == 409 and r.json()["type"] == "/problems/class_closed"
    assert (await client.put(path, json={"title": "Renamed"})).status_code == 200


async def test_update_errors(client: AsyncTestClient) -> None:
    created = await create(client, time=[FUTURE, FUTURE + 60])
    path = f"/api/v1/webinars/{created['class_id']}"
    r = await client.put(path, json={})
    assert r.status_code == 422 and r.json()["type"] == "/problems/nothing_to_update"
    r = await client.patch(path, json={"time": [FUTURE, FUTURE - 1]})
    assert r.status_code == 422 and r.json()["field"] == "time"
    r = await client.put(path, json={"reserve": "many"})
    assert r.status_code == 422 and r.json()["field"] == "reserve"
    r = await client.put(path, json={"title": None})
    assert r.status_code == 422 and r.json()["field"] == "title"
    r = await client.put("/api/v1/webinars/nope", json={"reserve": 1})
    assert r.status_code == 422 and r.json()["field"] == "webinar_id"
    r = await client.put(f"/api/v1/webinars/{uuid.uuid4()}", json={"reserve": 1})
    assert r.status_code == 404
    r = await client.put("/api/v1/audiences/example.org/webinars/nothing", json={"reserve": 1})
    assert r.status_code == 404


async def test_unknown_fields_are_ignored_for_older_clients(client: AsyncTestClient) -> None:
    r = await client.post("/api/v1/webinars", json=webinar(extra_field=1, host="t1"))
    assert r.status_code == 201
