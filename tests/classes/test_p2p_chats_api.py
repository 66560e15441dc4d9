"""The original client library's other kinds: `p2p` (a two-party call) and `chats` (an event room
only), with the routes every kind shares."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.config import Settings
from tests.conftest import OTHER, TENANT, auth

P = "/api/v1/p2p"
C = "/api/v1/chats"


async def events(client: AsyncTestClient, room_id: str) -> list[dict[str, Any]]:
    got = await client.get(f"/api/v1/event_rooms/{room_id}/events")
    assert got.status_code == 200, got.text
    listed: list[dict[str, Any]] = got.json()
    return listed


async def test_p2p_is_a_two_party_call_with_a_whiteboard(client: AsyncTestClient) -> None:
    r = await client.post(P, json={"scope": "call-1", "audience": "example.org",
                                   "tags": {"t": 1}, "properties": {"is_adult": True}})  # fmt: skip
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["kind"] == "p2p" and created["time"] == [None, None]  # unbounded
    assert created["record"] is False and created["locked_chat"] is False
    # Seeded with a whiteboard (a document and its first page), in the create's unit.
    room = created["real_time"]["event_room_id"]
    assert [e["type"] for e in await events(client, room)] == ["document", "document_page"]
    # Read by id and by the library's readScope path (`/audiences/:audience/p2p/:scope`).
    by_scope = await client.get("/api/v1/audiences/example.org/p2p/call-1")
    assert by_scope.status_code == 200 and by_scope.json()["class_id"] == created["class_id"]
    assert (await client.get(f"{P}/{created['class_id']}")).json()["kind"] == "p2p"
    # Its room checks whiteboard access, as a minigroup's does.
    draw = {"type": "draw", "set": "board", "label": "s", "data": {}}
    student = auth(sub="student-1")
    refused = await client.post(f"/api/v1/event_rooms/{room}/events", json=draw, headers=student)
    assert refused.status_code == 403
    # The shared routes stand under /p2p/ too.
    assert (await client.put(f"{P}/{created['class_id']}/properties/x", json={"v": 1})
            ).status_code == 200  # fmt: skip
    lobby = await client.put(f"{P}/{created['class_id']}/lobby", json={"state": 1})
    assert lobby.status_code == 200 and lobby.json()["lobby"]["state"] == 1
    assert (await client.post(f"{P}/{created['class_id']}/whiteboard")).status_code == 201
    # Without a whiteboard when told so.
    bare = (await client.post(P, json={"scope": "call-2", "audience": "example.org",
                                       "whiteboard": False})).json()  # fmt: skip
    assert await events(client, bare["real_time"]["event_room_id"]) == []
    # Another tenant sees nothing.
    assert (await client.get(f"{P}/{created['class_id']}", headers=auth(OTHER))).status_code == 404


async def test_p2p_peers_meet_on_one_turn_server(database_url: str) -> None:
    hosts = [f"turn-{i}.example.org" for i in range(5)]
    settings = Settings(tenants=[TENANT], turn_hosts=hosts, _env_file=None)  # type: ignore[call-arg]
    async with AsyncTestClient(create_app(settings, database_url)) as c:
        c.headers.update(auth())
        created = (await c.post(P, json={"scope": "pair", "audience": "example.org"})).json()
        seen = {(await c.get(f"{P}/{created['class_id']}")).json()["turn_host"] for _ in range(10)}
    assert len(seen) == 1 and seen <= set(hosts)  # a consistent hash of the scope


async def test_chats_are_an_event_room_only(client: AsyncTestClient) -> None:
    r = await client.post(C, json={"scope": "chat-1", "audience": "example.org"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["kind"] == "chat" and created["backend"] == "none"
    assert created["record"] is False and created["locked_chat"] is False
    room = created["real_time"]["event_room_id"]
    student = auth(sub="student-1")
    posted = await client.post(f"/api/v1/event_rooms/{room}/events", headers=student,
                               json={"type": "message", "data": {"text": "hi"}})  # fmt: skip
    assert posted.status_code == 201
    assert (await client.get("/api/v1/audiences/example.org/chats/chat-1")).status_code == 200
    # No media: a chat cannot be asked for Janus.
    refused = await client.post(C, json={"scope": "chat-2", "audience": "example.org",
                                         "backend": "janus"})  # fmt: skip
    assert refused.status_code == 422 and refused.json()["field"] == "backend"
    # A kind's path answers only that kind.
    assert (await client.get(f"{P}/{created['class_id']}")).status_code == 404
