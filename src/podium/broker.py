"""Publish/subscribe between Podium processes: in-process (`memory://`) or Redis (`redis://`).

A message is bytes on a channel. Publish only after the data it announces has committed: a
subscriber that misses a message (broker down, process restarting) finds the data in the
database, never the other way round. A broker that fails never fails the caller: publishing
logs and goes on, and the subscription reconnects by itself, calling `on_reconnect` so the
subscriber can fetch what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from podium.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Handler = Callable[[str, bytes], None]
ReconnectHandler = Callable[[], Awaitable[None]]


class MemoryBroker:
    """One process: a message goes straight to this process's handler."""

    def __init__(self) -> None:
        self._handler: Handler | None = None
        self._channels: set[str] = set()

    async def start(self, handler: Handler, on_reconnect: ReconnectHandler) -> None:
        self._handler = handler

    async def stop(self) -> None:
        self._handler = None

    async def publish(self, channel: str, message: bytes) -> None:
        if self._handler is not None and channel in self._channels:
            self._handler(channel, message)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)


class RedisBroker:
    """Several processes: Redis pub/sub, one connection for publishing and one subscription."""

    RETRY_SECONDS = 0.5

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._url = url
        self._channels: set[str] = set()
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._handler: Handler | None = None
        self._on_reconnect: ReconnectHandler | None = None

    async def start(self, handler: Handler, on_reconnect: ReconnectHandler) -> None:
        self._handler = handler
        self._on_reconnect = on_reconnect
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task])
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        await self._redis.aclose()

    async def publish(self, channel: str, message: bytes) -> None:
        try:
            await self._redis.publish(channel, message)
        except Exception as exc:  # the API goes on; live clients catch up from the database
            log.warning("broker publish on %s failed: %s", channel, exc)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        if self._pubsub is not None:
            with contextlib.suppress(Exception):  # re-subscribed on reconnect otherwise
                await self._pubsub.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(channel)

    async def _listen(self) -> None:
        first = True
        while True:
            try:
                self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                # A placeholder channel keeps the connection subscribed when no room is.
                await self._pubsub.subscribe("podium:keepalive", *self._channels)
                if not first and self._on_reconnect is not None:
                    await self._on_reconnect()
                first = False
                async for message in self._pubsub.listen():
                    if message.get("type") == "message" and self._handler is not None:
                        channel = message["channel"]
                        if isinstance(channel, bytes):
                            channel = channel.decode()
                        self._handler(channel, message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("broker subscription lost (%s); reconnecting", exc)
                first = False
                with contextlib.suppress(Exception):
                    await self._pubsub.aclose()
                self._pubsub = None
                await asyncio.sleep(self.RETRY_SECONDS)


Broker = MemoryBroker | RedisBroker


def broker_for(url: str) -> Broker:
    if not url or url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url)
    raise ValueError(f"unknown broker URL {url!r}: use memory:// or redis://")
