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
from typing import Any

import msgspec
from litestar.datastructures import State

from podium import memory, metrics
from podium.broker import Broker
from podium.db import Database
from podium.rooms import queries
from podium.rooms.models import in_sequence
from podium.rooms.schemas import Event, Room
from podium.rooms.subscriber import Batch, Subscriber
from podium.tasks import cancel_and_wait

log = logging.getLogger(__name__)

PRESENCE_REFRESH = 15.0  # seconds between refreshes of this process's presence rows
SETTLE_SECONDS = 2.0  # how often the sockets' state is frozen out of full collections (memory)
PRESENCE_WINDOW = PRESENCE_REFRESH * 3  # older rows belong to a process that died
CLOSE_BANNED = 4003
CATCH_UP_PAGE = 500
WRITE_SLICE = 100  # sockets written in a row (~1 ms) before the process looks at its other work


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


def event_of(message: bytes) -> tuple[int | None, str]:
    """An event_message's sequence number (None for a live-only event) and frame."""
    head, _, frame = message.partition(b"\n")
    return (int(head[1:]) if len(head) > 1 else None), frame.decode()


def ban_message(account_id: str) -> bytes:
    return b"b\n" + account_id.encode()


def room_message(frame: str) -> bytes:
    return b"r\n" + frame.encode()


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

    async def write_out(self, items: list[tuple[int | None, str]]) -> None:
        """Write the events to every socket, a slice of sockets at a time: between slices the
        process answers requests and reads the broker (a room of thousands written in one go
        held the publisher's next POST for the whole pass, and the next event with it)."""
        if not items:
            return
        batch = Batch(items)
        everyone = list(self.subscribers)
        for start in range(0, len(everyone), WRITE_SLICE):
            if start:
                await asyncio.sleep(0)
            for subscriber in everyone[start : start + WRITE_SLICE]:
                subscriber.deliver_batch(batch)
        if len(everyone) > WRITE_SLICE:  # those who joined meanwhile get it too
            for subscriber in self.subscribers.difference(everyone):
                subscriber.deliver_batch(batch)

    async def _drain(self) -> None:
        while self._inbox:
            arrived, message = self._inbox.popleft()
            head, _, body = message.partition(b"\n")
            kind = head[:1]
            if kind == b"e":
                # With the events that waited behind it: written together (Batch).
                events = [message]
                while self._inbox and self._inbox[0][1][:1] == b"e":
                    events.append(self._inbox.popleft()[1])
                await self._events([event_of(e) for e in events])
                # From the first's arrival here to its write on this process's last socket (a
                # write that must wait continues in the socket's own task).
                metrics.fanout_lag.observe(time.perf_counter() - arrived)
                metrics.fanout_events.observe(len(events))
            elif kind == b"b":
                account_id = body.decode()
                for subscriber in list(self.subscribers):
                    if subscriber.account_id == account_id:
                        subscriber.drop(CLOSE_BANNED, "banned from the room")
            elif kind == b"r":
                await self.write_out([(None, body.decode())])

    async def _events(self, events: list[tuple[int | None, str]]) -> None:
        """Fan the events out in one batch, in sequence: a stored event seen already is skipped,
        and the ones missing before an early one are read from the database into the batch.
        (`last_seq` moves only once they are written: a socket that joins meanwhile starts
        before them and gets them.)"""
        ready: list[tuple[int | None, str]] = []
        upto = self.last_seq
        for seq, frame in in_sequence(events):
            if seq is not None:
                if seq <= upto:
                    continue
                if seq > upto + 1:
                    ready += await self._stored(upto, seq)
                upto = seq
            ready.append((seq, frame))
        await self.write_out(ready)
        self.last_seq = max(self.last_seq, upto)

    async def fill_gap(self) -> None:
        """Deliver the stored events after `last_seq` from the database (the broker was away)."""
        stored = await self._stored(self.last_seq, None)
        await self.write_out(stored)
        if stored:
            self.last_seq = max(self.last_seq, stored[-1][0] or 0)

    async def _stored(self, after: int, before: int | None) -> list[tuple[int | None, str]]:
        """The stored events after `after` (and before `before`): ones the broker did not bring,
        certain to be in the database, since a number is taken under the room's row lock and so
        a smaller one commits first."""
        try:
            rows = await self.hub.db.fetch(
                queries.EVENTS_AFTER, self.room_id, after, before, CATCH_UP_PAGE
            )
        except Exception as exc:  # the next event or reconnect tries again
            log.warning("gap fill for room %s failed: %s", self.room_id, exc)
            return []
        return [(row["seq"], event_frame(Event(**dict(row)))) for row in rows]


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
