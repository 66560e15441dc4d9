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
