"""Event rooms over REST: the room, participants' posts, locked types, bans, history, state."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OTHER, auth

STUDENT = auth(sub="student-1")


async def room(client: AsyncTestClient, **extra: Any) -> dict[str, Any]:
    body = {"scope": "r1", "audience": "example.org", "host": "t", **extra}
    created = (await client.post("/api/v1/minigroups", json=body)).json()
    return {"id": created["real_time"]["event_room_id"], "class": created}


async def post(
    client: AsyncTestClient, room_id: str, headers: dict[str, str] | None = None, **event: Any
) -> Any:
    return await client.post(
        f"/api/v1/event_rooms/{room_id}/events", json={"data": {}, **event}, headers=headers
    )


async def test_read_the_room(client: AsyncTestClient) -> None:
    r = await room(client, tags={"a": 1})
    got = await client.get(f"/api/v1/event_rooms/{r['id']}", headers=STUDENT)
    assert got.status_code == 200
    body = got.json()
    assert body["id"] == r["id"] and body["class_id"] == r["class"]["class_id"]
    assert body["classroom_id"] == body["class_id"]
    assert body["locked_types"] == {
        "message": True,
        "reaction": True,
        "question": True,
        "question_reaction": True,
    }
    assert body["time"][0] > 0 and body["time"][1] is None
    assert body["tags"] == {"a": 1} and body["preserve_history"] is True
    assert (
        await client.get(f"/api/v1/event_rooms/{r['id']}", headers=auth(OTHER))
    ).status_code == 404


async def test_patch_the_room(client: AsyncTestClient) -> None:
    r = await room(client)
    path = f"/api/v1/event_rooms/{r['id']}"
    got = await client.patch(path, json={"tags": {"b": 2}})
    assert got.status_code == 200 and got.json()["tags"] == {"b": 2}
    assert (await client.patch(path, json={"tags": {}}, headers=STUDENT)).status_code == 403
    assert (await client.patch(path, json={})).status_code == 422
    now = int(time.time())
    closed = await client.patch(path, json={"time": [now - 60, now - 30]})
    # A past end is clamped to now (the original's rule): the room closes now, never earlier.
    assert closed.status_code == 200 and now <= closed.json()["time"][1] <= now + 5
    again = await client.patch(path, json={"time": [None, now + 600]})
    assert again.status_code == 409 and again.json()["type"] == "/problems/room_closed"
    assert (await post(client, r["id"], type="draw")).status_code == 409


async def test_a_participant_posts_and_gets_the_stored_event(client: AsyncTestClient) -> None:
    r = await room(client)
    got = await post(client, r["id"], STUDENT, type="draw", set="board", label="s1", data={"x": 1})
    assert got.status_code == 201
    event = got.json()
    assert event["type"] == "draw" and event["set"] == "board" and event["label"] == "s1"
    assert event["created_by"] == "student-1" and event["seq"] == 1 and event["room_id"] == r["id"]
    live_only = await post(client, r["id"], STUDENT, type="cursor", is_persistent=False)
    assert live_only.status_code == 201 and live_only.json() == {}
    listed = await client.get(f"/api/v1/event_rooms/{r['id']}/events")
    assert [e["type"] for e in listed.json()] == ["draw"]


async def test_locked_chat(client: AsyncTestClient) -> None:
    r = await room(client)
    denied = await post(client, r["id"], STUDENT, type="message", data={"text": "hi"})
    assert denied.status_code == 403 and denied.json()["type"] == "/problems/type_locked"
    assert "chat is locked" in denied.json()["detail"]
    assert (await post(client, r["id"], type="message")).status_code == 201  # the tenant may
    # Unlock messages only; reactions stay locked.
    path = f"/api/v1/event_rooms/{r['id']}/locked_types"
    assert (
        await client.post(path, json={"locked_types": {"message": False}}, headers=STUDENT)
    ).status_code == 403
    opened = await client.post(path, json={"locked_types": {"message": False}})
    assert opened.status_code == 200
    assert opened.json()["locked_types"]["message"] is False
    assert opened.json()["locked_types"]["reaction"] is True
    assert (await post(client, r["id"], STUDENT, type="message")).status_code == 201
    assert (await post(client, r["id"], STUDENT, type="reaction")).status_code == 403


async def test_an_unlocked_room(client: AsyncTestClient) -> None:
    r = await room(client, locked_chat=False)
    assert (await post(client, r["id"], STUDENT, type="message")).status_code == 201


async def test_bans(client: AsyncTestClient) -> None:
    r = await room(client, locked_chat=False)
    agents = f"/api/v1/event_rooms/{r['id']}/agents"
    assert (
        await client.patch(agents, json={"account_id": "student-1", "value": True}, headers=STUDENT)
    ).status_code == 403
    banned = await client.patch(
        agents, json={"account_id": "student-1", "value": True, "reason": "spam"}
    )
    assert banned.status_code == 200
    denied = await post(client, r["id"], STUDENT, type="message")
    assert denied.status_code == 403 and denied.json()["type"] == "/problems/banned"
    assert (await post(client, r["id"], auth(sub="student-2"), type="message")).status_code == 201
    bans = (await client.get(f"/api/v1/event_rooms/{r['id']}/bans")).json()
    assert [(b["account_id"], b["reason"], b["banned_by"]) for b in bans] == [
        ("student-1", "spam", "service")
    ]
    await client.patch(agents, json={"account_id": "student-1", "value": False})
    assert (await post(client, r["id"], STUDENT, type="message")).status_code == 201
    assert (await client.get(f"/api/v1/event_rooms/{r['id']}/bans")).json() == []


async def test_post_errors(client: AsyncTestClient) -> None:
    r = await room(client)
    assert (await post(client, r["id"], type="x", data="y" * 102400)).status_code == 422
    assert (await client.post(f"/api/v1/event_rooms/{r['id']}/events", json={"type": "x"})).json()[
        "field"
    ] == "data"
    assert (await post(client, r["id"], auth(OTHER), type="x")).status_code == 404


async def test_without_history_only_the_newest_version_is_kept(client: AsyncTestClient) -> None:
    r = await room(client, preserve_history=False)
    for i in range(3):
        await post(client, r["id"], type="draw", set="board", label="s1", data={"v": i})
    await post(client, r["id"], type="draw", set="board", label="s2", data={"v": 9})
    listed = (await client.get(f"/api/v1/event_rooms/{r['id']}/events")).json()
    assert [(e["label"], e["data"]["v"]) for e in listed] == [("s1", 2), ("s2", 9)]


async def state(client: AsyncTestClient, room_id: str, **params: Any) -> Any:
    r = await client.get(f"/api/v1/event_rooms/{room_id}/state", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_versioned_state(client: AsyncTestClient) -> None:
    r = await room(client)
    rid = r["id"]
    await post(client, rid, type="layout", data={"mode": "grid"})
    await post(client, rid, type="layout", data={"mode": "speaker"})
    first = (await post(client, rid, type="draw", set="board", label="a", data={"v": 1})).json()
    await post(client, rid, type="draw", set="board", label="b", data={"v": 1})
    await post(client, rid, type="draw", set="board", label="a", data={"v": 2})
    await post(client, rid, type="draw", set="board", label="b", data={}, removed=True)
    now = await state(client, rid, **{"sets[]": ["layout", "board", "empty"]})
    assert now["layout"]["data"] == {"mode": "speaker"}
    assert [(e["label"], e["data"]) for e in now["board"]] == [("a", {"v": 2})]
    assert "empty" not in now
    # As of the moment of the first stroke: a at version 1, b not drawn yet.
    then = await state(client, rid, sets=["board", "layout"], occurred_at=first["occurred_at"])
    assert [(e["label"], e["data"]) for e in then["board"]] == [("a", {"v": 1})]
    assert then["layout"]["data"] == {"mode": "speaker"}


async def test_state_pages_one_set(client: AsyncTestClient) -> None:
    r = await room(client)
    for i in range(5):
        await post(client, r["id"], type="draw", set="board", label=f"l{i}", data={"i": i})
    page = await state(client, r["id"], sets=["board"], limit=2)
    assert [e["label"] for e in page["board"]] == ["l0", "l1"] and page["has_next"] is True
    rest = await state(client, r["id"], sets=["board"], limit=10, last_seq=page["board"][-1]["seq"])
    assert [e["label"] for e in rest["board"]] == ["l2", "l3", "l4"] and rest["has_next"] is False


@pytest.mark.parametrize("params", [{}, {"sets": [f"s{i}" for i in range(11)]}])
async def test_state_errors(client: AsyncTestClient, params: dict[str, Any]) -> None:
    r = await room(client)
    got = await client.get(f"/api/v1/event_rooms/{r['id']}/state", params=params)
    assert got.status_code == 422 and got.json()["field"] == "sets"


async def test_the_tenant_is_told_of_locked_types_and_bans(client: AsyncTestClient) -> None:
    r = await room(client)
    await client.post(
        f"/api/v1/event_rooms/{r['id']}/locked_types", json={"locked_types": {"message": False}}
    )
    await client.patch(
        f"/api/v1/event_rooms/{r['id']}/agents",
        json={"account_id": "student-1", "value": True, "reason": "spam"},
    )
    feed = (await client.get("/api/v1/audiences/example.org/events")).json()["events"]
    assert [e["type"] for e in feed] == ["room.update", "room.ban"]
    assert feed[0]["data"]["locked_types"]["message"] is False
    assert feed[1]["data"] == {
        "room_id": r["id"],
        "account_id": "student-1",
        "value": True,
        "reason": "spam",
    }


async def test_every_room_route_answers_under_the_event_services_prefix_too(
    client: AsyncTestClient,
) -> None:
    """@ulms/api-clients 5.24 (the version on npm) calls `/rooms/:id/…`; later tags call
    `/event_rooms/:id/…`: both, one handler each, both documented."""
    doc = (await client.get("/openapi.json")).json()
    new = {p for p in doc["paths"] if p.startswith("/api/v1/event_rooms/")}
    old = {p for p in doc["paths"] if p.startswith("/api/v1/rooms/")}
    assert {p.replace("/event_rooms/", "/rooms/") for p in new} - {"/api/v1/rooms/{room_id}/live"} \
        <= old  # fmt: skip
    m = (await client.post("/api/v1/minigroups", json={
        "scope": "alias-1", "audience": "example.org", "host": "t", "locked_chat": False,
    })).json()  # fmt: skip
    room = m["real_time"]["event_room_id"]
    r = await client.post(f"/api/v1/rooms/{room}/events",
                          json={"type": "message", "data": {"text": "old path"}})  # fmt: skip
    assert r.status_code == 201
    events = (await client.get(f"/api/v1/event_rooms/{room}/events")).json()
    assert [e["data"]["text"] for e in events] == ["old path"]
    assert (await client.get(f"/api/v1/rooms/{room}")).json()["id"] == room
