"""The tenant directory: tenants reach running processes, and cached tokens die with their key."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from podium.auth import tokens
from podium.auth.models import Tenant
from podium.auth.service import TenantDirectory, add_tenant, remove_tenant
from podium.db import Database
from podium.errors import Unauthorized

SCHOOL = Tenant("school.org", "HS256", "school-secret-0123456789abcdef!!", "school.org", "service")


@pytest.fixture
async def db(database_url: str) -> Database:
    database = Database(database_url, size=4)
    await database.connect()
    yield database  # type: ignore[misc]
    await database.close()


async def test_a_new_tenant_is_seen_after_the_cache_time(db: Database) -> None:
    directory = TenantDirectory(db, ttl=0.05)
    token = tokens.mint(SCHOOL, "service", 60)
    with pytest.raises(Unauthorized):
        await directory.authenticate(token)
    await add_tenant(db, SCHOOL)
    await asyncio.sleep(0.1)
    assert (await directory.authenticate(token)).is_service


async def test_a_removed_tenants_cached_tokens_stop_working(db: Database) -> None:
    await add_tenant(db, SCHOOL)
    directory = TenantDirectory(db, ttl=0.05)
    token = tokens.mint(SCHOOL, "alice", 60)
    assert (await directory.authenticate(token)).account_id == "alice"
    assert (await directory.authenticate(token)).account_id == "alice"  # from the cache
    await remove_tenant(db, "school.org")
    await asyncio.sleep(0.1)
    with pytest.raises(Unauthorized):
        await directory.authenticate(token)


async def test_a_rotated_key_invalidates_cached_tokens(db: Database) -> None:
    await add_tenant(db, SCHOOL)
    directory = TenantDirectory(db, ttl=0.05)
    old = tokens.mint(SCHOOL, "alice", 60)
    await directory.authenticate(old)
    await db.execute("UPDATE tenants SET key = 'a-brand-new-secret-0123456789abc!'")
    await asyncio.sleep(0.1)
    with pytest.raises(Unauthorized):
        await directory.authenticate(old)


async def test_an_expired_token_is_refused_even_from_the_cache(db: Database) -> None:
    await add_tenant(db, SCHOOL)
    directory = TenantDirectory(db)
    token = tokens.mint(SCHOOL, "alice", 60)
    principal = await directory.authenticate(token)
    # An entry past its expiry is not served: the token is verified again (and this one, whose
    # signature is cut off, fails).
    forged = token.rsplit(".", 1)[0] + ".x"
    directory._verified[forged] = replace(principal, expires_at=0)
    with pytest.raises(Unauthorized):
        await directory.authenticate(forged)
    directory._verified[forged] = replace(principal, expires_at=float("inf"))
    assert await directory.authenticate(forged) == directory._verified[forged]


async def test_concurrent_callers_share_one_reload(db: Database) -> None:
    await add_tenant(db, SCHOOL)
    directory = TenantDirectory(db)
    calls = 0
    original = directory.reload

    async def counting() -> None:
        nonlocal calls
        calls += 1
        await original()

    directory.reload = counting  # type: ignore[method-assign]
    token = tokens.mint(SCHOOL, "service", 60)
    await asyncio.gather(*[directory.authenticate(token) for _ in range(20)])
    assert calls == 1
