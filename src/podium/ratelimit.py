"""Rate limits for the routes anyone can call without a token (entering through a link, the
OAuth token endpoint, the SIP bridge's verify): a token bucket per route and client address, in
each process. Their secrets cannot be guessed anyway; the limit keeps a flood off the database.

A bucket holds `burst` requests and refills at `per_second`; a classroom behind one NAT entering
at the same minute fits in the default burst.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict

from podium.errors import TooManyRequests

MAX_KEYS = 100_000  # the least recently seen addresses are forgotten beyond this


class RateLimiter:
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
            wait = math.ceil((1 - tokens) / self.per_second)
            raise TooManyRequests(
                f"too many requests from this address; try again in {wait} s",
                code="rate_limited", retry_after=wait,
            )  # fmt: skip
        self._buckets[key] = (tokens - 1, now)
        while len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)
