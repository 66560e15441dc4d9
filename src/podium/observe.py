"""Every HTTP request and WebSocket, seen from the outside: a request id (taken from
`X-Request-Id` when it is sane, else made, and sent back), the log context its lines carry, the
request counted and timed by route template and status (`metrics`), and one access line.

An ASGI wrapper around the framework's handler, so what it sees is what the client saw: the
status of errors too, and the route as the router matched it (`path_template`; a path that
matched no route counts as `unmatched`, so random paths cannot grow the series).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from podium import logs, metrics

log = logging.getLogger("podium.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # the framework's own handler types are narrower

REQUEST_ID = b"x-request-id"
_SANE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == REQUEST_ID and _SANE_ID.match(value):
            return value.decode()
    return os.urandom(16).hex()


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The series of each (method, route, status): looked up once, not per request.
        self._counted: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def _count(self, method: str, route: str, status: int, seconds: float) -> None:
        counter = self._counted.get((method, route, status))
        if counter is None:
            counter = metrics.requests.labels(method, route, str(status))
            self._counted[(method, route, status)] = counter
        counter.inc()
        timer = self._timed.get((method, route))
        if timer is None:
            timer = self._timed[(method, route)] = metrics.request_seconds.labels(method, route)
        timer.observe(seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = request_id(scope.get("headers") or [])
        context = logs.begin(request_id=rid, method=scope.get("method", "WS"))
        if kind == "websocket":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            method = scope["method"]
            self._count(method, route, status, seconds)
            context.update(route=route, status=status, duration_ms=round(seconds * 1000, 1))
            log.info("%s %s %s", method, route, status)
