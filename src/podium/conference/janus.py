"""Janus WebRTC gateway: its videoroom plugin, driven through the admin API.

The admin API's `message_plugin` runs videoroom requests with no session at all, so Podium keeps
no sessions alive and a Janus restart costs it nothing but the rooms (which it re-creates). Janus
types stay in this module. Every reply is HTTP 200; errors are in the body (notes/janus.md).
Room ids are strings (the videoroom runs with `string_ids = true`): a room's id on Janus is its
conference room's id in Podium.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from typing import Any

import httpx

TIMEOUT_SECONDS = 5.0

# Videoroom error codes (notes/janus.md).
NO_SUCH_ROOM = 426
ROOM_EXISTS = 427
NO_SUCH_PARTICIPANT = 428  # also: no such remote publisher, no such remotization
ALREADY_EXISTS = 436  # a participant id, or a publisher's remotization, already taken

# What a remote publisher is told of each stream (the keys `add_remote_publisher` takes; an
# observer also sees ones that change all the time, like `talking`, which are left out).
STREAM_KEYS = (
    "type", "mindex", "mid", "disabled", "codec", "description", "stereo", "fec", "dtx",
    "h264-profile", "vp9-profile", "simulcast", "svc", "audiolevel_ext_id",
    "videoorient_ext_id", "playoutdelay_ext_id",
)  # fmt: skip


def room_secret(room_key: str, room: str) -> str:
    """A room's secret (it guards edit and destroy), derived from the server's key and the room
    id: Podium can always destroy a room it made, even one whose class was never stored."""
    return hmac.new(room_key.encode(), room.encode(), hashlib.sha256).hexdigest()[:32]


def participant_token(room_key: str, room: str, grant: str) -> str:
    """A participant's token in the room's `allowed` list, derived like the room's secret:
    nothing secret is stored, and a re-created room gets the same tokens back."""
    return room_secret(room_key, f"{room}/participant/{grant}")


class JanusUnavailable(Exception):
    """Janus did not answer (down, unreachable, timed out)."""


class JanusError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Janus error {code}: {message}")
        self.code = code


# Requests to Janus in flight at once (one process), and the HTTP connections kept for them. More
# wait their turn here: httpx's own queue re-scans every waiting request for each free connection
# (measured: with 500 joins at once, that scan was a quarter of the process's CPU).
CONNECTIONS = 32


def http_client() -> httpx.AsyncClient:
    """The HTTP client Janus calls share, with its connections kept alive."""
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    return httpx.AsyncClient(limits=limits)


class JanusClient:
    def __init__(
        self, url: str, admin_url: str, admin_secret: str, room_key: str,
        client: httpx.AsyncClient, rec_dir: str | None = None,
        gate: asyncio.Semaphore | None = None, forward_host: str | None = None,
    ) -> None:  # fmt: skip
        """`gate`: shared by the clients that share `client` (its connection limit);
        `forward_host`: where other servers send this one forwarded RTP (None: Janus says)."""
        self.forward_host = forward_host
        self._gate = gate or asyncio.Semaphore(CONNECTIONS)
        self.url = url.rstrip("/")
        self.rec_dir = rec_dir
        self.admin_url = admin_url.rstrip("/")
        self.admin_secret = admin_secret
        self.room_key = room_key
        self._client = client

    async def videoroom(self, request: dict[str, Any]) -> dict[str, Any]:
        body = {
            "janus": "message_plugin",
            "transaction": secrets.token_hex(8),
            "admin_secret": self.admin_secret,
            "plugin": "janus.plugin.videoroom",
            "request": request,
        }
        try:
            async with self._gate:
                response = await self._client.post(self.admin_url, json=body,
                                                   timeout=TIMEOUT_SECONDS)  # fmt: skip
            reply = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise JanusUnavailable(f"{self.admin_url}: {type(exc).__name__}: {exc}") from None
        if reply.get("janus") == "error":
            error = reply.get("error", {})
            raise JanusError(int(error.get("code", 0)), str(error.get("reason", "error")))
        data: dict[str, Any] = reply.get("response", {})
        if "error_code" in data:
            raise JanusError(int(data["error_code"]), str(data.get("error", "error")))
        return data

    async def info(self) -> dict[str, Any]:
        try:
            response = await self._client.get(f"{self.url}/info", timeout=TIMEOUT_SECONDS)
            info: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise JanusUnavailable(f"{self.url}: {type(exc).__name__}: {exc}") from None
        return info

    async def create_room(
        self, room: str, *, secret: str, publishers: int, description: str, record: bool,
        allowed: list[str] | None = None,
    ) -> None:  # fmt: skip
        """A private room that only holders of a token in `allowed` may join, and in which a
        subscription needs the private id of a participant (so of a token holder)."""
        await self.videoroom({
            "request": "create", "room": room, "admin_key": self.room_key, "secret": secret,
            "publishers": publishers, "description": description[:100], "record": record,
            "is_private": True, "permanent": False, "allowed": allowed or [],
            "require_pvtid": True, **({"rec_dir": self.rec_dir} if self.rec_dir else {}),
        })  # fmt: skip

    async def allow(self, room: str, secret: str, action: str, tokens: list[str]) -> None:
        """Add tokens to (`add`) or take them from (`remove`) the room's allow-list."""
        await self.videoroom(
            {"request": "allowed", "room": room, "secret": secret, "action": action,
             "allowed": tokens}
        )  # fmt: skip

    async def kick(self, room: str, secret: str, participant: str) -> None:
        """Hang up a participant and the subscriptions it made; one not there is no error."""
        try:
            await self.videoroom(
                {"request": "kick", "room": room, "secret": secret, "id": participant}
            )
        except JanusError as exc:
            if exc.code != NO_SUCH_PARTICIPANT:
                raise

    async def participants(self, room: str) -> list[dict[str, Any]]:
        """Who is in the room: `id` and whether they are `publisher`(sending media)."""
        listed = await self.videoroom({"request": "listparticipants", "room": room})
        return list(listed.get("participants", []))

    async def destroy_room(self, room: str, secret: str) -> None:
        """Destroy the room; one that is already gone is not an error."""
        try:
            await self.videoroom({"request": "destroy", "room": room, "secret": secret})
        except JanusError as exc:
            if exc.code != NO_SUCH_ROOM:
                raise

    # -- forwarding a publisher to a room on another server (the videoroom's remote publishers)

    async def add_remote_publisher(
        self, room: str, secret: str, publisher: str, streams: list[dict[str, Any]],
        iface: str | None,
    ) -> tuple[str, int, int]:  # fmt: skip
        """A publisher of another server, shown in this room like a local one: answers where
        that server sends its RTP (address, port, RTCP port)."""
        made = await self.videoroom({
            "request": "add_remote_publisher", "room": room, "secret": secret, "id": publisher,
            "streams": streams, **({"iface": iface} if iface else {}),
        })  # fmt: skip
        return str(made["ip"]), int(made["port"]), int(made.get("rtcp_port") or 0)

    async def update_remote_publisher(
        self, room: str, secret: str, publisher: str, streams: list[dict[str, Any]]
    ) -> None:
        await self.videoroom({"request": "update_remote_publisher", "room": room,
                              "secret": secret, "id": publisher, "streams": streams})  # fmt: skip

    async def remove_remote_publisher(self, room: str, secret: str, publisher: str) -> None:
        """One that is not there (or a room that is gone) is no error."""
        try:
            await self.videoroom({"request": "remove_remote_publisher", "room": room,
                                  "secret": secret, "id": publisher})  # fmt: skip
        except JanusError as exc:
            if exc.code not in (NO_SUCH_PARTICIPANT, NO_SUCH_ROOM):
                raise

    async def publish_remotely(
        self, room: str, secret: str, publisher: str, remote_id: str, host: str, port: int,
        rtcp_port: int,
    ) -> bool:  # fmt: skip
        """Send a local publisher's RTP to a remote publisher on another server; False when that
        forward exists already (so asking again is how a lost one is made again)."""
        try:
            await self.videoroom({
                "request": "publish_remotely", "room": room, "secret": secret,
                "admin_key": self.room_key, "publisher_id": publisher, "remote_id": remote_id,
                "host": host, "port": port, **({"rtcp_port": rtcp_port} if rtcp_port else {}),
            })  # fmt: skip
        except JanusError as exc:
            if exc.code == ALREADY_EXISTS:
                return False
            raise
        return True

    async def unpublish_remotely(
        self, room: str, secret: str, publisher: str, remote_id: str
    ) -> None:
        """Stop a forward; one (or a publisher, or a room) that is gone is no error."""
        try:
            await self.videoroom({
                "request": "unpublish_remotely", "room": room, "secret": secret,
                "admin_key": self.room_key, "publisher_id": publisher, "remote_id": remote_id,
            })  # fmt: skip
        except JanusError as exc:
            if exc.code not in (NO_SUCH_PARTICIPANT, NO_SUCH_ROOM):
                raise

    async def publishers(
        self, room: str, token: str, observer: str
    ) -> dict[str, list[dict[str, Any]]]:
        """Who publishes in the room and their streams, seen by joining it as a participant
        that sends nothing (`observer`: its id; `token`: on the room's allow-list) and leaving.
        Only a participant hears the streams: neither the admin API nor listparticipants tells
        them."""
        base = self.url
        try:
            async with self._gate:
                session = await self._janus(base, {"janus": "create"})
                url = f"{base}/{session['data']['id']}"
                try:
                    attach = {"janus": "attach", "plugin": "janus.plugin.videoroom"}
                    handle = (await self._janus(url, attach))["data"]["id"]
                    join = {"request": "join", "ptype": "publisher", "room": room,
                            "id": observer, "token": token}  # fmt: skip
                    await self._janus(f"{url}/{handle}", {"janus": "message", "body": join})
                    joined = await self._joined(url)
                finally:
                    await self._janus(url, {"janus": "destroy"})
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise JanusUnavailable(f"{base}: {type(exc).__name__}: {exc}") from None
        return {
            str(p["id"]): [{k: s[k] for k in STREAM_KEYS if k in s} for s in p.get("streams", [])]
            for p in joined.get("publishers", [])
        }  # fmt: skip

    async def _janus(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(8)}
        sent = await self._client.post(url, json=body, timeout=TIMEOUT_SECONDS)
        reply: dict[str, Any] = sent.json()
        if reply.get("janus") == "error":
            error = reply.get("error", {})
            raise JanusError(int(error.get("code", 0)), str(error.get("reason", "error")))
        return reply

    async def _joined(self, url: str) -> dict[str, Any]:
        """The session's `joined` event (a join is answered on the long poll)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT_SECONDS
        while loop.time() < deadline:
            polled = (await self._client.get(url, params={"maxev": 5},
                                             timeout=TIMEOUT_SECONDS + 1)).json()  # fmt: skip
            for event in polled if isinstance(polled, list) else [polled]:
                data = event.get("plugindata", {}).get("data", {})
                if "error_code" in data:
                    raise JanusError(int(data["error_code"]), str(data.get("error", "error")))
                if data.get("videoroom") == "joined":
                    return dict(data)
        raise JanusUnavailable(f"{url}: no answer to the join")

    async def rooms(self) -> dict[str, int]:
        """Every room on the server, with how many participants are in it."""
        listed = await self.videoroom({"request": "list", "admin_key": self.room_key})
        return {str(r["room"]): int(r.get("num_participants", 0)) for r in listed.get("list", [])}
