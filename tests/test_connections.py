"""Connections that do not hold up their end are closed, on a real `podium serve`: slowloris
heads, idle sockets, stalled bodies, and too many connections from one address. Live
WebSockets and ordinary requests are untouched."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from podium.connections import text_frame
from podium.embedded import free_port
from tests.conftest import start_server, stop_server, token_for

LIMITS = {
    "PODIUM_HEADER_TIMEOUT_SECONDS": "1",
    "PODIUM_READ_TIMEOUT_SECONDS": "1",
    "PODIUM_MAX_CONNECTIONS_PER_ADDRESS": "40",
}


@pytest.fixture
def server(database_url: str) -> Iterator[int]:
    port = free_port()
    proc = start_server(database_url, port, LIMITS)
    try:
        yield port
    finally:
        stop_server(proc)


async def healthy(port: int) -> bool:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"http://127.0.0.1:{port}/healthz", timeout=5)).status_code == 200


async def closed(reader: asyncio.StreamReader, within: float) -> bool:
    """Whether the server closes the connection (EOF or reset) within `within` seconds."""
    try:
        return await asyncio.wait_for(reader.read(65536), within) == b""
    except ConnectionError:
        return True
    except TimeoutError:
        return False


async def dribble(port: int, stop: asyncio.Event) -> bool:
    """A slowloris client: a request line, then a header byte every 0.3 s. Answers whether the
    server closed it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    try:
        while not stop.is_set():
            await writer.drain()
            if reader.at_eof():
                return True
            try:
                if await asyncio.wait_for(reader.read(1024), 0.3) == b"":
                    return True
            except TimeoutError:
                writer.write(b"a")
        return False
    except ConnectionError:
        return True
    finally:
        writer.close()


async def test_slowloris_heads_are_closed(server: int) -> None:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(dribble(server, stop)) for _ in range(20)]
    done, _ = await asyncio.wait(tasks, timeout=15)
    stop.set()
    results = [t.result() for t in done] + [False] * (len(tasks) - len(done))
    assert all(results), f"{results.count(False)} of 20 slow heads were kept open"
    assert await healthy(server)  # and the server goes on serving


async def test_idle_connections_and_stalled_bodies_are_closed(server: int) -> None:
    idle = [await asyncio.open_connection("127.0.0.1", server) for _ in range(30)]
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"POST /api/v1/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"entry")  # fmt: skip
    await writer.drain()
    deadline = time.monotonic() + 15
    for r, _ in [*idle, (reader, writer)]:
        assert await closed(r, max(0.1, deadline - time.monotonic()))
    for _, w in [*idle, (reader, writer)]:
        w.close()


async def test_one_address_cannot_hold_every_connection(server: int) -> None:
    held = [await asyncio.open_connection("127.0.0.1", server) for _ in range(40)]
    # The 41st from this address is closed at once, long before any head deadline...
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    assert await closed(reader, 0.9)
    writer.close()
    for _, w in held:
        w.close()
    await asyncio.sleep(0.3)  # ...and once they are gone, the address is served again
    assert await healthy(server)


async def test_a_live_websocket_outlives_the_head_deadline(server: int) -> None:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{server}", headers={"Authorization": f"Bearer {token_for()}"}
    ) as http:
        made = (await http.post("/api/v1/minigroups", json={
            "scope": "ws-live", "audience": "example.org", "host": "h"})).json()  # fmt: skip
        room = made["real_time"]["event_room_id"]
        url = f"ws://127.0.0.1:{server}/api/v1/event_rooms/{room}/live?access_token={token_for()}"
        async with connect(url) as ws:
            await asyncio.sleep(2.5)  # well past the 1 s head deadline
            r = await http.post(f"/api/v1/event_rooms/{room}/events",
                                json={"type": "message", "data": {"t": 1}})  # fmt: skip
            assert r.status_code == 201
            frame = await asyncio.wait_for(ws.recv(), 5)
            assert '"seq":1' in str(frame)


@given(st.binary(max_size=70_000) | st.sampled_from([b"a" * n for n in (125, 126, 65_535, 65_536)]))
@settings(max_examples=60, deadline=None)
def test_an_encoded_frame_is_what_a_client_reads(payload: bytes) -> None:
    """The frames a live room writes to its sockets directly (connections.text_frame) parse, in
    the websockets library, as one final unmasked text frame carrying the payload."""
    reader = StreamReader()
    reader.feed_data(text_frame(payload))
    parser = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as done:
        next(parser)
    frame = done.value.value
    assert frame.opcode is Opcode.TEXT and frame.fin and bytes(frame.data) == payload
