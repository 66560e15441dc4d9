"""The subscriber's delivery: sends at once when it can, queues in order when the socket is
paused, and drops a consumer that falls too far behind; resume skips what was sent; events that
waited together go out in one write, to every socket of the room."""

from __future__ import annotations

import asyncio
import uuid
from typing import cast

from podium.connections import text_frame
from podium.rooms.live import WRITE_SLICE, Hub, RoomFeed
from podium.rooms.subscriber import CLOSE_SLOW, MAX_BACKLOG, Batch, Subscriber


class Socket:
    """Stands in for the ASGI send: pauses like a transport whose peer stopped reading."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.closed: tuple[int, str] | None = None

    async def send(self, text: str) -> None:
        await self.writable.wait()
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


def subscriber(socket: Socket) -> Subscriber:
    s = Subscriber("a", socket.send, socket.close)
    s.caught_up()
    return s


async def test_sends_at_once_when_the_socket_takes_it() -> None:
    socket = Socket()
    s = subscriber(socket)
    s.deliver(1, "one")
    assert socket.sent == ["one"]  # no task, no await: written during deliver()


async def test_a_paused_socket_gets_everything_in_order_later() -> None:
    socket = Socket()
    s = subscriber(socket)
    socket.writable.clear()
    for i in range(1, 6):
        s.deliver(i, f"f{i}")
    assert socket.sent == []
    socket.writable.set()
    await asyncio.sleep(0.01)
    assert socket.sent == ["f1", "f2", "f3", "f4", "f5"]
    s.deliver(6, "f6")
    assert socket.sent[-1] == "f6"


async def test_a_consumer_too_far_behind_is_dropped() -> None:
    socket = Socket()
    s = subscriber(socket)
    socket.writable.clear()
    for i in range(1, MAX_BACKLOG + 3):
        s.deliver(i, f"f{i}")
    await asyncio.sleep(0.01)
    assert s.closed and socket.closed is not None and socket.closed[0] == CLOSE_SLOW


async def test_duplicates_and_held_frames_on_resume() -> None:
    socket = Socket()
    s = Subscriber("a", socket.send, socket.close)
    s.deliver(3, "f3")  # arrives while catching up: held
    s.deliver(None, "live-only")
    s.last_seq = 3  # the catch-up from the database went up to 3
    s.caught_up()
    s.deliver(3, "f3 again")
    s.deliver(4, "f4")
    assert socket.sent == ["live-only", "f4"]


class Writer:
    """Stands in for the socket's direct writer of encoded frames: records each write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def __call__(self, data: bytes) -> int:
        self.writes.append(data)
        return 0  # nothing left buffered


BATCH = [(1, "one"), (None, "live"), (2, "two"), (3, "three")]


async def test_a_batch_is_one_write_to_a_socket_that_has_none_of_it() -> None:
    socket, writer = Socket(), Writer()
    s = Subscriber("a", socket.send, socket.close, writer)
    s.caught_up()
    s.deliver_batch(Batch(BATCH))
    assert writer.writes == [b"".join(text_frame(text.encode()) for _, text in BATCH)]
    assert s.last_seq == 3
    s.deliver(3, "three")  # already sent
    assert len(writer.writes) == 1


async def test_a_batch_goes_one_by_one_where_part_was_sent_or_frames_are_held() -> None:
    socket, writer = Socket(), Writer()
    s = Subscriber("a", socket.send, socket.close, writer)
    s.caught_up()
    s.deliver(1, "one")
    s.deliver_batch(Batch(BATCH))  # has 1 already: the rest, each once
    assert writer.writes == [text_frame(t.encode()) for t in ("one", "live", "two", "three")]
    later = Writer()
    resuming = Subscriber("b", socket.send, socket.close, later)
    resuming.deliver_batch(Batch(BATCH))  # still catching up: held
    assert later.writes == []
    resuming.caught_up()
    assert later.writes == [text_frame(t.encode()) for t in ("one", "live", "two", "three")]


async def test_a_socket_that_joins_while_a_room_is_written_gets_the_events_too() -> None:
    """A room of thousands is written a slice at a time, the process free between slices; one
    that joins meanwhile (not in the list being written) must not miss those events."""
    feed = RoomFeed(cast(Hub, None), uuid.uuid4())  # writing needs no hub
    socket = Socket()
    writers = [Writer() for _ in range(WRITE_SLICE * 2 + 1)]
    for k, writer in enumerate(writers):
        s = Subscriber(str(k), socket.send, socket.close, writer)
        s.caught_up()
        feed.subscribers.add(s)
    writing = asyncio.create_task(feed.write_out([(1, "one"), (2, "two")]))
    await asyncio.sleep(0)  # the first slice is written, the task waits for its turn
    assert 0 < sum(len(w.writes) for w in writers) < len(writers)
    late = Writer()
    joiner = Subscriber("late", socket.send, socket.close, late)
    joiner.caught_up()
    feed.subscribers.add(joiner)
    await writing
    assert all(len(w.writes) == 1 for w in [*writers, late])  # each once, in one write
