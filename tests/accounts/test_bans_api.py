"""Class-wide bans, the original dispatcher's way: read the account's last operation id, then
ban or unban against it; the ban reaches the event room, media, entry links and the tenant."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OTHER, auth
from tests.participants.test_participants_api import add, bearer, enter


async def minigroup(client: AsyncTestClient, scope: str = "b-1") -> Any:
    r = await client.post(
        "/api/v1/minigroups",
        json={"scope": scope, "audience": "example.org", "host": "teacher", "locked_chat": False},
    )
    assert r.status_code == 201, r.text
    return r.json()


def ban_path(account: str) -> str:
    return f"/api/v1/account/{account}/ban"


async def last_op(client: AsyncTestClient, account: str, class_id: str, **kw: Any) -> Any:
    return await client.get(f"{ban_path(account)}/{class_id}", **kw)


async def test_ban_and_unban_a_participant_across_the_class(client: AsyncTestClient) -> None:
    m = await minigroup(client)
    cid, room = m["class_id"], m["real_time"]["event_room_id"]
    ann = (await add(client, cid, display_name="Ann", account_id="ann", single_use=False)).json()
    joined = await enter(client, ann)
    assert joined.status_code == 200, joined.text
    ann_token = bearer(joined.json()["access_token"])
    say = {"type": "message", "data": {"text": "hi"}}
    assert (await client.post(f"/api/v1/event_rooms/{room}/events", json=say,
                              headers=ann_token)).status_code == 201  # fmt: skip

    assert (await last_op(client, "ann", cid)).json() == {"last_seen_op_id": 0}
    banned = await client.post(
        ban_path("ann"), json={"ban": True, "class_id": cid, "last_seen_op_id": 0, "reason": "spam"}
    )
    assert banned.status_code == 200 and banned.json() == {"last_seen_op_id": 1}
    assert (await last_op(client, "ann", cid)).json() == {"last_seen_op_id": 1}

    # The event room: no more posts (the live socket closing is proven in tests/rooms).
    refused = await client.post(f"/api/v1/event_rooms/{room}/events", json=say, headers=ann_token)
    assert refused.status_code == 403 and refused.json()["type"] == "/problems/banned"
    bans = (await client.get(f"/api/v1/event_rooms/{room}/bans")).json()
    assert [(b["account_id"], b["reason"]) for b in bans] == [("ann", "spam")]
    # Media: the grant is revoked (Janus hangs up its handles once the unit commits).
    media = await client.post(f"/api/v1/classes/{cid}/media", headers=ann_token)
    assert media.status_code == 403 and media.json()["type"] == "/problems/media_revoked"
    # Entry: the link no longer opens the class, and its page says why.
    again = await enter(client, ann)
    assert again.status_code == 403 and again.json()["type"] == "/problems/banned"
    page = await client.get("/join/" + ann["entry_url"].rsplit("/join/", 1)[1])
    assert page.status_code == 403 and "You cannot join this class" in page.text

    # A stale operation id is refused, whatever it asks.
    stale = await client.post(
        ban_path("ann"), json={"ban": False, "class_id": cid, "last_seen_op_id": 0}
    )
    assert stale.status_code == 409
    assert stale.json()["type"] == "/problems/operation_id_obsolete"
    assert stale.json()["field"] == "last_seen_op_id"

    lifted = await client.post(
        ban_path("ann"), json={"ban": False, "class_id": cid, "last_seen_op_id": 1}
    )
    assert lifted.json() == {"last_seen_op_id": 2}
    assert (await client.post(f"/api/v1/event_rooms/{room}/events", json=say,
                              headers=ann_token)).status_code == 201  # fmt: skip
    assert (await enter(client, ann)).status_code == 200
    media = await client.post(f"/api/v1/classes/{cid}/media", headers=ann_token)
    assert media.json().get("type") != "/problems/media_revoked"

    # The tenant heard both, in order, with who did it.
    feed = (await client.get("/api/v1/audiences/example.org/events")).json()["events"]
    told = [e["data"] for e in feed if e["type"] == "account.ban"]
    assert [(t["banned"], t["op_id"], t["account_id"], t["class_id"]) for t in told] == [
        (True, 1, "ann", cid), (False, 2, "ann", cid)
    ]  # fmt: skip


async def test_who_may_ban(client: AsyncTestClient) -> None:
    m = await minigroup(client, "b-2")
    cid = m["class_id"]
    body = {"ban": True, "class_id": cid, "last_seen_op_id": 0}
    student = auth(sub="student-1")
    assert (await client.post(ban_path("x"), json=body, headers=student)).status_code == 403
    assert (await last_op(client, "x", cid, headers=student)).status_code == 403
    # Another tenant's class is not there for them; nor is an unknown one.
    assert (await client.post(ban_path("x"), json=body, headers=auth(OTHER))).status_code == 404
    unknown = {**body, "class_id": "6f1e7c1a-0000-4000-8000-000000000000"}
    assert (await client.post(ban_path("x"), json=unknown)).status_code == 404
    assert (await last_op(client, "x", "not-a-uuid")).status_code == 422
    bad = await client.post(ban_path("x"), json={"ban": True, "class_id": cid})
    assert bad.status_code == 422 and bad.json()["field"] == "last_seen_op_id"
    # A moderator of the class may (a participant's token that manages it).
    mod = (await add(client, cid, display_name="Mo", role="moderator")).json()
    mod_token = bearer((await enter(client, mod)).json()["access_token"])
    assert (await client.post(ban_path("x"), json=body, headers=mod_token)).status_code == 200
