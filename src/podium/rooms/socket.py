"""The live WebSocket of an event room: `GET /api/v1/event_rooms/:room_id/live`.

The server sends `{"message": "event", "event": {...}}` for every new event (stored ones with
their `seq`, live-only ones with `seq: null`) and `{"message": "room", "room": {...}}` when the
room changes. `?after=<seq>` first sends the stored events after that number, then live ones,
with no gap and no duplicate. A client may post: it sends `{"ref": "...", "event": {...}}` and
gets `{"message": "reply", "ref": "...", "event": {...}}` or `{..., "error": <problem>}`.
`{"message": "ping"}` is answered `{"message": "pong"}` (a browser's liveness check).

Close codes: 4401 not authenticated, 4404 no such room, 4003 banned, 4008 too slow to keep up,
4422 a bad query parameter, 1012 server restarting. Dead peers are found by the server's
WebSocket pings (uvicorn: every PODIUM_WS_PING_SECONDS, 20 s, as long to answer).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from podium import logs
from podium.auth.admission import held_now
from podium.auth.models import Principal
from podium.auth.policy import sees
from podium.auth.service import bearer_token, tenants_of
from podium.connections import FRAMES
from podium.db import Database
from podium.errors import PodiumError, to_podium_error, validation_error
from podium.rooms import queries, service
from podium.rooms.live import CATCH_UP_PAGE, CLOSE_BANNED, event_frame, hub_of
from podium.rooms.models import Gate
from podium.rooms.schemas import Event, EventCreate
from podium.rooms.subscriber import Subscriber
from podium.runtime import Podium, runtime
from podium.validation import strict

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_REQUEST = 4422

# A client may send `{"message": "ping"}` at any time (held back by the lobby too); the server
# answers `{"message": "pong"}`. Browsers cannot send WebSocket pings: this is how a page finds a
# dead connection in seconds.
PING = {"message": "ping"}
PONG = '{"message":"pong"}'

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class Post(msgspec.Struct):
    event: Any
    ref: str | int | None = None


def _after(socket: WebSocket[Any, Any, Any]) -> int | None:
    raw = socket.query_params.get("after")
    if raw is None:
        return None
    value = int(raw)
    if value < 0:
        raise ValueError("after must be 0 or more")
    return value


@websocket("/api/v1/event_rooms/{room_id:str}/live", name="event_room_live")
async def live(socket: WebSocket[Any, Any, Any], room_id: FromPath[str]) -> None:
    p = runtime(socket.app.state)
    await socket.accept()
    try:
        token = bearer_token(
            socket.headers.get("authorization"), socket.query_params.get("access_token")
        )
        principal = await tenants_of(socket.app.state).authenticate(token)
    except PodiumError as exc:
        await socket.close(CLOSE_UNAUTHENTICATED, exc.detail[:120])
        return
    try:
        room = uuid.UUID(room_id)
        after = _after(socket)
    except ValueError as exc:
        await socket.close(CLOSE_BAD_REQUEST, str(exc)[:120])
        return
    row = await p.db.fetchrow(
        queries.SELECT_ROOM_FOR_POST, room, principal.audience, principal.account_id
    )
    if row is None or not sees(principal, row["class_id"]):
        await socket.close(CLOSE_NOT_FOUND, "no such event room")
        return
    if row["banned"]:
        await socket.close(CLOSE_BANNED, "banned from the room")
        return
    logs.note(tenant=principal.audience, room_id=room, class_id=row["class_id"])

    # A participant the lobby holds back hears only the lobby's events until let in.
    held = await held_now(p.db, principal, row["class_id"])
    lobby_gate = None if held is None else Gate(str(principal.participant_id), held)

    async def send(text: str) -> None:
        if lobby_gate is None or lobby_gate.passes(text):
            await socket.send({"type": "websocket.send", "bytes": None, "text": text})

    async def send_stored(text: str) -> None:
        # History is judged by where the participant stands now, not replayed through the gate:
        # someone let in reads the whole chat (as over HTTP), someone held back its lobby events.
        if lobby_gate is None or lobby_gate.allows(text):
            await socket.send({"type": "websocket.send", "bytes": None, "text": text})

    async def close(code: int, reason: str) -> None:
        await socket.close(code, reason)

    # Every frame goes out as it is unless a lobby gate judges each: then write encoded frames
    # directly (a socket of `podium serve` can; an in-process test client goes through `send`).
    extensions = cast(dict[str, Any], socket.scope.get("extensions") or {})
    write_frame = None if lobby_gate is not None else extensions.get(FRAMES)
    subscriber = Subscriber(principal.account_id, send, close, write_frame)
    await hub_of(socket.app.state).join(room, subscriber)
    try:
        if after is not None:
            subscriber.last_seq = await _catch_up(p.db, send_stored, room, after)
        subscriber.caught_up()
        await _receive_posts(socket, p, principal, room)
    except WebSocketDisconnect:
        pass
    finally:
        subscriber.closed = True
        await hub_of(socket.app.state).leave(room, subscriber)


async def _catch_up(
    db: Database, send: Callable[[str], Awaitable[None]], room: uuid.UUID, after: int
) -> int:
    """Send the stored events after `after`; answers the last sequence number sent."""
    last = after
    while True:
        rows = await db.fetch(queries.EVENTS_AFTER, room, last, None, CATCH_UP_PAGE)
        for row in rows:
            event = Event(**dict(row))
            await send(event_frame(event))
            last = event.seq
        if len(rows) < CATCH_UP_PAGE:
            return last


async def _receive_posts(
    socket: WebSocket[Any, Any, Any], p: Podium, principal: Principal, room: uuid.UUID
) -> None:
    """Each message a client sends is one use case: its own unit."""
    while True:
        text = await socket.receive_data(mode="text")
        ref = None
        try:
            decoded = _decode(text)
            if decoded == PING:  # a client checking the connection is alive
                await socket.send_data(PONG)
                continue
            post = msgspec.convert(decoded, Post)
            ref = post.ref
            async with p.db.unit() as tx:
                event = await service.post_event(
                    tx, hub_of(socket.app.state), principal, room, strict(post.event, EventCreate)
                )
            reply: dict[str, Any] = {"message": "reply", "ref": ref, "event": event}
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            reply = {"message": "reply", "ref": ref, "error": validation_error(str(exc)).problem()}
        except Exception as exc:
            problem = to_podium_error(exc)
            if problem.status >= 500:
                raise
            reply = {"message": "reply", "ref": ref, "error": problem.problem()}
        await socket.send_data(_encode(reply).decode())
