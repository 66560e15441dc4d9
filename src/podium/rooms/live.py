"""Live delivery of a room's events to WebSocket subscribers, in order, with no gap.

Each process keeps, per room with local subscribers, a feed that receives the room's messages
from the broker and hands each frame, encoded once, to every subscriber:
- order: stored events carry the room's sequence number; the feed delivers them in sequence.
  A number that arrives early means one is missing (a publisher died after its commit, the broker
  dropped it): the feed reads the missing ones from the database, where they are certain to be,
  because a number is taken under the room's row lock and so a smaller one commits first;
- resume: a client that reconnects with `?after=<seq>` is registered first (new frames queue for
  it), then reads what it missed from the database, then gets the queued frames, skipping those
  it already has: no gap, no duplicate;
- slow consumers: a frame is written at once when the socket can take it; when it cannot, the
  write finishes in the background and later frames queue behind it; a queue past its limit
  closes that socket (code 4008) instead of slowing the room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import msgspec
from litestar.datastructures import State

from podium import memory, metrics
from podium.broker import Broker
from podium.connections import text_frame
from podium.db import Database
from podium.rooms import queries
from podium.rooms.schemas import Event, Room
from podium.tasks import cancel_and_wait

log = logging.getLogger(__name__)

MAX_BACKLOG = 512  # frames queued for one subscriber before it is dropped
# Bytes a socket written to directly (pre-encoded frames) may have waiting before it is dropped.
MAX_BUFFERED = 4 * 1024 * 1024
PRESENCE_REFRESH = 15.0  # seconds between refreshes of this process's presence rows
SETTLE_SECONDS = 2.0  # how often the sockets' state is frozen out of full collections (memory)
PRESENCE_WINDOW = PRESENCE_REFRESH * 3  # older rows belong to a process that died
CLOSE_SLOW = 4008
CLOSE_BANNED = 4003
CATCH_UP_PAGE = 500

Send = Callable[[str], Coroutine[Any, Any, None]]
Close = Callable[[int, str], Awaitable[None]]
WriteFrame = Callable[[bytes], int]  # connections.GuardedWebSocket.write_frame

_encode = msgspec.json.Encoder().encode


def channel_of(room_id: uuid.UUID) -> str:
    return f"podium:room:{room_id}"


def event_frame(event: Event | dict[str, Any]) -> str:
    return _encode({"message": "event", "event": event}).decode()


def room_frame(room: Room) -> str:
    return _encode({"message": "room", "room": room}).decode()


# Broker messages: b"e<seq>\n<frame>" (seq empty for a live-only event), b"b\n<account id>" (a
# ban: close that account's sockets), b"r\n<frame>" (the room changed).
def event_message(seq: int | None, frame: str) -> bytes:
    return b"e" + (str(seq).encode() if seq is not None else b"") + b"\n" + frame.encode()


def ban_message(account_id: str) -> bytes:
    return b"b\n" + account_id.encode()


def room_message(frame: str) -> bytes:
    return b"r\n" + frame.encode()


class Frame:
    """One event's text frame, encoded as a whole WebSocket frame once, when a socket that takes
    encoded frames first needs it."""

    __slots__ = ("_encoded", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._encoded: bytes | None = None

    def encoded(self) -> bytes:
        if self._encoded is None:
            self._encoded = text_frame(self.text.encode())
        return self._encoded


class Subscriber:
    def __init__(
        self, account_id: str, send: Send, close: Close, write_frame: WriteFrame | None = None
    ) -> None:
        self.account_id = account_id
        self._send = send
        self._close = close
        # The socket's direct writer of encoded frames (connections.FRAMES), when it has one
        # and every frame goes out as it is (no lobby gate to judge frames one by one).
        self._write_frame = write_frame
        self.last_seq = 0
        self.catching_up = True
        self._held: list[tuple[int | None, str]] = []
        self._backlog: deque[str] = deque()
        self._writer: asyncio.Task[None] | None = None
        self.closed = False

    def deliver(self, seq: int | None, frame: str, encoded: Frame | None = None) -> None:
        if self.closed:
            return
        if self.catching_up:
            self._held.append((seq, frame))
            if len(self._held) > MAX_BACKLOG:
                self.drop(CLOSE_SLOW, "too slow to catch up")
            return
        if seq is not None:
            if seq <= self.last_seq:
                return  # already sent (from the database while catching up)
            self.last_seq = seq
        self._write(frame, encoded)

    def caught_up(self) -> None:
        self.catching_up = False
        held, self._held = self._held, []
        for seq, frame in held:
            self.deliver(seq, frame)

    def _write(self, frame: str, encoded: Frame | None = None) -> None:
        if self._writer is not None and not self._writer.done():
            self._backlog.append(frame)
            if len(self._backlog) > MAX_BACKLOG:
                self.drop(CLOSE_SLOW, "slow consumer")
            return
        if self._write_frame is not None:
            buffered = self._write_frame((encoded or Frame(frame)).encoded())
            if buffered > MAX_BUFFERED:  # -1: closing; its handler leaves the room
                self.drop(CLOSE_SLOW, "slow consumer")
            return
        # Run the send until it would wait: when the socket can take the frame, that is the
        # whole send, with no task per frame and subscriber.
        coro = self._send(frame)
        try:
            waiting_on = coro.send(None)
        except StopIteration:
            return
        except Exception as exc:
            log.warning("live send to %s failed: %r", self.account_id, exc)
            self.drop(1011, "send failed")
            return
        self._writer = asyncio.ensure_future(self._finish(coro, waiting_on))

    async def _finish(self, coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        try:
            while True:
                if waiting_on is None:
                    await asyncio.sleep(0)
                else:
                    # What a Task does with a yielded future before waiting on it: without
                    # this, awaiting it here reads as a misuse and raises.
                    waiting_on._asyncio_future_blocking = False
                    await waiting_on
                try:
                    waiting_on = coro.send(None)
                except StopIteration:
                    break
            while self._backlog and not self.closed:
                await self._send(self._backlog.popleft())
        except Exception as exc:
            log.warning("live send to %s failed: %r", self.account_id, exc)
            coro.close()
            self.drop(1011, "send failed")

    def drop(self, code: int, reason: str) -> None:
        if self.closed:
            return
        if code == CLOSE_SLOW:
            metrics.slow_consumers.inc()
        self.closed = True
        self._backlog.clear()
        task = asyncio.ensure_future(self._close(code, reason))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)


class RoomFeed:
    """One room's ordered stream in this process."""

    def __init__(self, hub: Hub, room_id: uuid.UUID) -> None:
        self.hub = hub
        self.room_id = room_id
        self.subscribers: set[Subscriber] = set()
        self.last_seq = 0
        self.ready = False  # until it knows where the room stands, messages wait
        self.starting: asyncio.Future[None] | None = None
        self._inbox: deque[tuple[float, bytes]] = deque()
        self._draining: asyncio.Task[None] | None = None

    def receive(self, message: bytes) -> None:
        self._inbox.append((time.perf_counter(), message))
        self.kick()

    def kick(self) -> None:
        if self.ready and self._inbox and (self._draining is None or self._draining.done()):
            self._draining = asyncio.ensure_future(self._drain())

    def fan_out(self, seq: int | None, frame: str) -> None:
        encoded = Frame(frame)  # encoded once for every socket that takes encoded frames
        for subscriber in list(self.subscribers):
            subscriber.deliver(seq, frame, encoded)

    async def _drain(self) -> None:
        while self._inbox:
            arrived, message = self._inbox.popleft()
            head, _, body = message.partition(b"\n")
            kind = head[:1]
            if kind == b"e":
                await self._event(int(head[1:]) if len(head) > 1 else None, body.decode())
                # From its arrival here to its write on this process's last socket (a write
                # that must wait continues in the socket's own task).
                metrics.fanout_lag.observe(time.perf_counter() - arrived)
            elif kind == b"b":
                account_id = body.decode()
                for subscriber in list(self.subscribers):
                    if subscriber.account_id == account_id:
                        subscriber.drop(CLOSE_BANNED, "banned from the room")
            elif kind == b"r":
                self.fan_out(None, body.decode())

    async def _event(self, seq: int | None, frame: str) -> None:
        if seq is None:
            self.fan_out(None, frame)
            return
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            await self.fill_gap(seq)
        self.fan_out(seq, frame)
        self.last_seq = seq

    async def fill_gap(self, before: int | None = None) -> None:
        """Deliver the stored events after `last_seq` (and before `before`) from the database."""
        try:
            rows = await self.hub.db.fetch(
                queries.EVENTS_AFTER, self.room_id, self.last_seq, before, CATCH_UP_PAGE
            )
        except Exception as exc:  # the next event or reconnect tries again
            log.warning("gap fill for room %s failed: %s", self.room_id, exc)
            return
        for row in rows:
            event = Event(**dict(row))
            self.fan_out(event.seq, event_frame(event))
            self.last_seq = event.seq


class Hub:
    """This process's live rooms."""

    # The hub of each database object: what code with only a unit in hand (a lifecycle hook)
    # publishes through. Several apps in one process (tests) each have their own database and
    # hub, on their own event loop; a hook must never reach another app's hub.
    _of_database: weakref.WeakKeyDictionary[Database, Hub] = weakref.WeakKeyDictionary()

    @classmethod
    def of_database(cls, db: Database) -> Hub | None:
        return cls._of_database.get(db)

    def __init__(self, db: Database, broker: Broker) -> None:
        Hub._of_database[db] = self
        self.db = db
        self.broker = broker
        self.rooms: dict[uuid.UUID, RoomFeed] = {}
        self.node = uuid.uuid4().hex  # this process, in the presence table
        self._presence: asyncio.Task[None] | None = None
        self._settling: asyncio.Task[None] | None = None
        self.memory = memory.Keeper()

    async def start(self) -> None:
        await self.broker.start(self._on_message, self._on_reconnect)
        self._presence = asyncio.create_task(self._refresh_presence())
        self._settling = asyncio.create_task(self._settle())

    async def stop(self) -> None:
        await cancel_and_wait(t for t in (self._presence, self._settling) if t is not None)
        await self.broker.stop()
        for feed in self.rooms.values():
            for subscriber in list(feed.subscribers):
                subscriber.drop(1012, "server restarting")
        with contextlib.suppress(Exception):
            await self.db.execute(queries.NODE_GONE, self.node)

    async def _refresh_presence(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_REFRESH)
            try:
                await self.db.execute(queries.AGENTS_SEEN, self.node)
            except Exception as exc:
                log.warning("presence refresh failed: %s", exc)

    async def _settle(self) -> None:
        while True:
            await asyncio.sleep(SETTLE_SECONDS)
            live = sum(len(feed.subscribers) for feed in self.rooms.values())
            step = self.memory.settle(live)
            if step is not memory.Step.NOTHING:
                log.info("live sockets: %s at %d", step.value, live)

    def _on_message(self, channel: str, message: bytes) -> None:
        with contextlib.suppress(ValueError):
            feed = self.rooms.get(uuid.UUID(channel.rpartition(":")[2]))
            if feed is not None:
                feed.receive(message)

    async def _on_reconnect(self) -> None:
        """The broker was away: fetch what each live room missed meanwhile."""
        for feed in list(self.rooms.values()):
            await feed.fill_gap()

    async def publish(self, room_id: uuid.UUID, message: bytes) -> None:
        await self.broker.publish(channel_of(room_id), message)

    async def join(self, room_id: uuid.UUID, subscriber: Subscriber) -> RoomFeed:
        """Register the subscriber (catching up) in the room's feed, creating the feed and its
        broker subscription on first use."""
        feed = self.rooms.get(room_id)
        if feed is None:
            feed = self.rooms[room_id] = RoomFeed(self, room_id)
            feed.starting = asyncio.ensure_future(self._start(feed))
        assert feed.starting is not None
        await asyncio.shield(feed.starting)
        # Where a subscriber that asked for no history starts: exactly here, before any frame
        # can be held for it (a resuming one overwrites it with what it read from the database).
        subscriber.last_seq = feed.last_seq
        feed.subscribers.add(subscriber)
        metrics.live_sockets.inc()
        metrics.live_rooms.set(len(self.rooms))
        await self.db.execute(queries.AGENT_JOINED, room_id, subscriber.account_id, self.node)
        return feed

    async def _start(self, feed: RoomFeed) -> None:
        # Subscribe before reading where the room stands, so nothing falls between.
        await self.broker.subscribe(channel_of(feed.room_id))
        feed.last_seq = await self.db.fetchval(queries.ROOM_LAST_SEQ, feed.room_id) or 0
        feed.ready = True
        feed.kick()

    async def leave(self, room_id: uuid.UUID, subscriber: Subscriber) -> None:
        feed = self.rooms.get(room_id)
        if feed is None:
            return
        if subscriber in feed.subscribers:
            feed.subscribers.discard(subscriber)
            metrics.live_sockets.dec()
            self.memory.closed()
        if not any(s.account_id == subscriber.account_id for s in feed.subscribers):
            with contextlib.suppress(Exception):
                await self.db.execute(queries.AGENT_LEFT, room_id, subscriber.account_id, self.node)
        if not feed.subscribers:
            del self.rooms[room_id]
            metrics.live_rooms.set(len(self.rooms))
            await self.broker.unsubscribe(channel_of(room_id))


async def announce(
    hub: Hub, room_id: uuid.UUID, stored: Event | None, posted: Any = None,
    created_by: str = "", occurred_at: int | None = None,
) -> None:  # fmt: skip
    """Tell the room's live subscribers, everywhere, about an event (after its commit).

    A stored event goes with its sequence number; a live-only one (`posted`, not stored) has
    none, and no id."""
    if stored is not None:
        await hub.publish(room_id, event_message(stored.seq, event_frame(stored)))
        return
    frame = event_frame({
        "id": None, "room_id": room_id, "seq": None, "type": posted.type,
        "set": posted.set or posted.type, "label": posted.label, "attribute": posted.attribute,
        "data": posted.data, "removed": posted.removed, "occurred_at": occurred_at,
        "created_by": created_by, "created_at": None,
    })  # fmt: skip
    await hub.publish(room_id, event_message(None, frame))


def hub_of(state: State) -> Hub:
    """This process's live event rooms, kept by the app (`app.state.hub`)."""
    found: Hub = state.hub
    return found
