"""Connections that do not hold up their end are closed: uvicorn's HTTP and WebSocket protocols
with three limits (`podium serve` uses them; settings from the environment, per process).

- A request's head (request line and headers) must arrive within PODIUM_HEADER_TIMEOUT_SECONDS
  (10) of the connection opening or of the request's first byte: a connection that sends
  nothing, or dribbles headers a byte at a time (slowloris), is closed.
- A request's body must keep coming: PODIUM_READ_TIMEOUT_SECONDS (30) without a byte while one
  is expected closes the connection.
- At most PODIUM_MAX_CONNECTIONS_PER_ADDRESS (1,000) open connections per client address,
  WebSockets included; beyond it a new connection is closed at once. A peer listed in
  PODIUM_TRUSTED_PROXIES is not limited (it carries many clients; it limits them itself).

Idle keep-alive connections after a response are uvicorn's (`timeout_keep_alive`, 5 s); live
WebSockets are kept honest by pings (PODIUM_WS_PING_SECONDS).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections import Counter
from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import get_remote_addr
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from podium.config import load_settings

log = logging.getLogger(__name__)


class Limits:
    def __init__(self, header: float, read: float, per_address: int, exempt: list[str]) -> None:
        self.header = header
        self.read = read
        self.per_address = per_address
        self.exempt = tuple(ipaddress.ip_network(n, strict=False) for n in exempt)
        self.open: Counter[str] = Counter()  # this process's connections, by client address

    def limited(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return True
        return not any(ip in net for net in self.exempt)

    def admit(self, address: str | None) -> bool:
        """Count a new connection in; False when its address has too many already."""
        if address is None:
            return True
        if self.limited(address) and self.open[address] >= self.per_address:
            return False
        self.open[address] += 1
        return True

    def release(self, address: str | None) -> None:
        if address is not None and self.open[address] > 0:
            self.open[address] -= 1
            if not self.open[address]:
                del self.open[address]


@cache
def limits() -> Limits:
    s = load_settings()
    return Limits(s.header_timeout_seconds, s.read_timeout_seconds,
                  s.max_connections_per_address, s.trusted_proxies)  # fmt: skip


class Seat:
    """A connection's place in its address's count."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.peer: str | None = None
        self.held = False

    def take(self, transport: asyncio.BaseTransport, what: str) -> bool:
        """Count the connection in, or close it when its address has too many already."""
        remote = get_remote_addr(transport)  # type: ignore[arg-type]
        self.peer = remote[0] if remote else None
        if not self.limits.admit(self.peer):
            log.warning("refusing a %s from %s: too many open", what, self.peer)
            transport.close()
            return False
        self.held = True
        return True

    def give_back(self) -> None:
        if self.held:
            self.limits.release(self.peer)
            self.held = False


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head deadline, a body read timeout and a cap per
    address (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits()
        self._seat = Seat(self._limits)
        self._deadline: asyncio.TimerHandle | None = None
        self._reading_body = False

    def _arm(self, seconds: float, why: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, why)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, why: str) -> None:
        if not self.transport.is_closing():
            log.info("closing a connection from %s: %s", self._seat.peer, why)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self._seat.take(transport, "connection"):
            self._arm(self._limits.header, "no request head in time")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._seat.give_back()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._reading_body:
            self._arm(self._limits.read, "the request body stopped coming")
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self._limits.header, "the request head did not arrive in time")

    def on_headers_complete(self) -> None:
        # A body may follow: it must keep coming (a request without one completes at once,
        # which disarms this).
        self._reading_body = True
        self._arm(self._limits.read, "the request body stopped coming")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._reading_body = False
        self._disarm()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        # The WebSocket protocol takes the connection over, and its count with it.
        self._disarm()
        self._reading_body = False
        self._seat.give_back()
        super().handle_websocket_upgrade()


# The ASGI scope extension through which a live room writes a frame it encoded once for all its
# sockets: `scope["extensions"][FRAMES](frame) -> bytes buffered, or -1 when it cannot write`.
FRAMES = "podium.frames"


def text_frame(payload: bytes) -> bytes:
    """A whole WebSocket text frame as a server sends it (FIN, opcode 1, unmasked; RFC 6455)."""
    size = len(payload)
    if size < 126:
        head = bytes((0x81, size))
    elif size < 1 << 16:
        head = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return head + payload


class GuardedWebSocket(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, counted against its address's cap, which also takes
    frames already encoded (`FRAMES`): one event's frame is built once and written to each of a
    room's sockets by a plain transport write, instead of each socket encoding it again through
    an ASGI send, a coroutine and a flow-control wait of its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seat = Seat(limits())

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        self.scope["extensions"][FRAMES] = self.write_frame  # type: ignore[assignment]

    def write_frame(self, frame: bytes) -> int:
        """Write the frame now; answers what the socket has buffered since (the caller drops a
        peer that lets it grow), or -1 when the socket is not open for data."""
        transport = self.transport
        if not self.handshake_complete or self.close_sent or transport.is_closing():
            return -1
        transport.write(frame)
        return transport.get_write_buffer_size()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._seat.take(transport, "WebSocket")

    def connection_lost(self, exc: Exception | None) -> None:
        self._seat.give_back()
        super().connection_lost(exc)
