"""Outbound HTTP to addresses tenants choose (webhooks): to public addresses only.

- When a URL is configured: `http` or `https`, a host, no user info (`check_url`).
- When a request is made: the host is resolved, every address it resolves to must be public —
  not loopback, private, link-local, unique-local, multicast, unspecified or reserved (an
  IPv4-mapped IPv6 address is judged as its IPv4 address) — and the connection goes to the
  address that was checked, so a name that resolves differently a moment later (DNS
  rebinding) cannot slip through. Odd spellings (`0x7f000001`, `0177.0.0.1`) resolve like any
  name and are judged by where they lead. An operator may allow named networks
  (PODIUM_OUTBOUND_ALLOWED_NETWORKS: development, tests, a receiver on the same private net).
- Redirects are not followed, and proxies from the environment are not used.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def check_url(url: str) -> str:
    """A URL Podium may be told to call: http(s), a host, no user info. Raises ValueError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("must not carry user info (user:password@); sign with the secret instead")
    if not parts.hostname:
        raise ValueError("must name a host")
    if port == 0:
        raise ValueError("must not use port 0")
    try:
        httpx.URL(url)  # what the client will be given (it refuses odd IPv4 spellings)
    except httpx.InvalidURL as exc:
        raise ValueError(f"cannot be used: {exc}") from None
    return url


def networks(allowed: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in allowed)


def is_public(address: Address, allowed: tuple[Network, ...] = ()) -> bool:
    """Whether Podium may connect to this address."""
    if any(address in net for net in allowed):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped, allowed)
    return address.is_global and not (
        address.is_loopback or address.is_private or address.is_link_local
        or address.is_multicast or address.is_unspecified or address.is_reserved
    )  # fmt: skip


class Refused(httpcore.ConnectError):
    """The host leads to an address Podium does not call."""


class PublicOnly(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to public addresses (see the module)."""

    def __init__(self, allowed: tuple[Network, ...] = ()) -> None:
        self.allowed = allowed
        self._inner = httpcore.AnyIOBackend()

    async def resolve(self, host: str, port: int) -> list[Address]:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from None
        found: list[Address] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if address not in found:
                found.append(address)
        return found

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109 (httpcore's)
        local_address: str | None = None, socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:  # fmt: skip
        addresses = await self.resolve(host, port)
        refused = [a for a in addresses if not is_public(a, self.allowed)]
        if not addresses or refused:
            raise Refused(
                f"{host!r} leads to {refused[0] if refused else 'nothing'}: not a "
                "public address (PODIUM_OUTBOUND_ALLOWED_NETWORKS allows networks)"
            )
        # The address that was checked, not the name again.
        return await self._inner.connect_tcp(
            str(addresses[0]), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None,  # noqa: ASYNC109 (httpcore's)
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:  # fmt: skip
        raise Refused("unix sockets are not called")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PublicTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over `PublicOnly` (httpx takes no network backend; its pool is
    replaced with one that has it, built with the same settings)."""

    def __init__(self, allowed: tuple[Network, ...] = ()) -> None:
        super().__init__(trust_env=False)
        previous = self._pool
        assert isinstance(previous, httpcore.AsyncConnectionPool)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=previous._ssl_context, network_backend=PublicOnly(allowed)
        )


def client(allowed: Iterable[str] = ()) -> httpx.AsyncClient:
    """An HTTP client for tenant-chosen URLs."""
    return httpx.AsyncClient(
        transport=PublicTransport(networks(allowed)), follow_redirects=False, trust_env=False
    )
