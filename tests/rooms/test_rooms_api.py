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
    got = await post(client, r["id"], STUDENT, type="note", set="board", label="s1", data={"x": 1})
    assert got.status_code == 201
    event = got.json()
    assert event["type"] == "note" and event["set"] == "board" and event["label"] == "s1"
    assert event["created_by"] == "student-1" and event["seq"] == 1 and event["room_id"] == r["id"]
    live_only = await post(client, r["id"], STUDENT, type="cursor", is_persistent=False)
    assert live_only.status_code == 201 and live_only.json() == {}
    listed = await client.get(f"/api/v1/event_rooms/{r['id']}/events")
    assert [e["type"] for e in listed.json()] == ["note"]


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
    # Each item says when its first version occurred (the original's cursor).
    assert now["board"][0]["original_occurred_at"] == first["occurred_at"]
    assert "empty" not in now
    # As of the moment of the first stroke: a at version 1, b not drawn yet.
    then = await state(client, rid, sets=["board", "layout"], occurred_at=first["occurred_at"])
    assert [(e["label"], e["data"]) for e in then["board"]] == [("a", {"v": 1})]
    assert then["layout"]["data"] == {"mode": "speaker"}


async def test_state_pages_one_set_newest_first(client: AsyncTestClient) -> None:
    """The original's paging: newest items first; the next page starts strictly before the
    last item's `original_occurred_at`; a new version keeps its item's place."""
    r = await room(client)
    for i in range(5):
        await post(client, r["id"], type="draw", set="board", label=f"l{i}", data={"i": i})
    await post(client, r["id"], type="draw", set="board", label="l1", data={"i": 10})
    page = await state(client, r["id"], sets=["board"], limit=2)
    assert [e["label"] for e in page["board"]] == ["l4", "l3"] and page["has_next"] is True
    rest = await state(client, r["id"], sets=["board"], limit=10,
                       original_occurred_at=page["board"][-1]["original_occurred_at"])  # fmt: skip
    assert [(e["label"], e["data"]["i"]) for e in rest["board"]] == [
        ("l2", 2), ("l1", 10), ("l0", 0)
    ] and rest["has_next"] is False  # fmt: skip


async def test_state_by_attribute(client: AsyncTestClient) -> None:
    """`attribute` keeps the items whose newest version has it (pinned messages, say)."""
    r = await room(client, locked_chat=False)
    rid = r["id"]
    await post(client, rid, type="message", set="messages", label="m1", data={"t": 1})
    await post(client, rid, type="message", set="messages", label="m2", data={"t": 2})
    await post(client, rid, type="message", set="messages", label="m1", data={"t": 1},
               attribute="pinned")  # fmt: skip
    pinned = await state(client, rid, sets=["messages"], attribute="pinned")
    assert [e["label"] for e in pinned["messages"]] == ["m1"]
    await post(client, rid, type="message", set="messages", label="m1", data={"t": 1})
    assert "messages" not in await state(client, rid, sets=["messages"], attribute="pinned")


async def test_enter_and_list_agents(client: AsyncTestClient) -> None:
    """`enterRoom` counts the caller as `<label>.<account>`; the list pages by offset/limit and
    says who is banned (the original's shape)."""
    r = await room(client, locked_chat=False)
    base = f"/api/v1/event_rooms/{r['id']}"
    entered = await client.post(f"{base}/enter", json={"agent_label": "web",
                                                       "broadcast_subscription": True},
                                headers=STUDENT)  # fmt: skip
    assert entered.status_code == 200
    assert entered.json()["agent_id"] == "web.student-1" and entered.json()["banned"] is False
    again = await client.post(f"{base}/enter", json={"agent_label": "web"}, headers=STUDENT)
    assert again.json()["created_at"] == entered.json()["created_at"]  # entering twice: once
    await client.post(f"{base}/enter", json={"agent_label": "web"}, headers=auth(sub="s-2"))
    await client.patch(f"{base}/agents", json={"account_id": "s-2", "value": True})
    agents = (await client.get(f"{base}/agents")).json()
    assert [(a["agent_id"], a["room_id"], a["banned"]) for a in agents] == [
        ("web.student-1", r["id"], False), ("web.s-2", r["id"], True)
    ]  # fmt: skip
    assert all(isinstance(a["created_at"], int) for a in agents)
    second = (await client.get(f"{base}/agents", params={"offset": 1, "limit": 1})).json()
    assert [a["agent_id"] for a in second] == ["web.s-2"]
    assert (await client.get(f"{base}/agents", params={"limit": 26})).status_code == 422
    assert (await client.post(f"{base}/enter", json={})).json()["field"] == "agent_label"
    assert (await client.post(f"{base}/enter", json={"agent_label": "web"},
                              headers=auth(OTHER))).status_code == 404  # fmt: skip
    await client.patch(base, json={"time": [0, 1]})  # closes now
    closed = await client.post(f"{base}/enter", json={"agent_label": "web"}, headers=STUDENT)
    assert closed.status_code == 409 and closed.json()["type"] == "/problems/room_closed"


async def test_whiteboard_access(client: AsyncTestClient) -> None:
    """In a minigroup, drawing needs whiteboard access or the right to update the class; the
    map merges (`false` takes access away) and the room read carries it."""
    r = await room(client)
    base = f"/api/v1/event_rooms/{r['id']}"
    draw = {"type": "draw", "set": "board", "label": "s1"}
    refused = await post(client, r["id"], STUDENT, **draw)
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/no_whiteboard_access"
    assert (await post(client, r["id"], None, **draw)).status_code == 201  # the tenant may
    change = {"whiteboard_access": {"student-1": True, "student-2": True}}
    assert (await client.post(f"{base}/whiteboard_access", json=change,
                              headers=STUDENT)).status_code == 403  # fmt: skip
    given = await client.post(f"{base}/whiteboard_access", json=change)
    assert given.status_code == 200
    assert given.json()["whiteboard_access"] == {"student-1": True, "student-2": True}
    assert (await post(client, r["id"], STUDENT, **draw)).status_code == 201
    taken = await client.post(f"{base}/whiteboard_access",
                              json={"whiteboard_access": {"student-1": False}})  # fmt: skip
    assert taken.json()["whiteboard_access"] == {"student-2": True}
    assert (await client.get(base)).json()["whiteboard_access"] == {"student-2": True}
    assert (await post(client, r["id"], STUDENT, **draw)).status_code == 403
    # Other types are not the whiteboard's concern.
    assert (await post(client, r["id"], STUDENT, type="layout")).status_code == 201
    # A webinar's room does not check access: changing it is refused, as the original did.
    webinar = (await client.post("/api/v1/webinars", json={
        "scope": "w1", "audience": "example.org", "title": "W"})).json()  # fmt: skip
    wroom = f"/api/v1/event_rooms/{webinar['real_time']['event_room_id']}"
    no = await client.post(f"{wroom}/whiteboard_access", json=change)
    assert no.status_code == 422 and no.json()["field"] == "whiteboard_access"


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
