"""A WebRTC peer for media tests: Janus's HTTP API (session, handles, long-poll) driven the way a
browser's janus.js drives it, with aiortc publishing a synthetic VP8 track or receiving one.

Only tests use it; it needs the network namespace of notes/janus.md to get media through.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from typing import Any

import httpx
from aiortc import AudioStreamTrack, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import MediaStreamTrack

EVENT_TIMEOUT = 15.0


class JanusRefused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class JanusSession:
    """One Janus session with a long-poll task that routes each event to its transaction."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.AsyncClient(timeout=EVENT_TIMEOUT + 40)
        self.session_id = 0
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []  # transaction-less events (kicked, hangup...)
        self.arrived = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self.pcs: list[RTCPeerConnection] = []

    async def __aenter__(self) -> JanusSession:
        reply = await self._post(self.url, {"janus": "create"})
        self.session_id = reply["data"]["id"]
        self._poller = asyncio.create_task(self._poll())
        return self

    async def __aexit__(self, *exc: object) -> None:
        for pc in self.pcs:
            await pc.close()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        with contextlib.suppress(httpx.HTTPError):
            await self._post(f"{self.url}/{self.session_id}", {"janus": "destroy"})
        await self.http.aclose()

    async def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": body.get("transaction") or secrets.token_hex(6)}
        reply: dict[str, Any] = (await self.http.post(url, json=body)).json()
        if reply.get("janus") == "error":
            raise JanusRefused(reply["error"]["code"], reply["error"]["reason"])
        return reply

    async def _poll(self) -> None:
        while True:
            try:
                r = await self.http.get(f"{self.url}/{self.session_id}", params={"maxev": 10})
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
                continue
            batch = r.json()
            for event in batch if isinstance(batch, list) else [batch]:
                future = self.waiting.pop(event.get("transaction", ""), None)
                if future is not None and not future.done() and event.get("janus") == "event":
                    future.set_result(event)
                elif event.get("janus") != "keepalive":
                    self.events.append(event)
                    self.arrived.set()

    async def attach(self) -> int:
        reply = await self._post(
            f"{self.url}/{self.session_id}",
            {"janus": "attach", "plugin": "janus.plugin.videoroom"},
        )
        return int(reply["data"]["id"])

    async def message(
        self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Send a videoroom request and wait for its event; a plugin error raises."""
        transaction = secrets.token_hex(6)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[transaction] = future
        request: dict[str, Any] = {"janus": "message", "body": body, "transaction": transaction}
        if jsep is not None:
            request["jsep"] = jsep
        await self._post(f"{self.url}/{self.session_id}/{handle}", request)
        event = await asyncio.wait_for(future, EVENT_TIMEOUT)
        data = event["plugindata"]["data"]
        if "error_code" in data:
            raise JanusRefused(data["error_code"], data["error"])
        return data, event.get("jsep")

    async def join(self, room: str, token: str | None, feed_id: str | None) -> dict[str, Any]:
        """Join as a participant (what every client does first: it gives the private id
        that subscriptions need)."""
        handle = await self.attach()
        body: dict[str, Any] = {"request": "join", "ptype": "publisher", "room": room}
        if token is not None:
            body["token"] = token
        if feed_id is not None:
            body["id"] = feed_id
        data, _ = await self.message(handle, body)
        return {"handle": handle, **data}

    async def publish(self, handle: int, audio: bool = False) -> RTCPeerConnection:
        """Send a synthetic video track (aiortc's test pattern), with `audio` an audio track
        too, from a joined handle."""
        pc = RTCPeerConnection()
        self.pcs.append(pc)
        pc.addTrack(VideoStreamTrack())
        if audio:
            pc.addTrack(AudioStreamTrack())  # silence, as Opus frames
        await pc.setLocalDescription(await pc.createOffer())  # gathers all candidates
        offer = {"type": "offer", "sdp": pc.localDescription.sdp}
        _, answer = await self.message(handle, {"request": "configure", "audio": audio}, offer)
        assert answer is not None
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        # The feed exists for subscribers once Janus sees media: wait for "webrtcup" on it.
        await self.wait_for(lambda e: e.get("janus") == "webrtcup" and e.get("sender") == handle)
        return pc

    async def wait_for(self, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first event without a transaction (webrtcup, hangup, kicked...) that matches."""
        async with asyncio.timeout(EVENT_TIMEOUT):
            while True:
                found = next((e for e in self.events if match(e)), None)
                if found is not None:
                    return found
                self.arrived.clear()
                await self.arrived.wait()

    async def subscribe(self, room: str, feed_id: str, private_id: int) -> MediaStreamTrack:
        """Subscribe to a publisher's feed; answers with the received video track."""
        handle = await self.attach()
        body = {
            "request": "join", "ptype": "subscriber", "room": room,
            "streams": [{"feed": feed_id}], "private_id": private_id,
        }  # fmt: skip
        _, offer = await self.message(handle, body)
        assert offer is not None
        pc = RTCPeerConnection()
        self.pcs.append(pc)
        track: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()

        @pc.on("track")
        def arrived(t: MediaStreamTrack) -> None:
            if not track.done():
                track.set_result(t)

        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        await pc.setLocalDescription(await pc.createAnswer())
        answer = {"type": "answer", "sdp": pc.localDescription.sdp}
        await self.message(handle, {"request": "start"}, answer)
        return await asyncio.wait_for(track, EVENT_TIMEOUT)


async def frames(track: MediaStreamTrack, count: int, within: float = EVENT_TIMEOUT) -> list[Any]:
    """The next `count` decoded frames of a received track."""
    received: list[Any] = []
    async with asyncio.timeout(within):
        while len(received) < count:
            received.append(await track.recv())
    return received
