"""A slow Janus (a delay injected at the edge: a tiny HTTP proxy in front of its admin API) holds
no database connection and no server lock, and a class refused after its Janus room was made
leaves no room behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx

from podium.config import JanusServerConfig
from podium.embedded import free_port
from tests.conference.conftest import client_for, minigroup, needs_janus
from tests.conftest import JanusServer, start_server, stop_server, token_for

pytestmark = needs_janus


class SlowProxy:
    """Forwards each HTTP request to `upstream` after `delay` seconds; counts how many wait at
    once per videoroom request (`create`, `list`, …). One request per connection (it answers
    `Connection: close`), in a thread of its own."""

    def __init__(self, upstream: str, delay: float) -> None:
        self.upstream = upstream.rstrip("/")
        self.delay = delay
        self.in_flight = 0
        self.waiting: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def __aenter__(self) -> SlowProxy:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/admin"

    async def _run(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with httpx.AsyncClient() as http:
            server = await asyncio.start_server(
                lambda r, w: self._serve(http, r, w), "127.0.0.1", 0
            )
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()
            server.close()

    async def _serve(
        self, http: httpx.AsyncClient, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length)
        request = str(json.loads(body).get("request", {}).get("request"))
        self.in_flight += 1
        self.waiting[request] = self.waiting.get(request, 0) + 1
        self.peak[request] = max(self.peak.get(request, 0), self.waiting[request])
        try:
            await asyncio.sleep(self.delay)
            reply = await http.post(self.upstream, content=body)
        finally:
            self.in_flight -= 1
            self.waiting[request] -= 1
        writer.write(
            f"HTTP/1.1 {reply.status_code} OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(reply.content)}\r\nConnection: close\r\n\r\n".encode()
            + reply.content
        )
        await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def slow_janus(
    database_url: str, janus: JanusServer, delay: float, **env: str
) -> AsyncIterator[tuple[SlowProxy, httpx.AsyncClient]]:
    """A real Podium process (the test client would answer one request at a time) whose Janus
    admin API answers `delay` seconds late, through the proxy."""
    async with SlowProxy(janus.admin_url, delay) as proxy:
        config = {**janus.config(), "admin_url": proxy.url}
        port = free_port()
        proc = start_server(database_url, port, {"PODIUM_JANUS_URLS": json.dumps([config]), **env})
        try:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", timeout=30,
                headers={"Authorization": f"Bearer {token_for()}"},
            ) as client:  # fmt: skip
                yield proxy, client
        finally:
            stop_server(proc)


async def stored(database_url: str, sql: str) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def test_a_class_refused_after_its_janus_room_was_made_leaves_nothing(
    database_url: str, janus: JanusServer
) -> None:
    async with slow_janus(database_url, janus, 1.0) as (proxy, client):
        # Both pass every check before Janus; both rooms are made; one store wins.
        first, second = await asyncio.gather(
            client.post("/api/v1/minigroups", json=minigroup("same", 2)),
            client.post("/api/v1/minigroups", json=minigroup("same", 2)),
        )
        assert sorted([first.status_code, second.status_code]) == [201, 409]
        assert proxy.peak["create"] == 2  # the refused one's room was made on Janus
        won = first if first.status_code == 201 else second
        assert janus.rooms() == [won.json()["real_time"]["conference_room_id"]]
        assert await stored(database_url, "SELECT count(*) FROM classes") == 1
        load = (await client.get("/api/v1/media/servers")).json()[0]["load"]
        assert load == 2  # the refused class's slots were given back


async def test_a_slow_janus_holds_no_database_connection(
    database_url: str, janus: JanusServer
) -> None:
    """With one database connection per process, a read goes through while a create waits on
    Janus: the create holds no connection (nor the server's lock) during the call."""
    async with slow_janus(database_url, janus, 2.0, PODIUM_DB_POOL_SIZE="1") as (proxy, client):
        other = await client.post("/api/v1/minigroups", json=minigroup("none", backend="none"))
        create = asyncio.create_task(client.post("/api/v1/minigroups", json=minigroup("slow", 2)))
        while proxy.waiting.get("create", 0) == 0:  # noqa: ASYNC110 (the create is at Janus)
            await asyncio.sleep(0.01)
        r = await client.get(f"/api/v1/minigroups/{other.json()['class_id']}")
        assert r.status_code == 200
        assert not create.done()  # the read did not wait for the create's connection
        assert (await create).status_code == 201


async def test_creates_on_one_server_reach_janus_side_by_side(
    database_url: str, janus: JanusServer
) -> None:
    async with slow_janus(database_url, janus, 1.0) as (proxy, client):
        answers = await asyncio.gather(*[
            client.post("/api/v1/minigroups", json=minigroup(f"side-{i}", 2)) for i in range(3)
        ])  # fmt: skip
        assert [r.status_code for r in answers] == [201] * 3
        # Rooms are made side by side: the server's lock is not held across the call.
        assert proxy.peak["create"] == 3
        assert len(janus.rooms()) == 3


async def test_a_resize_refused_after_janus_followed_sets_janus_back(
    database_url: str, janus: JanusServer
) -> None:
    small = JanusServer("j1", capacity=6)
    small.start()
    try:
        async for client in client_for(database_url, small):
            made = (await client.post("/api/v1/minigroups", json=minigroup("rs", 4))).json()
            await client.post("/api/v1/minigroups", json=minigroup("other", 2))
            r = await client.put(f"/api/v1/minigroups/{made['class_id']}", json={"reserve": 5})
            assert r.status_code == 503 and r.json()["type"] == "/problems/capacity_exceeded"
            config = JanusServerConfig(**small.config())  # type: ignore[arg-type]
            async with httpx.AsyncClient() as http:
                listed = (await http.post(config.admin_url, json={
                    "janus": "message_plugin", "transaction": uuid.uuid4().hex,
                    "admin_secret": config.admin_secret, "plugin": "janus.plugin.videoroom",
                    "request": {"request": "list", "admin_key": config.room_key},
                })).json()["response"]["list"]  # fmt: skip
            room = made["real_time"]["conference_room_id"]
            assert {r["room"]: r["max_publishers"] for r in listed}[room] == 4
    finally:
        small.stop()
