"""One live socket of a room, as the room's feed sees it: what it has been sent, what waits for
it, and how a frame reaches it (an encoded frame written at once, or an ASGI send that may have
to wait, with later frames queued behind it). A socket that cannot keep up is closed (4008)
instead of slowing the room.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from podium import metrics
from podium.connections import text_frame

log = logging.getLogger(__name__)

MAX_BACKLOG = 512  # frames queued for one subscriber before it is dropped
# Bytes a socket written to directly (pre-encoded frames) may have waiting before it is dropped.
MAX_BUFFERED = 4 * 1024 * 1024
CLOSE_SLOW = 4008

Send = Callable[[str], Coroutine[Any, Any, None]]
Close = Callable[[int, str], Awaitable[None]]
WriteFrame = Callable[[bytes], int]  # connections.GuardedWebSocket.write_frame


class Batch:
    """Events that waited together in a feed (the process fell behind), in order. A socket that
    takes encoded frames gets them all in one write: one system call where there were k, so an
    event costs less exactly when the load that made them wait is high, and a process that falls
    behind catches up instead of falling further."""

    __slots__ = ("data", "highest", "items", "lowest")

    def __init__(self, items: list[tuple[int | None, str]]) -> None:
        # Each event's text with its whole WebSocket frame, encoded once for every socket.
        self.items = [(seq, text, text_frame(text.encode())) for seq, text in items]
        numbered = [seq for seq, _ in items if seq is not None]
        self.lowest = min(numbered, default=None)
        self.highest = max(numbered, default=None)
        self.data = b"".join(encoded for _, _, encoded in self.items)


class Subscriber:
    __slots__ = ("_backlog", "_close", "_held", "_send", "_write_frame", "_writer", "account_id",
                 "catching_up", "closed", "last_seq")  # fmt: skip

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

    def deliver(self, seq: int | None, frame: str, encoded: bytes | None = None) -> None:
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

    def deliver_batch(self, batch: Batch) -> None:
        """Several events at once: one write when the socket takes encoded frames and has none
        of them yet (the common case), else one by one."""
        # (A socket with a direct writer never has a send task queueing frames: `_write`.)
        if (
            self._write_frame is not None
            and not self.catching_up
            and not self.closed
            and (batch.lowest is None or batch.lowest > self.last_seq)
        ):
            if batch.highest is not None:
                self.last_seq = batch.highest
            self._write_encoded(batch.data)
            return
        for seq, frame, encoded in batch.items:
            self.deliver(seq, frame, encoded)

    def caught_up(self) -> None:
        self.catching_up = False
        held, self._held = self._held, []
        for seq, frame in held:
            self.deliver(seq, frame)

    def _write(self, frame: str, encoded: bytes | None = None) -> None:
        if self._writer is not None and not self._writer.done():
            self._backlog.append(frame)
            if len(self._backlog) > MAX_BACKLOG:
                self.drop(CLOSE_SLOW, "slow consumer")
            return
        if self._write_frame is not None:
            self._write_encoded(encoded or text_frame(frame.encode()))
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

    def _write_encoded(self, data: bytes) -> None:
        assert self._write_frame is not None
        if self._write_frame(data) > MAX_BUFFERED:  # -1: closing; its handler leaves the room
            self.drop(CLOSE_SLOW, "slow consumer")

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
