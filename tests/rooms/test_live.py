"""Live event rooms over a real WebSocket on real server processes: order, resume with no gap
or duplicate, posting over the socket, bans, and two processes sharing live delivery through a
real redis-server (also across a broker outage)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from podium.embedded import free_port
from tests.conftest import RedisServer, start_server, stop_server, token_for

SERVICE = token_for()
STUDENT = token_for(sub="student-1")


@pytest.fixture
def server(server_address: str) -> str:
    return server_address


def http(base: str, token: str = SERVICE) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://{base}", timeout=10, headers={"Authorization": f"Bearer {token}"}
    )


async def make_room(base: str) -> str:
    async with http(base) as client:
        r = await client.post(
            "/api/v1/minigroups",
            json={
                "scope": f"live-{uuid.uuid4().hex[:8]}",
                "audience": "example.org",
                "host": "t",
                "locked_chat": False,
            },
        )
        return str(r.json()["real_time"]["event_room_id"])


async def post_events(base: str, room: str, numbers: range, token: str = SERVICE) -> None:
    async with http(base, token) as client:
        for i in numbers:
            r = await client.post(
                f"/api/v1/event_rooms/{room}/events", json={"type": "message", "data": {"i": i}}
            )
            assert r.status_code == 201, r.text


def live_url(base: str, room: str, token: str = SERVICE, after: int | None = None) -> str:
    url = f"ws://{base}/api/v1/event_rooms/{room}/live?access_token={token}"
    return url if after is None else f"{url}&after={after}"


async def next_event(ws: ClientConnection) -> dict[str, Any]:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["message"] == "event":
            return dict(frame["event"])


async def collect(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    return [await next_event(ws) for _ in range(count)]


async def test_live_events_arrive_in_order(server: str) -> None:
    room = await make_room(server)
    async with connect(live_url(server, room)) as ws:
        await asyncio.sleep(0.2)  # subscribed
        # Four posters at once: the room's sequence still arrives in order.
        await asyncio.gather(
            *[post_events(server, room, range(k * 10, k * 10 + 10)) for k in range(4)]
        )
        events = await collect(ws, 40)
    assert [e["seq"] for e in events] == list(range(1, 41))
    assert sorted(e["data"]["i"] for e in events) == list(range(40))


async def test_resume_after_a_reconnect_while_events_are_posted(server: str) -> None:
    room = await make_room(server)
    total = 120
    poster = asyncio.create_task(post_events(server, room, range(total)))
    seen: list[int] = []
    last = 0
    while len(seen) < total:
        async with connect(live_url(server, room, after=last)) as ws:
            # Take a few, then drop the connection mid-stream.
            for _ in range(min(25, total - len(seen))):
                event = await next_event(ws)
                seen.append(event["seq"])
                last = event["seq"]
    await poster
    assert seen == list(range(1, total + 1))  # no gap, no duplicate, in order


async def test_live_only_events_and_posting_over_the_socket(server: str) -> None:
    room = await make_room(server)
    async with connect(live_url(server, room, STUDENT)) as ws, \
            connect(live_url(server, room)) as watcher:  # fmt: skip
        await asyncio.sleep(0.2)
        await ws.send(
            json.dumps(
                {"ref": "r1", "event": {"type": "cursor", "data": {"x": 1}, "is_persistent": False}}
            )
        )
        await ws.send(json.dumps({"ref": "r2", "event": {"type": "message", "data": {"t": 1}}}))
        await ws.send(json.dumps({"ref": "r3", "event": {"data": {}}}))
        await ws.send(json.dumps({"ref": "r4", "event": {"type": "message", "data": None}}))
        replies: dict[str, Any] = {}
        while len(replies) < 4:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame["message"] == "reply":
                replies[frame["ref"]] = frame
        assert replies["r1"]["event"] is None
        assert replies["r2"]["event"]["seq"] == 1
        assert replies["r2"]["event"]["created_by"] == "student-1"
        assert replies["r3"]["error"]["status"] == 422
        # Null data is a 422 naming `data`, and the socket stays open.
        assert replies["r4"]["error"]["status"] == 422 and replies["r4"]["error"]["field"] == "data"
        cursor, message = await collect(watcher, 2)
        assert cursor["seq"] is None and cursor["type"] == "cursor" and cursor["data"] == {"x": 1}
        assert message["seq"] == 1 and message["data"] == {"t": 1}


async def test_a_ban_closes_the_socket_and_keeps_it_out(server: str) -> None:
    room = await make_room(server)
    async with connect(live_url(server, room, STUDENT)) as ws:
        await asyncio.sleep(0.2)
        async with http(server) as client:
            r = await client.patch(
                f"/api/v1/event_rooms/{room}/agents",
                json={"account_id": "student-1", "value": True},
            )
            assert r.status_code == 200
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4003
    async with connect(live_url(server, room, STUDENT)) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4003


@pytest.mark.parametrize(
    ("path", "code"),
    [("bad-token", 4401), ("unknown-room", 4404), ("bad-after", 4422)],
)
async def test_refusals_close_with_a_reason(server: str, path: str, code: int) -> None:
    room = await make_room(server)
    url = {
        "bad-token": live_url(server, room, "garbage"),
        "unknown-room": live_url(server, str(uuid.uuid4())),
        "bad-after": live_url(server, room) + "&after=-3",
    }[path]
    async with connect(url) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code


async def test_two_processes_share_live_delivery_through_redis(
    database_url: str, redis: RedisServer
) -> None:
    env = {"PODIUM_BROKER_URL": redis.url}
    a_port, b_port = free_port(), free_port()
    a = start_server(database_url, a_port, env)
    b = start_server(database_url, b_port, env)
    try:
        a_base, b_base = f"127.0.0.1:{a_port}", f"127.0.0.1:{b_port}"
        room = await make_room(a_base)
        async with connect(live_url(b_base, room)) as on_b:
            await asyncio.sleep(0.3)
            await post_events(a_base, room, range(10))  # posted to A ...
            events = await collect(on_b, 10)  # ... arrive on B
            assert [e["seq"] for e in events] == list(range(1, 11))

            # Redis goes away: the API keeps working; once it is back, B misses nothing.
            redis.stop()
            await post_events(a_base, room, range(10, 15))
            redis.start()
            await asyncio.sleep(1.5)  # B's subscription reconnects and fetches what it missed
            await post_events(a_base, room, range(15, 17))
            rest = await collect(on_b, 7)
            assert [e["seq"] for e in rest] == list(range(11, 18))
    finally:
        stop_server(a)
        stop_server(b)


def agent_ids(response: Any) -> list[str]:
    return sorted(agent["agent_id"] for agent in response.json())


async def test_who_is_connected(server: str) -> None:
    room = await make_room(server)
    async with http(server) as client:
        path = f"/api/v1/event_rooms/{room}/agents"
        async with connect(live_url(server, room, STUDENT)), \
                connect(live_url(server, room, token_for(sub="student-2"))):  # fmt: skip
            await asyncio.sleep(0.3)
            assert agent_ids(await client.get(path)) == ["live.student-1", "live.student-2"]
        await asyncio.sleep(0.3)
        assert agent_ids(await client.get(path)) == []


async def test_a_slow_consumer_is_dropped_and_the_room_goes_on(server: str) -> None:
    room = await make_room(server)
    big = "x" * 60_000
    count = 700
    async with connect(live_url(server, room), max_queue=1) as slow, \
            connect(live_url(server, room)) as fast:  # fmt: skip
        await asyncio.sleep(0.3)

        async def read_all() -> int:
            got = 0
            while got < count:
                await next_event(fast)
                got += 1
            return got

        reader = asyncio.create_task(read_all())
        async with http(server) as client:
            for i in range(count):
                r = await client.post(
                    f"/api/v1/event_rooms/{room}/events",
                    json={"type": "big", "data": {"i": i, "pad": big}},
                )
                assert r.status_code == 201
        assert await asyncio.wait_for(reader, 60) == count  # the reading client got them all
        with pytest.raises(ConnectionClosed) as closed:  # the one that did not read is gone
            while True:
                await asyncio.wait_for(slow.recv(), 30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008


async def test_an_event_posted_while_a_subscriber_joins_reaches_it(
    server: str, database_url: str
) -> None:
    """A subscriber is registered before its join finishes (it records its presence in the
    database); an event delivered in between is held for it and sent, not skipped."""
    import asyncpg

    room = await make_room(server)
    async with connect(live_url(server, room)) as first:
        await asyncio.sleep(0.3)  # the room's feed is running
        blocker = await asyncpg.connect(database_url)
        try:
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute("LOCK TABLE room_agents IN EXCLUSIVE MODE")
            async with connect(live_url(server, room, STUDENT)) as joining:
                await asyncio.sleep(0.3)  # its join waits on the lock, registered already
                await post_events(server, room, range(1))
                assert (await next_event(first))["seq"] == 1
                await tx.rollback()  # the join completes
                assert (await next_event(joining))["seq"] == 1
        finally:
            await blocker.close()


async def test_a_dead_peer_is_found_by_the_heartbeat(database_url: str) -> None:
    """A client that completes the handshake but never answers pings is closed, and leaves."""
    import base64
    import os

    port = free_port()
    proc = start_server(database_url, port, {"PODIUM_WS_PING_SECONDS": "0.5"})
    try:
        base = f"127.0.0.1:{port}"
        room = await make_room(base)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /api/v1/event_rooms/{room}/live?access_token={STUDENT} HTTP/1.1\r\n"
                f"Host: {base}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
        async with http(base) as client:
            await asyncio.sleep(0.3)
            agents = f"/api/v1/event_rooms/{room}/agents"
            assert agent_ids(await client.get(agents)) == ["live.student-1"]
            # Read (pings included) but never answer: the server must give up on us.
            async with asyncio.timeout(10):
                while await reader.read(4096):
                    pass
            await asyncio.sleep(0.3)
            assert agent_ids(await client.get(agents)) == []
        writer.close()
    finally:
        stop_server(proc)
