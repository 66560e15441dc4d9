"""A rolling restart under live traffic: two real `podium serve` processes share a room through a
real redis-server; each in turn gets SIGTERM and comes back while a poster posts events to either
(retrying on the other when one answers 503 or is away) and a live subscriber follows the room.
The process stops accepting, closes its live sockets with 1012, finishes what is in flight and
exits in bounded time; the subscriber resumes on the other with `after=` and misses nothing."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import time

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from podium.embedded import free_port
from tests.conftest import RedisServer, start_server, stop_server, token_for
from tests.rooms.test_live import live_url, make_room

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="needs redis-server (Debian: redis-server)")  # fmt: skip
SERVICE = token_for()
SHUTDOWN_SECONDS = 10


async def test_a_rolling_restart_loses_no_event_and_no_request(
    database_url: str, redis: RedisServer
) -> None:
    env = {"PODIUM_BROKER_URL": redis.url, "PODIUM_SHUTDOWN_SECONDS": str(SHUTDOWN_SECONDS)}
    ports = [free_port(), free_port()]
    procs = [start_server(database_url, port, env) for port in ports]
    bases = [f"127.0.0.1:{port}" for port in ports]
    room = await make_room(bases[0])
    received: list[int] = []
    closes: list[int | None] = []
    posted: list[int] = []  # the seq of each post that succeeded
    retries = failures = 0
    posting = True

    async def listen() -> None:
        last = 0
        for base in itertools.cycle(bases):
            try:
                async with connect(live_url(base, room, after=last)) as ws:
                    while not (not posting and posted and last >= max(posted)):
                        try:
                            frame = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                        except TimeoutError:
                            continue
                        if frame["message"] == "event":
                            received.append(frame["event"]["seq"])
                            last = frame["event"]["seq"]
                    return
            except ConnectionClosed as closed:
                closes.append(closed.rcvd.code if closed.rcvd else None)
            except (OSError, InvalidHandshake, InvalidStatus, TimeoutError):
                await asyncio.sleep(0.05)  # that one is restarting: the other is there

    async def post() -> None:
        nonlocal retries, failures
        async with httpx.AsyncClient(
            timeout=10, headers={"Authorization": f"Bearer {SERVICE}"}
        ) as client:
            for i in itertools.count():
                if not posting:
                    return
                for attempt in range(20):
                    base = bases[(i + attempt) % 2]
                    try:
                        r = await client.post(
                            f"http://{base}/api/v1/event_rooms/{room}/events",
                            json={"type": "message", "data": {"i": i}},
                        )
                    except httpx.TransportError:
                        retries += 1
                        await asyncio.sleep(0.02)
                        continue
                    if r.status_code == 503:
                        retries += 1
                        continue
                    assert r.status_code == 201, r.text
                    posted.append(r.json()["seq"])
                    break
                else:
                    failures += 1
                await asyncio.sleep(0.02)

    listener = asyncio.create_task(listen())
    poster = asyncio.create_task(post())
    exits: list[float] = []
    try:
        await asyncio.sleep(1.0)
        for index in (0, 1):
            started = time.monotonic()
            await asyncio.to_thread(stop_server, procs[index])
            exits.append(time.monotonic() - started)
            procs[index] = await asyncio.to_thread(start_server, database_url, ports[index], env)
            await asyncio.sleep(1.0)
        posting = False
        await poster
        await asyncio.wait_for(listener, 15)
    finally:
        posting = False
        for task in (listener, poster):
            task.cancel()
        for proc in procs:
            stop_server(proc)
    print(f"rolling restart: {len(posted)} events posted ({retries} retries), "
          f"{len(received)} received, exits in {[round(e, 2) for e in exits]} s, "
          f"closes {closes}")  # fmt: skip
    assert failures == 0
    assert len(posted) > 50
    # Every event once, in order, and nothing the poster did not see succeed.
    assert received == list(range(1, max(posted) + 1))
    assert sorted(posted) == received
    # Each restart told the live socket to reconnect (1012), and exited in bounded time.
    assert closes.count(1012) >= 1
    assert all(seconds < SHUTDOWN_SECONDS + 5 for seconds in exits)
