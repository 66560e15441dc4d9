"""Class properties and account properties: read one, merge one atomically."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OTHER, auth


async def make(client: AsyncTestClient, kind: str = "minigroups") -> str:
    body: dict[str, Any] = {"scope": f"p-{uuid.uuid4().hex[:6]}", "audience": "example.org"}
    body.update({"host": "t"} if kind == "minigroups" else {"title": "T"})
    r = await client.post(f"/api/v1/{kind}", json=body)
    return f"/api/v1/{kind}/{r.json()['class_id']}/properties"


@pytest.mark.parametrize("kind", ["minigroups", "webinars"])
@pytest.mark.parametrize("value", [{"a": [1, 2]}, "text", 42, True, None, [1, "x"]])
async def test_any_json_value_round_trips(client: AsyncTestClient, kind: str, value: Any) -> None:
    base = await make(client, kind)
    r = await client.put(  # json=None would send no body at all: send `null` itself
        f"{base}/p1", content=json.dumps(value), headers={"content-type": "application/json"}
    )
    assert r.status_code == 200 and r.json() == {"p1": value}
    r = await client.get(f"{base}/p1")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == value


async def test_put_answers_the_whole_map_and_get_404s(client: AsyncTestClient) -> None:
    base = await make(client)
    await client.put(f"{base}/a", json=1)
    r = await client.put(f"{base}/b", json={"x": 2})
    assert r.json() == {"a": 1, "b": {"x": 2}}
    r = await client.get(f"{base}/missing")
    assert r.status_code == 404 and r.json()["type"] == "/problems/class_property_not_found"
    r = await client.get(f"/api/v1/minigroups/{uuid.uuid4()}/properties/a")
    assert r.json()["type"] == "/problems/minigroup_not_found"


async def test_200_concurrent_puts_of_distinct_ids_all_survive(client: AsyncTestClient) -> None:
    base = await make(client)
    answers = await asyncio.gather(*[client.put(f"{base}/k{i}", json=i) for i in range(200)])
    assert {r.status_code for r in answers} == {200}
    # The last answer to be written holds all 200 (each PUT answers the map as it stood).
    final = await client.put(f"{base}/done", json=True)
    assert {f"k{i}" for i in range(200)} <= set(final.json())
    assert all(final.json()[f"k{i}"] == i for i in range(200))


async def test_who_may(client: AsyncTestClient) -> None:
    base = await make(client)
    await client.put(f"{base}/a", json=1)
    student = auth(sub="student")
    assert (await client.get(f"{base}/a", headers=student)).json() == 1
    assert (await client.put(f"{base}/a", json=2, headers=student)).status_code == 403
    assert (await client.get(f"{base}/a", headers=auth(OTHER))).status_code == 404
    assert (await client.put(f"{base}/a", json=2, headers=auth(OTHER))).status_code == 404


async def test_unstorable_property_values(client: AsyncTestClient) -> None:
    base = await make(client)
    r = await client.put(f"{base}/a", json={"x": "nul\u0000"})
    assert r.status_code == 422
    r = await client.put(f"{base}/a")  # no body at all
    assert r.status_code in (400, 422)


A = "/api/v1/account/properties"


async def test_account_properties_are_the_callers_own(client: AsyncTestClient) -> None:
    alice, bob = auth(sub="alice"), auth(sub="bob")
    assert (await client.put(f"{A}/lang", json="en", headers=alice)).json() == {"lang": "en"}
    r = await client.put(f"{A}/seen", json=[1], headers=alice)
    assert r.json() == {"lang": "en", "seen": [1]}
    assert (await client.get(f"{A}/lang", headers=alice)).json() == "en"
    r = await client.get(f"{A}/lang", headers=bob)
    assert r.status_code == 404 and r.json()["type"] == "/problems/account_property_not_found"
    # The same account id in another audience is another account.
    r = await client.get(f"{A}/lang", headers=auth(OTHER, sub="alice"))
    assert r.status_code == 404
    # And they show in class reads when asked for.
    base = await make(client)
    class_path = base.removesuffix("/properties")
    read = await client.get(f"{class_path}?account_keys[]=lang", headers=alice)
    assert read.json()["account_properties"] == {"lang": "en"}


async def test_concurrent_account_property_writes_all_survive(client: AsyncTestClient) -> None:
    alice = auth(sub="alice")
    await asyncio.gather(*[client.put(f"{A}/k{i}", json=i, headers=alice) for i in range(100)])
    final = (await client.put(f"{A}/done", json=1, headers=alice)).json()
    assert all(final[f"k{i}"] == i for i in range(100))


async def test_account_property_without_a_token(client: AsyncTestClient) -> None:
    del client.headers["Authorization"]
    assert (await client.get(f"{A}/x")).status_code == 401
