"""Webhooks go to public addresses only: URLs are checked when configured, and each delivery
connects only to an address it checked (loopback, private, link-local, metadata services…
refused unless an operator allows the network)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from podium.cli import main
from podium.config import TenantConfig
from podium.outbound import client, is_public
from tests.conftest import TENANT
from tests.notifications.test_webhooks import Receiver, app_client, settings_for

BAD_AT_CONFIGURATION = [
    "gopher://example.org/", "ftp://example.org/", "file:///etc/passwd",
    "http://user:pass@example.org/", "http://user@example.org/", "http:///nohost", "not a url",
    "http://0177.0.0.1/",
]  # fmt: skip


@pytest.mark.parametrize("url", BAD_AT_CONFIGURATION)
def test_schemes_and_user_info_are_refused_when_configured(
    url: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValidationError):
        TenantConfig(**{**TENANT.model_dump(), "webhook_url": url})
    monkeypatch.setenv("PODIUM_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["tenant", "webhook", "example.org", url])
    assert result.exit_code != 0 and "URL" in result.output


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "0.0.0.0",  # noqa: S104
    "224.0.0.1", "100.64.0.1", "::1", "fc00::1", "fe80::1", "::ffff:127.0.0.1", "::",
    "ff02::1",
])  # fmt: skip
def test_addresses_that_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


def test_public_addresses_and_allowed_networks() -> None:
    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert is_public(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"))
    allowed = (ipaddress.ip_network("127.0.0.0/8"),)
    assert is_public(ipaddress.ip_address("127.0.0.1"), allowed)
    assert not is_public(ipaddress.ip_address("10.0.0.1"), allowed)


@pytest.fixture
def listener() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.mark.parametrize("host", [
    "127.0.0.1", "localhost", "0x7f000001", "0177.0.0.1", "2130706433", "017700000001", "[::1]",
    "[::ffff:127.0.0.1]",
])  # fmt: skip
async def test_a_delivery_never_connects_to_a_refused_address(
    host: str, listener: Receiver
) -> None:
    """However loopback is spelled, the request never reaches the listener on it."""
    port = listener.server.server_address[1]
    async with client() as http:
        with pytest.raises((httpx.ConnectError, httpx.InvalidURL)):
            await http.post(f"http://{host}:{port}/hooks", content=b"{}")
    assert listener.received == []


async def test_names_that_do_not_resolve_or_lead_inside_are_refused() -> None:
    async with client() as http:
        for url in ("http://metadata.google.internal/computeMetadata/v1/",
                    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"):  # fmt: skip
            with pytest.raises(httpx.ConnectError):
                await http.get(url, timeout=2)


async def test_an_allowed_network_is_delivered_to(listener: Receiver) -> None:
    async with client(["127.0.0.0/8"]) as http:
        r = await http.post(listener.url, content=b"{}")
    assert r.status_code == 200 and len(listener.received) == 1


async def test_redirects_are_not_followed(listener: Receiver) -> None:
    async with client(["127.0.0.0/8"]) as http:
        assert http.follow_redirects is False


async def test_a_tenants_webhook_on_loopback_is_not_delivered_by_default(
    database_url: str, listener: Receiver
) -> None:
    settings = settings_for(listener.url).model_copy(update={"outbound_allowed_networks": []})
    async for client_ in app_client(settings, database_url):
        r = await client_.post("/api/v1/webinars",
                               json={"title": "T", "scope": "t1", "audience": "example.org",
                                     "time": [1, 2]})  # fmt: skip
        assert r.status_code == 201

        import asyncpg

        async def refused() -> bool:
            conn = await asyncpg.connect(database_url)
            try:
                error = await conn.fetchval(
                    "SELECT last_error FROM jobs WHERE kind = 'webhook' AND last_error IS NOT NULL"
                )
            finally:
                await conn.close()
            return error is not None and "not a public address" in error

        import asyncio
        import time

        deadline = time.monotonic() + 10
        while not await refused():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
    assert listener.received == []
