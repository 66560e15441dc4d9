"""Signed, expiring links to stored media that Podium serves itself (file:// storage).

A link signs a storage *prefix* and its expiry, and carries both in its path:
`/api/v1/streams/<expires>/<signature>/<prefix>/<name>` (in the prefix "/" is written
"~"). Everything under the prefix is
reachable with it, so an HLS playlist's relative segment names resolve to links that are
signed too (a query string would be dropped by the player when it resolves them).
"""

from __future__ import annotations

import hashlib
import hmac
import time

ROUTE = "/api/v1/streams"


def signature(key: str, prefix: str, expires: int) -> str:
    message = f"stream:{prefix}:{expires}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def signed(base_url: str, key: str, prefix: str, name: str, seconds: int) -> str:
    expires = int(time.time()) + seconds
    sig = signature(key, prefix, expires)
    return f"{base_url}{ROUTE}/{expires}/{sig}/{prefix.replace('/', '~')}/{name}"


def valid(key: str, prefix: str, expires: int, given: str, now: float | None = None) -> bool:
    if expires < (time.time() if now is None else now) or not given.isascii():
        return False
    return hmac.compare_digest(signature(key, prefix, expires), given)
