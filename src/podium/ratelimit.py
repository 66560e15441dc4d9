"""Rate limits for the routes anyone can call without a token (entering through a link, the
OAuth token endpoint, the SIP bridge's verify): a token bucket per route and client address.
Their secrets cannot be guessed anyway; the limit keeps a flood off the database.

A bucket holds `burst` requests and refills at `per_second`; a classroom behind one NAT entering
at the same minute fits in the default burst. Two implementations, chosen by the broker URL:
in this process's memory (`memory://`), or shared by every process through Redis (`redis://`),
so that N processes do not allow N times the burst. A Redis that does not answer falls back to
this process's own buckets (the limit holds per process meanwhile) rather than refusing
everyone.

The client address is the peer's, or — only behind a proxy listed in PODIUM_TRUSTED_PROXIES —
the one the proxy forwarded (uvicorn's proxy headers handling, configured by `podium serve`).
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from typing import Any

from podium.errors import TooManyRequests

log = logging.getLogger(__name__)

MAX_KEYS = 100_000  # the least recently seen addresses are forgotten beyond this


def _refused(tokens: float, per_second: float) -> TooManyRequests:
    wait = math.ceil((1 - tokens) / per_second)
    return TooManyRequests(
        f"too many requests from this address; try again in {wait} s",
        code="rate_limited", retry_after=wait,
    )  # fmt: skip


class RateLimiter:
    """Buckets in this process's memory."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second = per_second
        self.burst = burst
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()

    def check(self, route: str, client: str, now: float | None = None) -> None:
        """Take one request from the bucket, or raise 429 with when to come back."""
        now = time.monotonic() if now is None else now
        key = (route, client)
        tokens, at = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            raise _refused(tokens, self.per_second)
        self._buckets[key] = (tokens - 1, now)
        while len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)

    async def take(self, route: str, client: str) -> None:
        self.check(route, client)

    async def close(self) -> None:
        return None


# One bucket per key in Redis, updated atomically by the server with the server's clock: answers
# {1 or 0 (taken or refused), tokens left}. The key expires once the bucket would be full again.
_BUCKET = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local held = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(held[1]) or burst
local at = tonumber(held[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local taken = 0
if tokens >= 1 then tokens = tokens - 1; taken = 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {taken, tostring(tokens)}
"""


class RedisRateLimiter:
    """Buckets shared by every process through Redis."""

    def __init__(self, url: str, per_second: float, burst: int) -> None:
        import redis.asyncio as redis

        self.per_second = per_second
        self.burst = burst
        self._redis = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script: Any = self._redis.register_script(_BUCKET)
        self._local = RateLimiter(per_second, burst)

    async def take(self, route: str, client: str) -> None:
        try:
            taken, tokens = await self._script(
                keys=[f"podium:rate:{route}:{client}"], args=[self.per_second, self.burst]
            )
        except Exception as exc:  # Redis away: this process's own buckets meanwhile
            log.warning("shared rate limit unavailable (%s); limiting per process", exc)
            self._local.check(route, client)
            return
        if not int(taken):
            raise _refused(float(tokens), self.per_second)

    async def close(self) -> None:
        await self._redis.aclose()


Limiter = RateLimiter | RedisRateLimiter


def limiter_for(broker_url: str, per_second: float, burst: int) -> Limiter:
    if broker_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisRateLimiter(broker_url, per_second, burst)
    return RateLimiter(per_second, burst)
