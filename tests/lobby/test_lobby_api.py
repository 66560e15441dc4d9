"""The lobby (spec 003) and its waiting queue: status codes, who it holds back (412), who
bypasses it, admit/deny, and the timer that opens it at its instant, told live."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg
import httpx
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import connect

from podium.embedded import free_port
from tests.conftest import OTHER, auth, start_server, stop_server


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def minigroup(client: Any, scope: str) -> Any:
    r = await client.post("/api/v1/minigroups", json={
        "scope": scope, "audience": "example.org", "host": "teacher", "locked_chat": False,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


async def person(client: Any, class_id: str, **body: Any) -> tuple[dict[str, Any], Any]:
    """A participant and what entering through its link answered."""
    body.setdefault("display_name", "Pat")
    p = (await client.post(f"/api/v1/classes/{class_id}/participants", json=body)).json()
    entry = p["entry_url"].rsplit("/join/", 1)[1]
    joined = (await client.post("/api/v1/join", json={"entry_token": entry})).json()
    return p, joined


async def test_lobby_status_codes(client: AsyncTestClient) -> None:
    m = await minigroup(client, "l-1")
    url = f"/api/v1/minigroups/{m['class_id']}/lobby"
    r = await client.put(url, json={"state": 1})
    assert r.status_code == 200, r.text
    assert r.json()["lobby"] == {"state": 1, "timer": None, "message": None}
    assert r.json()["class_id"] == m["class_id"]  # the class object
    for bad in ({"state": 2}, {"state": "1"}, {"state": True}, {}, [1]):
        r = await client.put(url, json=bad)
        assert r.status_code == 400, bad
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.put(url, json={"state": 1, "timer": "soon"})
    assert r.status_code == 400 and r.json()["field"] == "timer"
    r = await client.put(url, json={"state": 0, "timer": None})
    assert r.status_code == 200 and r.json()["lobby"]["state"] == 0
    # The same through /classes/, and a minigroup is not found as a webinar.
    r = await client.put(f"/api/v1/classes/{m['class_id']}/lobby", json={"state": 0})
    assert r.status_code == 200
    r = await client.put(f"/api/v1/webinars/{m['class_id']}/lobby", json={"state": 1})
    assert r.status_code == 404
    r = await client.put(url, json={"state": 1}, headers=auth(OTHER))
    assert r.status_code == 404
    r = await client.put(url, json={"state": 1}, headers=auth(sub="student"))
    assert r.status_code == 403
    r = await client.put(url, json={"state": 7}, headers=auth(sub="student"))
    assert r.status_code == 403  # who may ask is judged before what they ask
    _, pupil = await person(client, m["class_id"])
    r = await client.put(url, json={"state": 1}, headers=bearer(pupil["access_token"]))
    assert r.status_code == 403
    _, mod = await person(client, m["class_id"], role="moderator")
    r = await client.put(url, json={"state": 1}, headers=bearer(mod["access_token"]))
    assert r.status_code == 200
    # A timer in the past opens it at once.
    r = await client.put(url, json={"state": 1, "timer": int(time.time()) - 5})
    assert r.json()["lobby"]["state"] == 0


async def test_held_back_until_admitted(client: AsyncTestClient) -> None:
    m = await minigroup(client, "l-2")
    cid, room = m["class_id"], m["real_time"]["event_room_id"]
    await client.put(f"/api/v1/classes/{cid}/lobby",
                     json={"state": 1, "message": "The class starts soon"})  # fmt: skip
    p, joined = await person(client, cid, display_name="Wanda")
    assert joined["lobby"] == {"state": 1, "timer": None, "message": "The class starts soon",
                               "blocked": True, "waiting": True, "denied": False}  # fmt: skip
    token = joined["access_token"]
    post = {"type": "message", "data": {"text": "hi"}}
    r = await client.post(f"/api/v1/event_rooms/{room}/events", json=post, headers=bearer(token))
    assert r.status_code == 412 and r.json()["type"] == "/problems/lobby_blocked"
    r = await client.get(f"/api/v1/classes/{cid}/participants", headers=bearer(token))
    assert r.status_code == 412
    r = await client.get(f"/api/v1/event_rooms/{room}/events", headers=bearer(token))
    assert r.status_code == 412  # nor do they read the chat
    # Moderators, and those who may ignore the lobby, pass.
    _, mod = await person(client, cid, role="moderator")
    assert mod["lobby"]["blocked"] is False
    _, vip = await person(client, cid, permissions={"ignore_lobby": True})
    assert vip["lobby"]["blocked"] is False
    r = await client.post(f"/api/v1/event_rooms/{room}/events", json=post,
                          headers=bearer(vip["access_token"]))  # fmt: skip
    assert r.status_code == 201
    # The queue, then admission.
    queue = (await client.get(f"/api/v1/classes/{cid}/lobby/queue")).json()
    assert [w["display_name"] for w in queue] == ["Wanda"]
    r = await client.get(f"/api/v1/classes/{cid}/lobby/queue", headers=bearer(token))
    assert r.status_code == 403
    r = await client.post(f"/api/v1/classes/{cid}/lobby/admit",
                          json={"participant_ids": [p["participant_id"]]},
                          headers=bearer(mod["access_token"]))  # fmt: skip
    assert r.status_code == 200 and r.json() == {"participant_ids": [p["participant_id"]]}
    r = await client.post(f"/api/v1/event_rooms/{room}/events", json=post, headers=bearer(token))
    assert r.status_code == 201
    assert (await client.get(f"/api/v1/classes/{cid}/lobby/queue")).json() == []
    # Turning the lobby on again moves them out: admitted again only by someone inside.
    await client.put(f"/api/v1/classes/{cid}/lobby", json={"state": 1})
    r = await client.post(f"/api/v1/event_rooms/{room}/events", json=post, headers=bearer(token))
    assert r.status_code == 412
    # Deny, then admit everyone who waits.
    p2, _ = await person(client, cid, display_name="Zed")
    r = await client.post(f"/api/v1/classes/{cid}/lobby/deny",
                          json={"participant_ids": [p2["participant_id"]]})  # fmt: skip
    assert r.json() == {"participant_ids": [p2["participant_id"]]}
    queue = (await client.get(f"/api/v1/classes/{cid}/lobby/queue")).json()
    # Wanda waits again (moved out when the lobby came back on), Zed was turned away.
    assert {w["display_name"]: w["denied"] for w in queue} == {"Wanda": False, "Zed": True}
    r = await client.post(f"/api/v1/classes/{cid}/lobby/admit", json={"all": True})
    assert set(r.json()["participant_ids"]) == {p["participant_id"], p2["participant_id"]}
    r = await client.post(f"/api/v1/classes/{cid}/lobby/admit", json={})
    assert r.status_code == 422
    # What happened is in the room and in the tenant's feed.
    types = [e["type"] for e in (await client.get(f"/api/v1/event_rooms/{room}/events",
                                                  params={"limit": 100})).json()]  # fmt: skip
    assert {"lobby", "lobby.waiting", "lobby.admit", "lobby.deny"} <= set(types)
    feed = (await client.get("/api/v1/audiences/example.org/events")).json()["events"]
    assert {"lobby", "lobby.waiting", "lobby.admit", "lobby.deny"} <= {e["type"] for e in feed}
    r = await client.put(f"/api/v1/classes/{cid}/lobby/message", json={"message": "5 minutes"})
    assert r.status_code == 200 and r.json()["message"] == "5 minutes"


async def test_the_timer_opens_the_lobby_at_its_instant_and_tells_those_waiting(
    database_url: str,
) -> None:
    port = free_port()
    proc = start_server(database_url, port, {"PODIUM_JOBS_POLL_SECONDS": "0.1"})
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, headers=auth(), timeout=10) as client:
            m = await minigroup(client, "l-3")
            cid, room = m["class_id"], m["real_time"]["event_room_id"]
            opens = int(time.time()) + 2
            r = await client.put(f"/api/v1/classes/{cid}/lobby", json={"state": 1, "timer": opens})
            assert r.json()["lobby"] == {"state": 1, "timer": opens, "message": None}
            _, joined = await person(client, cid)
            assert joined["lobby"]["blocked"] is True
            token = joined["access_token"]
            ws_url = f"ws://127.0.0.1:{port}/api/v1/event_rooms/{room}/live?access_token={token}"
            async with connect(ws_url) as ws:
                # The chat goes on meanwhile; the waiting participant does not hear it.
                r = await client.post(f"/api/v1/event_rooms/{room}/events",
                                      json={"type": "message", "data": {"n": 1}})  # fmt: skip
                assert r.status_code == 201
                # Nothing is read: the socket alone hears the lobby open.
                heard = []
                async with asyncio.timeout(15):
                    while True:
                        frame = json.loads(await ws.recv())
                        event = frame.get("event") or {}
                        heard.append(event.get("type"))
                        if event.get("type") == "lobby" and event["data"]["state"] == 0:
                            break
                assert "message" not in heard
                # Let in: now the chat reaches them.
                r = await client.post(f"/api/v1/event_rooms/{room}/events",
                                      json={"type": "message", "data": {"n": 2}})  # fmt: skip
                async with asyncio.timeout(10):
                    frame = json.loads(await ws.recv())
                assert frame["event"]["type"] == "message" and frame["event"]["data"] == {"n": 2}
            opened_at = time.time()
            assert opened_at >= opens - 1
            conn = await asyncpg.connect(database_url)
            try:
                state = await conn.fetchval(
                    "SELECT lobby_state FROM classes WHERE id = $1::uuid", cid
                )
            finally:
                await conn.close()
            assert state == 0
            r = await client.post(f"/api/v1/event_rooms/{room}/events",
                                  json={"type": "message", "data": {}},
                                  headers=bearer(token))  # fmt: skip
            assert r.status_code == 201
    finally:
        stop_server(proc)


async def test_a_lobby_bound_to_the_schedule(client: AsyncTestClient) -> None:
    start = int(time.time()) + 3600
    body = {"scope": "l-4", "audience": "example.org", "host": "t", "time": [start, start + 3600]}
    r = await client.post("/api/v1/minigroups", json=body)
    cid = r.json()["class_id"]
    r = await client.put(f"/api/v1/classes/{cid}/lobby",
                         json={"state": 1, "opens_before_minutes": 15})  # fmt: skip
    assert r.status_code == 200 and r.json()["lobby"]["timer"] == start - 15 * 60
    # The start moves: the opening moves with it.
    later = start + 1800
    await client.patch(f"/api/v1/minigroups/{cid}", json={"time": [later, later + 3600]})
    r = await client.get(f"/api/v1/minigroups/{cid}")
    assert r.json()["lobby"]["timer"] == later - 15 * 60
    r = await client.put(f"/api/v1/classes/{cid}/lobby",
                         json={"state": 1, "opens_before_minutes": -1})  # fmt: skip
    assert r.status_code == 400 and r.json()["field"] == "opens_before_minutes"
