"""Replicas of a webinar on real Janus servers (no media here: replica_scenario.py sends some):
where a replica's room goes, how it reads, where viewers are seated, what refuses, and that a
replica's room closes with its webinar."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import asyncpg
import pytest

from tests.conference.conftest import QUICK, client_for, conference_row, eventually, needs_janus
from tests.conftest import JanusServer, auth

pytestmark = needs_janus

WEBINAR = {"title": "Big", "scope": "big", "audience": "example.org", "host": "presenter"}


@pytest.fixture
def pool() -> Iterator[tuple[JanusServer, JanusServer]]:
    a, b = JanusServer("a", capacity=10), JanusServer("b", capacity=30)
    a.start()
    b.start()
    yield a, b
    a.stop()
    b.stop()


async def seats(database_url: str, class_id: str) -> dict[str, str | None]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT g.account_id, g.seated_room_id FROM media_grants g JOIN classes c"
            " ON c.conference_room_id = g.conference_room_id WHERE c.id = $1",
            uuid.UUID(class_id),
        )
    finally:
        await conn.close()
    return {r["account_id"]: str(r["seated_room_id"]) if r["seated_room_id"] else None
            for r in rows}  # fmt: skip


async def test_a_replica_reads_as_its_webinar_on_another_server(
    database_url: str, pool: tuple[JanusServer, JanusServer]
) -> None:
    a, b = pool
    async for client in client_for(database_url, a, b, **QUICK):
        w = (await client.post("/api/v1/webinars", json=WEBINAR)).json()
        room = w["real_time"]["conference_room_id"]
        assert (await conference_row(database_url, room))["janus_server"] == "a"
        replicas = f"/api/v1/webinars/{w['class_id']}/replicas"
        r = await client.post(replicas, json={"scope": "big-r1", "audience": "example.org",
                                              "reserve": 20})  # fmt: skip
        assert r.status_code == 201, r.text
        rep = r.json()
        # Everything acts on the webinar: its class id and event room; the media room is its own.
        assert rep["class_id"] == w["class_id"] and rep["replica_id"] != w["class_id"]
        assert rep["scope"] == rep["id"] == "big-r1" and rep["reserve"] == 20
        assert rep["real_time"]["event_room_id"] == w["real_time"]["event_room_id"]
        replica_room = rep["real_time"]["conference_room_id"]
        assert replica_room != room and replica_room in b.rooms() and replica_room not in a.rooms()
        row = await conference_row(database_url, replica_room)
        assert row["janus_server"] == "b" and str(row["source_room_id"]) == room
        # Read by its scope, by its own id, and listed under the webinar: the same shape.
        by_scope = await client.get("/api/v1/audiences/example.org/webinars/big-r1")
        by_id = await client.get(f"/api/v1/webinars/{rep['replica_id']}")
        assert by_scope.json() == by_id.json() == rep
        assert (await client.get(replicas)).json() == [rep]
        # The webinar itself reads as before.
        assert (await client.get(f"/api/v1/webinars/{w['class_id']}")).json()["scope"] == "big"

        # Viewers are seated in the replica; the presenter in the webinar's own room.
        media = f"/api/v1/classes/{w['class_id']}/media"
        viewer = (await client.post(media, headers=auth(sub="viewer"))).json()
        presenter = (await client.post(media, headers=auth(sub="presenter"))).json()
        assert viewer["room"] == replica_room and viewer["server"] == "b"
        assert viewer["janus_url"] == b.url and viewer["role"] == "subscriber"
        assert presenter["room"] == room and presenter["server"] == "a"
        again = (await client.post(media, headers=auth(sub="viewer"))).json()
        assert again["room"] == replica_room and again["token"] == viewer["token"]
        assert await seats(database_url, w["class_id"]) == {"viewer": replica_room,
                                                            "presenter": None}  # fmt: skip
        # Revoked: the grant is revoked where it was seated (a join is refused afterwards).
        assert (await client.delete(f"{media}/viewer")).status_code == 204
        assert (await client.post(media, headers=auth(sub="viewer"))).status_code == 403

        # The webinar ends: its replica's room closes with it, and the check destroys it on b.
        assert (await client.post(f"/api/v1/classes/{w['class_id']}/end")).status_code == 200
        assert (await conference_row(database_url, replica_room))["closed_at"] is not None
        await eventually(lambda: replica_room not in b.rooms() and room not in a.rooms())
        # Still listed (the run's replicas), reading as the ended webinar does.
        ended = (await client.get(f"/api/v1/webinars/{w['class_id']}")).json()
        listed = (await client.get(replicas)).json()
        assert [x["replica_id"] for x in listed] == [rep["replica_id"]]
        assert listed[0]["time"] == ended["time"] and ended["time"][1] is not None


async def test_what_a_replica_refuses(
    database_url: str, pool: tuple[JanusServer, JanusServer]
) -> None:
    a, b = pool
    async for client in client_for(database_url, a, b, **QUICK):
        w = (await client.post("/api/v1/webinars", json=WEBINAR)).json()
        replicas = f"/api/v1/webinars/{w['class_id']}/replicas"
        body = {"scope": "big-r1", "audience": "example.org"}
        assert (await client.post(replicas, json=body)).status_code == 201
        before = set(b.rooms())
        # The scope is taken (by a replica, or by a class): 409, and no room is left on Janus.
        for scope in ("big-r1", "big"):
            r = await client.post(replicas, json={**body, "scope": scope})
            assert r.status_code == 409 and r.json()["field"] == "scope", r.text
        assert set(b.rooms()) == before
        # No such webinar (or a minigroup's id): 404; a bad id: 422; another audience: 403.
        assert (await client.post(f"/api/v1/webinars/{uuid.uuid4()}/replicas",
                                  json=body)).status_code == 404  # fmt: skip
        m = (await client.post("/api/v1/minigroups", json={
            "scope": "m", "audience": "example.org", "host": "t"})).json()  # fmt: skip
        assert (await client.post(f"/api/v1/webinars/{m['class_id']}/replicas",
                                  json={**body, "scope": "x"})).status_code == 404  # fmt: skip
        assert (await client.post("/api/v1/webinars/nope/replicas", json=body)).status_code == 422
        r = await client.post(replicas, json={**body, "scope": "y", "audience": "other.org"})
        assert r.status_code == 403
        r = await client.post(replicas, json={"audience": "example.org"})
        assert r.status_code == 422 and r.json()["field"] == "scope"
        # No media room to replicate: 409.
        n = (await client.post("/api/v1/webinars", json={**WEBINAR, "scope": "n",
                                                         "backend": "none"})).json()  # fmt: skip
        r = await client.post(f"/api/v1/webinars/{n['class_id']}/replicas",
                              json={**body, "scope": "n-r"})  # fmt: skip
        assert r.status_code == 409 and r.json()["type"] == "/problems/no_media_room"
        # No other server has room: 503, and the scope stays free.
        r = await client.post(replicas, json={**body, "scope": "huge", "reserve": 1000})
        assert r.status_code == 503 and r.json()["type"] == "/problems/capacity_exceeded"
        # A recreate ends the run: its replicas go, their scopes are free again.
        listed = (await client.get(replicas)).json()
        assert (await client.post(f"/api/v1/webinars/{w['class_id']}/recreate",
                                  json={})).status_code == 200  # fmt: skip
        assert (await client.get(replicas)).json() == []
        assert (await client.get(f"/api/v1/webinars/{listed[0]['replica_id']}")).status_code == 404
        assert (await client.post(replicas, json=body)).status_code == 201
        # A webinar that has ended: 409.
        await client.post(f"/api/v1/classes/{w['class_id']}/end")
        r = await client.post(replicas, json={**body, "scope": "late"})
        assert r.status_code == 409 and r.json()["type"] == "/problems/class_closed"


async def test_one_server_cannot_replicate(database_url: str) -> None:
    only = JanusServer("only", capacity=50)
    only.start()
    try:
        async for client in client_for(database_url, only):
            w = (await client.post("/api/v1/webinars", json=WEBINAR)).json()
            r = await client.post(f"/api/v1/webinars/{w['class_id']}/replicas",
                                  json={"scope": "r", "audience": "example.org"})  # fmt: skip
            assert r.status_code == 503 and "other than 'only'" in r.json()["detail"]
            assert only.rooms() == [w["real_time"]["conference_room_id"]]
    finally:
        only.stop()
