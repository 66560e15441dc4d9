"""A connection pool for asyncpg: fair, and cheap on the hot path.

Why not asyncpg's own pool (measured, see docs/benchmarks.md):
- it costs about 45 µs of client CPU per query over a bare connection (a proxy object per
  acquire, a timeout context and a reset on every release): a quarter of a class read;
- it is not fair: a released connection can be taken by a newcomer before the waiter it woke
  runs, and that waiter queues again at the back, so under load a few requests wait many times
  over (p99 of 100 ms where p50 was 18 ms).

Here idle connections are kept LIFO (the warmest first) and waiters FIFO; a released connection
is handed straight to the oldest waiter, so no one can overtake. Nothing is reset on release:
Podium leaves no session state behind (no SET, LISTEN, cursors or session advisory locks), and a
connection that is closed, still inside a transaction, or was interrupted mid-query (its caller
cancelled) is discarded instead of reused; a waiter then opens a fresh one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg

Opener = Callable[[], Awaitable[asyncpg.Connection]]


class PoolClosed(RuntimeError):
    pass


class ConnectionPool:
    def __init__(self, open_connection: Opener, size: int) -> None:
        self._open_connection = open_connection
        self.size = size
        self._idle: deque[asyncpg.Connection] = deque()
        self._waiters: deque[asyncio.Future[asyncpg.Connection]] = deque()
        self._count = 0  # connections open, or being opened
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def in_use(self) -> int:
        return self._count - len(self._idle)

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def _open(self) -> asyncpg.Connection:
        self._count += 1
        try:
            return await self._open_connection()
        except BaseException:
            self._count -= 1
            raise

    async def acquire(self) -> asyncpg.Connection:
        if self._closed:
            raise PoolClosed("the database pool is closed")
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
            self._count -= 1
        if self._count < self.size:
            return await self._open()
        waiter: asyncio.Future[asyncpg.Connection] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release(waiter.result())  # handed over just as we were cancelled
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def release(self, conn: asyncpg.Connection, *, broken: bool = False) -> None:
        if broken or self._closed or conn.is_closed() or conn.is_in_transaction():
            self._discard(conn)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def _discard(self, conn: asyncpg.Connection) -> None:
        self._count -= 1
        if not conn.is_closed():
            conn.terminate()
        if self._closed:
            return
        # The slot is free again: open a connection for the oldest waiter, if any.
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                task = asyncio.ensure_future(self._open_for(waiter))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                return

    async def _open_for(self, waiter: asyncio.Future[asyncpg.Connection]) -> None:
        try:
            conn = await self._open()
        except Exception as exc:  # the waiter sees why it got no connection
            if not waiter.done():
                waiter.set_exception(exc)
            return
        if waiter.done():
            self.release(conn)
        else:
            waiter.set_result(conn)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        conn = await self.acquire()
        broken = True
        try:
            yield conn
            broken = False
        except asyncio.CancelledError:
            raise  # interrupted mid-query: the connection's state is unknown, discard it
        except Exception:
            broken = False  # an error the server reported; the connection is still in sync
            raise
        finally:
            self.release(conn, broken=broken)

    async def close(self) -> None:
        self._closed = True
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(PoolClosed("the database pool is closed"))
        self._waiters.clear()
        idle, self._idle = list(self._idle), deque()
        self._count -= len(idle)
        for conn in idle:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)
        for task in list(self._tasks):
            task.cancel()
