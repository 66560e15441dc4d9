"""`POST /api/v1/classrooms/:id/tokens` (the original client's `fetchTokenData`): a short-lived
token that acts in one class only, as the caller, and where to go live with it."""

from __future__ import annotations

from typing import Any

import jwt
from litestar.testing import AsyncTestClient

from tests.conftest import OTHER, auth, token_for
from tests.participants.test_participants_api import add, bearer, enter


async def minigroup(client: AsyncTestClient, scope: str) -> Any:
    r = await client.post(
        "/api/v1/minigroups", json={"scope": scope, "audience": "example.org", "host": "t"}
    )
    assert r.status_code == 201, r.text
    return r.json()


def tokens_path(class_id: str) -> str:
    return f"/api/v1/classrooms/{class_id}/tokens"


async def test_an_end_user_gets_a_token_for_one_class(client: AsyncTestClient) -> None:
    a, b = await minigroup(client, "tok-a"), await minigroup(client, "tok-b")
    got = await client.post(tokens_path(a["class_id"]), headers=auth(sub="student-1"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 900
    assert body["account_id"] == "student-1" and body["class_id"] == a["class_id"]
    assert body["event_room_id"] == a["real_time"]["event_room_id"]
    assert body["conference_room_id"] == a["real_time"]["conference_room_id"]
    room = a["real_time"]["event_room_id"]
    assert body["live_url"].startswith("ws://") and body["live_url"].endswith(
        f"/api/v1/event_rooms/{room}/live"
    )
    assert body["media_url"].endswith(f"/api/v1/classes/{a['class_id']}/media")
    token = bearer(body["token"])
    # It acts in this class (as the caller) and in no other.
    assert (await client.get(f"/api/v1/minigroups/{a['class_id']}", headers=token)
            ).status_code == 200  # fmt: skip
    assert (await client.get(f"/api/v1/event_rooms/{room}/events", headers=token)
            ).status_code == 200  # fmt: skip
    assert (await client.get(f"/api/v1/minigroups/{b['class_id']}", headers=token)
            ).status_code == 404  # fmt: skip
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == "student-1" and claims["cid"] == a["class_id"]


async def test_it_gives_no_more_than_the_caller_had(client: AsyncTestClient) -> None:
    m = await minigroup(client, "tok-c")
    # The tenant's backend gets an end user's token: no service rights through it.
    service = (await client.post(tokens_path(m["class_id"]))).json()
    created = await client.post(
        "/api/v1/minigroups",
        headers=bearer(service["token"]),
        json={"scope": "x", "audience": "example.org", "host": "t"},
    )
    assert created.status_code == 403
    # It never outlives the caller's own token.
    short = {"Authorization": f"Bearer {token_for(sub='student-1', ttl=60)}"}
    assert (await client.post(tokens_path(m["class_id"]), headers=short)).json()[
        "expires_in"] <= 90  # fmt: skip
    # A participant stays that participant: held in the lobby, still held.
    guest = (await add(client, m["class_id"], display_name="G", role="guest")).json()
    await client.put(f"/api/v1/minigroups/{m['class_id']}/lobby", json={"state": 1})
    guest_token = bearer((await enter(client, guest)).json()["access_token"])
    issued = (await client.post(tokens_path(m["class_id"]), headers=guest_token)).json()
    room = m["real_time"]["event_room_id"]
    held = await client.get(f"/api/v1/event_rooms/{room}/events", headers=bearer(issued["token"]))
    assert held.status_code == 412
    # Another tenant's class, an unknown one, no token: nothing.
    assert (await client.post(tokens_path(m["class_id"]), headers=auth(OTHER))).status_code == 404
    assert (await client.post(tokens_path("nope"))).status_code == 422
    assert (await client.post(tokens_path(m["class_id"]), headers={"Authorization": ""})
            ).status_code == 401  # fmt: skip
