"""Joining a class's media on a real Janus: credentials, roles, revocation, capacity, policing,
the host timeout. Janus is joined the way a browser joins it (its HTTP API, no media needed
to be a participant); tests/conference/test_media.py sends real media."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from tests.conference.conftest import QUICK, client_for, eventually, minigroup, needs_janus
from tests.conference.peer import JanusRefused, JanusSession
from tests.conftest import OTHER, JanusServer, auth

pytestmark = needs_janus


def webinar(scope: str, host: str | None = "presenter", **extra: Any) -> dict[str, Any]:
    return {"title": "W", "scope": scope, "audience": "example.org", "host": host, **extra}


async def media(client: AsyncTestClient, class_id: str, sub: str) -> Any:
    return await client.post(f"/api/v1/classes/{class_id}/media", headers=auth(sub=sub))


async def scalar(database_url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def test_host_publishes_and_viewers_watch_with_tokens_janus_checks(
    database_url: str, janus: JanusServer
) -> None:
    async for client in client_for(database_url, janus):
        w = (await client.post("/api/v1/webinars", json=webinar("m-1"))).json()
        host = await media(client, w["class_id"], "presenter")
        assert host.status_code == 200, host.text
        h = host.json()
        assert h["role"] == "publisher" and h["room"] == w["real_time"]["conference_room_id"]
        assert h["janus_url"] == janus.url and h["server"] == "j1"
        assert h["ice_servers"] == [] and h["turn_host"] is None
        viewer = (await media(client, w["class_id"], "viewer-1")).json()
        assert viewer["role"] == "subscriber"
        assert viewer["token"] != h["token"] and viewer["participant_id"] != h["participant_id"]
        # Asking again (a reconnect) answers the same participant and token.
        again = (await media(client, w["class_id"], "viewer-1")).json()
        assert (again["participant_id"], again["token"]) == (
            viewer["participant_id"], viewer["token"],
        )  # fmt: skip
        async with JanusSession(janus.url) as s:
            joined = await s.join(h["room"], h["token"], h["participant_id"])
            assert joined["videoroom"] == "joined" and joined["id"] == h["participant_id"]
            await s.join(viewer["room"], viewer["token"], viewer["participant_id"])
            with pytest.raises(JanusRefused) as refused:  # no token: Janus says no
                await s.join(h["room"], None, "someone")
            assert refused.value.code == 433
            with pytest.raises(JanusRefused):  # a made-up token
                await s.join(h["room"], "x" * 32, "someone")
            with pytest.raises(JanusRefused) as refused:  # a subscription needs a private id
                handle = await s.attach()
                await s.message(handle, {
                    "request": "join", "ptype": "subscriber", "room": h["room"],
                    "streams": [{"feed": h["participant_id"]}],
                })  # fmt: skip
            assert refused.value.code in (428, 433)


async def test_minigroup_members_all_publish_and_ice_servers_are_offered(
    database_url: str, janus: JanusServer
) -> None:
    async for client in client_for(
        database_url, janus, turn_hosts=["turn-a.example", "turn-b.example:5349"],
        turn_secret="turn-shared-secret-0123",
    ):  # fmt: skip
        m = (await client.post("/api/v1/minigroups", json=minigroup("m-2", 4))).json()
        body = (await media(client, m["class_id"], "pupil")).json()
        assert body["role"] == "publisher"
        assert body["turn_host"] in ("turn-a.example", "turn-b.example:5349")
        stun, turn = body["ice_servers"]
        assert stun["urls"][0].startswith("stun:" + body["turn_host"].split(":")[0])
        assert turn["username"].endswith(":pupil") and turn["credential"]
        assert "turn-shared-secret" not in str(body)


async def test_refusals(database_url: str, janus: JanusServer) -> None:
    async for client in client_for(database_url, janus):
        none = (await client.post("/api/v1/minigroups", json=minigroup("n", backend="none"))).json()
        r = await media(client, none["class_id"], "u")
        assert r.status_code == 409 and r.json()["type"] == "/problems/no_media_room"
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await media(client, str(uuid.uuid4()), "u")
        assert r.status_code == 404
        r = await client.post("/api/v1/classes/not-a-uuid/media")
        assert r.status_code == 422 and r.json()["field"] == "class_id"
        m = (await client.post("/api/v1/minigroups", json=minigroup("m-3"))).json()
        r = await client.post(
            f"/api/v1/classes/{m['class_id']}/media", headers=auth(OTHER, sub="u")
        )
        assert r.status_code == 404  # another tenant's class does not exist for them
        no_token = {"Authorization": ""}
        r = await client.post(f"/api/v1/classes/{m['class_id']}/media", headers=no_token)
        assert r.status_code == 401
        # An end user may not revoke.
        r = await client.delete(f"/api/v1/classes/{m['class_id']}/media/u", headers=auth(sub="u"))
        assert r.status_code == 403
        # A closed class has no media any more.
        await client.patch(f"/api/v1/minigroups/{m['class_id']}", json={"time": [1, 2]})
        r = await media(client, m["class_id"], "u")
        assert r.status_code == 409 and r.json()["type"] == "/problems/class_closed"


async def test_revoking_hangs_up_at_once_and_for_good(
    database_url: str, janus: JanusServer
) -> None:
    async for client in client_for(database_url, janus):
        m = (await client.post("/api/v1/minigroups", json=minigroup("m-4", 4))).json()
        cred = (await media(client, m["class_id"], "troll")).json()
        async with JanusSession(janus.url) as s:
            await s.join(cred["room"], cred["token"], cred["participant_id"])
            r = await client.delete(f"/api/v1/classes/{m['class_id']}/media/troll")
            assert r.status_code == 204
            kicked = await s.wait_for(
                lambda e: e.get("plugindata", {}).get("data", {}).get("leaving") == "ok"
            )
            assert kicked["plugindata"]["data"]["reason"] == "kicked"
            with pytest.raises(JanusRefused) as refused:  # the token no longer opens the room
                await s.join(cred["room"], cred["token"], cred["participant_id"])
            assert refused.value.code == 433
        r = await media(client, m["class_id"], "troll")
        assert r.status_code == 403 and r.json()["type"] == "/problems/media_revoked"
        # Revoking someone who never joined keeps them out too.
        r = await client.delete(f"/api/v1/classes/{m['class_id']}/media/never-came")
        assert r.status_code == 204
        assert (await media(client, m["class_id"], "never-came")).status_code == 403
        assert (await media(client, m["class_id"], "someone-else")).status_code == 200


async def test_joins_beyond_the_servers_capacity_are_refused(database_url: str) -> None:
    small = JanusServer("small", capacity=3)
    small.start()
    try:
        async for client in client_for(database_url, small):
            m = (await client.post("/api/v1/minigroups", json=minigroup("m-5"))).json()
            for n in range(3):
                assert (await media(client, m["class_id"], f"u{n}")).status_code == 200
            r = await media(client, m["class_id"], "u3")
            assert r.status_code == 503 and r.json()["type"] == "/problems/capacity_exceeded"
            # Someone already counted asks again (a reconnect): not refused.
            assert (await media(client, m["class_id"], "u0")).status_code == 200
    finally:
        small.stop()


async def test_the_check_hangs_up_whoever_has_no_grant(
    database_url: str, janus: JanusServer
) -> None:
    async for client in client_for(database_url, janus, **QUICK):
        m = (await client.post("/api/v1/minigroups", json=minigroup("m-6", 4))).json()
        cred = (await media(client, m["class_id"], "sly")).json()
        async with JanusSession(janus.url) as s:
            # A valid token but not the participant id it was given.
            await s.join(cred["room"], cred["token"], "made-up-id")
            kicked = await s.wait_for(
                lambda e: e.get("plugindata", {}).get("data", {}).get("reason") == "kicked"
            )
            assert kicked
        row = await scalar(
            database_url, "SELECT connected FROM conference_rooms WHERE id = $1",
            uuid.UUID(cred["room"]),
        )  # fmt: skip
        assert row >= 0


async def test_a_host_who_left_and_did_not_return_closes_the_class(
    database_url: str, janus: JanusServer
) -> None:
    async for client in client_for(database_url, janus, host_timeout_seconds=1.0, **QUICK):
        m = (await client.post("/api/v1/minigroups", json=minigroup("m-7", 4, host="t"))).json()
        stays = (await client.post("/api/v1/minigroups", json=minigroup("m-8", 4, host="t"))).json()
        host = (await media(client, m["class_id"], "t")).json()
        other = (await media(client, stays["class_id"], "t")).json()
        room = uuid.UUID(host["room"])
        seen = "SELECT host_seen_at IS NOT NULL FROM conference_rooms WHERE id = $1"
        async with JanusSession(janus.url) as keeper:
            await keeper.join(other["room"], other["token"], other["participant_id"])
            async with JanusSession(janus.url) as s:
                await s.join(host["room"], host["token"], host["participant_id"])
                await eventually(lambda: scalar(database_url, seen, room))
                count = "SELECT connected FROM conference_rooms WHERE id = $1"
                assert await scalar(database_url, count, room) == 1

            # The host is gone: after the timeout the class ends and says why.
            async def closed() -> bool:
                r = await client.get(f"/api/v1/minigroups/{m['class_id']}")
                return bool(r.json().get("timed_out"))

            await eventually(closed)
            read = (await client.get(f"/api/v1/minigroups/{m['class_id']}")).json()
            assert read["status"] == "closed" and read["timed_out"] is True

            async def announced() -> list[Any]:
                events = (await client.get("/api/v1/audiences/example.org/events")).json()
                return [e for e in events["events"] if e["type"] == "minigroup.stop"]

            await eventually(announced)
            (stop,) = await announced()
            assert stop["data"]["id"] == m["class_id"] and stop["data"]["timed_out"] is True
            # The class whose host stayed is still open.
            r = (await client.get(f"/api/v1/minigroups/{stays['class_id']}")).json()
            assert r["status"] == "real-time" and "timed_out" not in r


async def test_tokens_survive_a_janus_restart(database_url: str, janus: JanusServer) -> None:
    async for client in client_for(database_url, janus, **QUICK):
        m = (await client.post("/api/v1/minigroups", json=minigroup("m-9", 4))).json()
        cred = (await media(client, m["class_id"], "pupil")).json()
        janus.stop()
        janus.start()
        await eventually(lambda: cred["room"] in janus.rooms())
        async with JanusSession(janus.url) as s:
            joined = await s.join(cred["room"], cred["token"], cred["participant_id"])
            assert joined["videoroom"] == "joined"


async def test_a_join_after_a_restart_recreates_the_room_at_once(
    database_url: str, janus: JanusServer
) -> None:
    async for client in client_for(database_url, janus):  # no quick check: the join heals
        m = (await client.post("/api/v1/minigroups", json=minigroup("m-10", 4))).json()
        janus.stop()
        janus.start()
        cred = await media(client, m["class_id"], "pupil")
        assert cred.status_code == 200, cred.text
        async with JanusSession(janus.url) as s:
            body = cred.json()
            assert (await s.join(body["room"], body["token"], body["participant_id"]))["id"]


async def test_participants_roles_decide_publishing_and_cancel_hangs_up(
    database_url: str, janus: JanusServer
) -> None:
    async for client in client_for(database_url, janus):
        w = (await client.post("/api/v1/webinars", json=webinar("m-11", host=None))).json()
        people = f"/api/v1/classes/{w['class_id']}/participants"
        mod = (await client.post(people, json={"display_name": "M", "role": "moderator"})).json()
        pupil = (await client.post(people, json={"display_name": "P"})).json()

        async def token_of(p: dict[str, Any]) -> str:
            entry = p["entry_url"].rsplit("/join/", 1)[1]
            r = await client.post("/api/v1/join", json={"entry_token": entry})
            return str(r.json()["access_token"])

        media_url = f"/api/v1/classes/{w['class_id']}/media"
        m = (await client.post(media_url, headers=bearer(await token_of(mod)))).json()
        # While the lobby holds the pupil back, no media; once admitted, media.
        await client.put(f"/api/v1/classes/{w['class_id']}/lobby", json={"state": 1})
        pupil_token = await token_of(pupil)
        r = await client.post(media_url, headers=bearer(pupil_token))
        assert r.status_code == 412 and r.json()["type"] == "/problems/lobby_blocked"
        await client.post(f"/api/v1/classes/{w['class_id']}/lobby/admit", json={"all": True})
        p = (await client.post(media_url, headers=bearer(pupil_token))).json()
        assert m["role"] == "publisher" and p["role"] == "subscriber"
        async with JanusSession(janus.url) as s:
            await s.join(p["room"], p["token"], p["participant_id"])
            r = await client.delete(f"/api/v1/participants/{pupil['participant_id']}")
            assert r.status_code == 204
            kicked = await s.wait_for(
                lambda e: e.get("plugindata", {}).get("data", {}).get("reason") == "kicked"
            )
            assert kicked


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_room_lasts_at_most_so_long_after_its_first_stream(
    database_url: str, janus: JanusServer
) -> None:
    async for client in client_for(database_url, janus, max_stream_seconds=60, **QUICK):
        m = (await client.post("/api/v1/minigroups", json=minigroup("m-12", 4))).json()
        fresh = (await client.post("/api/v1/minigroups", json=minigroup("m-13", 4))).json()
        conn = await asyncpg.connect(database_url)
        try:  # its first stream started two minutes ago (the media test dates a real one)
            await conn.execute(
                "UPDATE conference_rooms SET first_stream_at = now() - interval '2 minutes' "
                "WHERE id = $1::uuid", m["real_time"]["conference_room_id"],
            )  # fmt: skip
        finally:
            await conn.close()

        async def closed() -> bool:
            r = await client.get(f"/api/v1/minigroups/{m['class_id']}")
            return bool(r.json()["status"] == "closed")

        await eventually(closed)
        read = (await client.get(f"/api/v1/minigroups/{m['class_id']}")).json()
        assert "timed_out" not in read  # not the host's absence: the stream's length
        other = (await client.get(f"/api/v1/minigroups/{fresh['class_id']}")).json()
        assert other["status"] == "real-time"
