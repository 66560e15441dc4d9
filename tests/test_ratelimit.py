"""Rate limits on the routes callable without a token."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.config import Settings
from podium.errors import TooManyRequests
from podium.ratelimit import RateLimiter
from tests.conftest import TENANT


def test_a_bucket_per_route_and_address() -> None:
    limiter = RateLimiter(per_second=1.0, burst=3)
    for _ in range(3):
        limiter.check("join", "1.2.3.4", now=0.0)
    with pytest.raises(TooManyRequests) as refused:
        limiter.check("join", "1.2.3.4", now=0.0)
    assert refused.value.extra["retry_after"] == 1
    limiter.check("join", "5.6.7.8", now=0.0)  # another address
    limiter.check("token", "1.2.3.4", now=0.0)  # another route
    limiter.check("join", "1.2.3.4", now=1.0)  # refilled one
    with pytest.raises(TooManyRequests):
        limiter.check("join", "1.2.3.4", now=1.0)


async def test_open_routes_answer_429_with_retry_after(database_url: str) -> None:
    settings = Settings(tenants=[TENANT], _env_file=None,  # type: ignore[call-arg]
                        open_route_burst=2, open_route_per_second=0.01)  # fmt: skip
    async with AsyncTestClient(create_app(settings, database_url)) as client:
        for path, body in (("/api/v1/join", {"entry_token": "x.1.y"}),
                           ("/v1/auth/token", {"grant_type": "client_credentials"}),
                           ("/api/v1/sip/verify", {"dialin_id": "1"})):  # fmt: skip
            statuses = [(await client.post(path, json=body)).status_code for _ in range(3)]
            assert statuses[:2] != [429, 429] and statuses[2] == 429, (path, statuses)
            r = await client.post(path, json=body)
            assert r.headers["retry-after"] == "100"
            assert r.json()["type"] == "/problems/rate_limited"


def _joins(port: int, n: int, forwarded: bool = True) -> list[int]:
    import httpx

    statuses = []
    for i in range(n):
        headers = {"X-Forwarded-For": f"203.0.113.{i}"} if forwarded else {}
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/join", json={"entry_token": "x.1.y"},
                       headers=headers, timeout=5)  # fmt: skip
        statuses.append(r.status_code)
    return statuses


LIMITED = {"PODIUM_OPEN_ROUTE_BURST": "3", "PODIUM_OPEN_ROUTE_PER_SECOND": "0.01"}


def test_forwarded_addresses_count_only_from_trusted_proxies(database_url: str) -> None:
    from podium.embedded import free_port
    from tests.conftest import start_server, stop_server

    port = free_port()
    proc = start_server(database_url, port, LIMITED)
    try:  # a forged X-Forwarded-For from an untrusted peer changes nothing
        assert _joins(port, 4) == [401, 401, 401, 429]
    finally:
        stop_server(proc)
    proc = start_server(database_url, port, {**LIMITED, "PODIUM_TRUSTED_PROXIES": '["127.0.0.1"]'})
    try:  # behind a trusted proxy each forwarded client has its own bucket
        assert _joins(port, 4) == [401] * 4
    finally:
        stop_server(proc)


def test_limits_are_shared_across_processes_through_redis(database_url: str) -> None:
    import shutil

    from podium.embedded import free_port
    from tests.conftest import RedisServer, start_server, stop_server

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    redis = RedisServer(free_port())
    redis.start()
    env = {**LIMITED, "PODIUM_BROKER_URL": redis.url}
    a, b = free_port(), free_port()
    procs = [start_server(database_url, a, env), start_server(database_url, b, env)]
    try:
        statuses = [_joins(port, 1, forwarded=False)[0] for port in (a, b, a, b, a, b)]
        assert statuses == [401, 401, 401, 429, 429, 429]  # one burst of 3 for both processes
    finally:
        for proc in procs:
            stop_server(proc)
        redis.stop()
