"""Participants and their entry links: add, read, change, rotate, cancel; entering a class
through a link (time window, single use, revocation, forgery); what a participant's token may do."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OTHER, auth


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def webinar(client: AsyncTestClient, scope: str, time_: list[Any] | None = None) -> Any:
    body: dict[str, Any] = {"title": "W", "scope": scope, "audience": "example.org"}
    if time_ is not None:
        body["time"] = time_
    r = await client.post("/api/v1/webinars", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def add(client: AsyncTestClient, class_id: str, **body: Any) -> Any:
    body.setdefault("display_name", "Ann")
    return await client.post(f"/api/v1/classes/{class_id}/participants", json=body)


def entry_token(participant: dict[str, Any]) -> str:
    return str(participant["entry_url"]).rsplit("/join/", 1)[1]


async def enter(client: AsyncTestClient, participant: dict[str, Any]) -> Any:
    return await client.post(
        "/api/v1/join",
        json={"entry_token": entry_token(participant)},
        headers={"Authorization": ""},
    )


async def test_add_read_list_and_change(client: AsyncTestClient) -> None:
    w = await webinar(client, "p-1")
    r = await add(client, w["class_id"], display_name="Ann", role="moderator",
                  picture="https://example.org/a.png", state="opaque-1",
                  permissions={"screen": False})  # fmt: skip
    assert r.status_code == 201, r.text
    ann = r.json()
    assert ann["role"] == "moderator" and ann["state"] == "opaque-1" and not ann["canceled"]
    assert ann["permissions"] == {
        "start_call": True, "join_call": True, "ignore_lobby": True, "audio": True,
        "video": True, "screen": False, "chat": True, "reactions": True,
    }  # fmt: skip
    assert ann["entry_url"].startswith("http://127.0.0.1:8080/join/")
    assert ann["account_id"] == f"participant:{ann['participant_id']}"
    guest = (await add(client, w["class_id"], display_name="Bob", role="guest",
                       account_id="bob")).json()  # fmt: skip
    assert guest["permissions"]["ignore_lobby"] is False and guest["permissions"]["screen"] is False
    assert guest["account_id"] == "bob"
    r = await client.get(f"/api/v1/participants/{ann['participant_id']}")
    assert r.json() == ann
    page = (await client.get(f"/api/v1/classes/{w['class_id']}/participants")).json()
    assert [p["display_name"] for p in page["participants"]] == ["Ann", "Bob"]
    assert page["has_next"] is False
    page = (
        await client.get(f"/api/v1/classes/{w['class_id']}/participants", params={"limit": 1})
    ).json()
    assert len(page["participants"]) == 1 and page["has_next"] is True
    r = await client.put(f"/api/v1/participants/{guest['participant_id']}",
                         json={"display_name": "Robert", "state": None,
                               "permissions": {"chat": False}})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "Robert" and r.json()["permissions"]["chat"] is False
    assert r.json()["entry_url"] == guest["entry_url"]  # the link stays unless rotated


async def test_bad_input(client: AsyncTestClient) -> None:
    w = await webinar(client, "p-2")
    r = await add(client, w["class_id"], permissions={"fly": True})
    assert r.status_code == 422 and r.json()["field"] == "permissions.fly"
    r = await add(client, w["class_id"], role="king")
    assert r.status_code == 422 and r.json()["field"] == "role"
    r = await add(client, w["class_id"], display_name="")
    assert r.status_code == 422 and r.json()["field"] == "display_name"
    assert (await add(client, w["class_id"], account_id="same")).status_code == 201
    r = await add(client, w["class_id"], account_id="same")
    assert r.status_code == 409 and r.json()["type"] == "/problems/participant_exists"
    r = await add(client, "00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404
    r = await client.post(f"/api/v1/classes/{w['class_id']}/participants",
                          json={"display_name": "x"}, headers=auth(OTHER))  # fmt: skip
    assert r.status_code == 404  # another tenant's class
    r = await client.post(f"/api/v1/classes/{w['class_id']}/participants",
                          json={"display_name": "x"}, headers=auth(sub="student"))  # fmt: skip
    assert r.status_code == 403
    r = await client.put("/api/v1/participants/not-a-uuid", json={})
    assert r.status_code == 422 and r.json()["field"] == "participant_id"
    p = (await add(client, w["class_id"])).json()
    r = await client.put(f"/api/v1/participants/{p['participant_id']}", json={})
    assert r.status_code == 422 and r.json()["type"] == "/problems/nothing_to_update"


async def test_entering_through_a_link(client: AsyncTestClient) -> None:
    w = await webinar(client, "p-3")
    mod = (await add(client, w["class_id"], role="moderator", display_name="Mo")).json()
    r = await enter(client, mod)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert body["class"]["class_id"] == w["class_id"]
    assert body["participant"]["participant_id"] == mod["participant_id"]
    token = body["access_token"]
    # The participant's token reads its class and its own record...
    r = await client.get(f"/api/v1/webinars/{w['class_id']}", headers=bearer(token))
    assert r.status_code == 200
    r = await client.get(f"/api/v1/participants/{mod['participant_id']}", headers=bearer(token))
    assert r.status_code == 200
    # ...and, as a moderator, manages this class's participants, not another class's.
    r = await client.post(f"/api/v1/classes/{w['class_id']}/participants",
                          json={"display_name": "Pupil"}, headers=bearer(token))  # fmt: skip
    assert r.status_code == 201
    pupil = r.json()
    other = await webinar(client, "p-3b")
    r = await client.post(f"/api/v1/classes/{other['class_id']}/participants",
                          json={"display_name": "x"}, headers=bearer(token))  # fmt: skip
    assert r.status_code == 404  # another class is none of its business: as if it did not exist
    # A plain participant's token manages nothing and reads only its own record; it sees who
    # else is in its own class (the participant list), not another class's.
    pt = (await enter(client, pupil)).json()["access_token"]
    r = await client.get(f"/api/v1/participants/{mod['participant_id']}", headers=bearer(pt))
    assert r.status_code == 403
    r = await client.get(f"/api/v1/classes/{w['class_id']}/participants", headers=bearer(pt))
    assert r.status_code == 200 and len(r.json()["participants"]) == 2
    r = await client.get(f"/api/v1/classes/{other['class_id']}/participants", headers=bearer(pt))
    assert r.status_code == 404
    r = await client.put(f"/api/v1/participants/{pupil['participant_id']}",
                         json={"role": "owner"}, headers=bearer(pt))  # fmt: skip
    assert r.status_code == 403


async def test_links_refused_forged_rotated_used_early_late(client: AsyncTestClient) -> None:
    w = await webinar(client, "p-4")
    p = (await add(client, w["class_id"])).json()
    token = entry_token(p)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    r = await client.post("/api/v1/join", json={"entry_token": forged})
    assert r.status_code == 401 and r.json()["type"] == "/problems/invalid_link"
    assert r.json()["field"] == "entry_token"
    r = await client.post("/api/v1/join", json={"entry_token": "garbage"})
    assert r.status_code == 401
    # Rotating: the old link is dead, the new one works.
    rotated = (await client.put(f"/api/v1/participants/{p['participant_id']}",
                                json={"rotate_link": True})).json()  # fmt: skip
    assert rotated["entry_url"] != p["entry_url"]
    r = await enter(client, p)
    assert r.status_code == 410 and r.json()["type"] == "/problems/link_revoked"
    assert (await enter(client, rotated)).status_code == 200
    # Single use: the second time is refused.
    once = (await add(client, w["class_id"], single_use=True)).json()
    assert (await enter(client, once)).status_code == 200
    r = await enter(client, once)
    assert r.status_code == 410 and r.json()["type"] == "/problems/link_used"
    # Before the class starts, and after it ended.
    now = int(time.time())
    later = await webinar(client, "p-5", [now + 3600, now + 7200])
    early = (await add(client, later["class_id"])).json()
    r = await enter(client, early)
    assert r.status_code == 403 and r.json()["type"] == "/problems/link_not_yet_valid"
    ends = await webinar(client, "p-6", [now - 60, now + 3600])
    late = (await add(client, ends["class_id"])).json()
    await client.patch(f"/api/v1/webinars/{ends['class_id']}", json={"time": [now - 60, now - 1]})
    r = await enter(client, late)
    assert r.status_code == 403 and r.json()["type"] == "/problems/link_expired"
    # A participant cannot be added to a class that has closed.
    r = await add(client, ends["class_id"])
    assert r.status_code == 409 and r.json()["type"] == "/problems/class_closed"


async def test_cancel_kills_the_link_and_bans_from_the_room(
    client: AsyncTestClient, database_url: str
) -> None:
    w = await webinar(client, "p-7")
    p = (await add(client, w["class_id"], account_id="leaver")).json()
    token = (await enter(client, p)).json()["access_token"]
    room = w["real_time"]["event_room_id"]
    r = await client.post(f"/api/v1/event_rooms/{room}/events",
                          json={"type": "note", "data": {}}, headers=bearer(token))  # fmt: skip
    assert r.status_code == 201, r.text
    r = await client.delete(f"/api/v1/participants/{p['participant_id']}")
    assert r.status_code == 204
    assert (await client.delete(f"/api/v1/participants/{p['participant_id']}")).status_code == 204
    r = await enter(client, p)
    assert r.status_code == 410 and r.json()["type"] == "/problems/link_revoked"
    r = await client.post(f"/api/v1/event_rooms/{room}/events",
                          json={"type": "note", "data": {}}, headers=bearer(token))  # fmt: skip
    assert r.status_code == 403
    read = (await client.get(f"/api/v1/participants/{p['participant_id']}")).json()
    assert read["canceled"] is True and read["entry_url"] is None
    page = (await client.get(f"/api/v1/classes/{w['class_id']}/participants")).json()
    assert page["participants"] == []
    page = (await client.get(f"/api/v1/classes/{w['class_id']}/participants",
                             params={"include_canceled": "true"})).json()  # fmt: skip
    assert len(page["participants"]) == 1
    r = await client.put(f"/api/v1/participants/{p['participant_id']}", json={"state": "x"})
    assert r.status_code == 409
    conn = await asyncpg.connect(database_url)
    try:
        banned = await conn.fetchval("SELECT count(*) FROM room_bans WHERE account_id = 'leaver'")
    finally:
        await conn.close()
    assert banned == 1


async def test_a_participants_token_acts_in_its_own_class_only(
    client: AsyncTestClient, database_url: str
) -> None:
    """A token from an entry link for class X sees nothing of class A: reads, posts, the live
    socket, media and the lobby answer as if A did not exist."""
    from tests.conftest import TENANT, token_for

    x = await webinar(client, "scope-x")
    a = await webinar(client, "scope-a")
    await client.put(f"/api/v1/webinars/{a['class_id']}", json={"tags": {"s": "tag-of-class-a"}})
    moderator = (await add(client, x["class_id"], role="moderator")).json()
    token = (await enter(client, moderator)).json()["access_token"]
    mine = bearer(token)
    room_a = a["real_time"]["event_room_id"]
    own = await client.get(f"/api/v1/webinars/{x['class_id']}", headers=mine)
    assert own.status_code == 200
    probes = [
        ("GET", f"/api/v1/webinars/{a['class_id']}", None),
        ("GET", "/api/v1/audiences/example.org/webinars/scope-a", None),
        ("GET", f"/api/v1/event_rooms/{room_a}", None),
        ("GET", f"/api/v1/event_rooms/{room_a}/events", None),
        ("GET", f"/api/v1/event_rooms/{room_a}/state?sets=a", None),
        ("GET", f"/api/v1/event_rooms/{room_a}/agents", None),
        ("POST", f"/api/v1/event_rooms/{room_a}/events", {"type": "message", "data": {"t": 1}}),
        ("POST", f"/api/v1/classes/{a['class_id']}/media", None),
        ("GET", f"/api/v1/classes/{a['class_id']}/participants", None),
        ("POST", f"/api/v1/classes/{a['class_id']}/participants", {"display_name": "Eve"}),
        ("GET", f"/api/v1/classes/{a['class_id']}/lobby/queue", None),
        ("PUT", f"/api/v1/classes/{a['class_id']}/lobby", {"state": 1}),
        ("GET", f"/api/v1/webinars/{a['class_id']}/properties/p", None),
        ("POST", f"/api/v1/webinars/{a['class_id']}/timestamps", {"position": 5}),
    ]
    for method, path, body in probes:
        r = await client.request(method, path, json=body, headers=mine)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert "tag-of-class-a" not in r.text
    # A tenant's end-user token may carry the same scope as a claim.
    scoped = bearer(token_for(TENANT, sub="kid", classes=[x["class_id"]]))
    assert (
        await client.get(f"/api/v1/webinars/{x['class_id']}", headers=scoped)
    ).status_code == 200
    assert (
        await client.get(f"/api/v1/webinars/{a['class_id']}", headers=scoped)
    ).status_code == 404
    unscoped = bearer(token_for(TENANT, sub="kid"))
    assert (
        await client.get(f"/api/v1/webinars/{a['class_id']}", headers=unscoped)
    ).status_code == 200
    bad = bearer(token_for(TENANT, sub="kid", classes=["not-a-uuid"]))
    assert (await client.get(f"/api/v1/webinars/{x['class_id']}", headers=bad)).status_code == 401


async def test_a_participants_token_opens_no_other_live_socket(database_url: str) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from tests.conftest import served

    async with served(database_url) as server:
        http = server.http
        x = (
            await http.post(
                "/api/v1/webinars", json={"title": "X", "scope": "ws-x", "audience": "example.org"}
            )
        ).json()
        a = (
            await http.post(
                "/api/v1/webinars", json={"title": "A", "scope": "ws-a", "audience": "example.org"}
            )
        ).json()
        person = (
            await http.post(
                f"/api/v1/classes/{x['class_id']}/participants",
                json={"display_name": "P", "role": "moderator"},
            )
        ).json()
        token = (
            await http.post(
                "/api/v1/join", json={"entry_token": person["entry_url"].rsplit("/", 1)[1]}
            )
        ).json()["access_token"]
        base = f"{server.ws}/api/v1/event_rooms"
        async with connect(f"{base}/{x['real_time']['event_room_id']}/live?access_token={token}"):
            pass  # its own class's room opens
        other = f"{base}/{a['real_time']['event_room_id']}/live?access_token={token}"
        with pytest.raises(ConnectionClosed) as closed:
            async with connect(other) as ws:
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
