"""Inputs PostgreSQL cannot store, and other hostile values, are clear 4xx problems, never 500."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

BASE = {"title": "T", "scope": "h1", "audience": "example.org"}


@pytest.mark.parametrize(
    "body",
    [
        {**BASE, "title": "nul \u0000 inside"},
        {**BASE, "scope": "nul\u0000"},
        {**BASE, "tags": {"k": "nul \u0000"}},
        {**BASE, "tags": {"nul\u0000key": 1}},
        {**BASE, "properties": {"a": ["\u0000"]}},
        {**BASE, "host": "\u0000"},
    ],
)
async def test_unstorable_strings_are_422(client: AsyncTestClient, body: dict[str, Any]) -> None:
    r = await client.post("/api/v1/webinars", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/problems/invalid_characters"
    assert r.json()["field"] in {"title", "scope", "tags.k", "tags", "properties.a[0]", "host"}


@pytest.mark.parametrize("field", ["title", "scope"])
async def test_lone_surrogates_are_malformed_json(client: AsyncTestClient, field: str) -> None:
    raw = {**BASE, field: "PLACEHOLDER"}
    import json

    body = json.dumps(raw).replace("PLACEHOLDER", "bad \\ud800 one")
    r = await client.post(
        "/api/v1/webinars", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert r.json()["type"] == "/problems/malformed_json"


@pytest.mark.parametrize("depth", [100, 5000, 100_000])
async def test_deeply_nested_tags(client: AsyncTestClient, depth: int) -> None:
    deep = "[" * depth + "1" + "]" * depth
    body = f'{{"title": "T", "scope": "deep", "audience": "example.org", "tags": {{"d": {deep}}}}}'
    r = await client.post(
        "/api/v1/webinars", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert r.status_code in (201, 400, 422), r.text
    assert r.status_code == 201 or r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/audiences/example.org/webinars/nul%00",
        "/api/v1/webinars/00000000-0000-0000-0000-000000000000?class_keys=%00",
        "/api/v1/webinars/00000000-0000-0000-0000-000000000000?account_keys[]=%00",
        "/api/v1/webinars/%00",
    ],
)
async def test_nul_in_paths_and_queries(client: AsyncTestClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code in (404, 422), r.text
    assert r.headers["content-type"] == "application/problem+json"


async def test_nul_in_an_update(client: AsyncTestClient) -> None:
    created = (await client.post("/api/v1/webinars", json=BASE)).json()
    r = await client.put(f"/api/v1/webinars/{created['class_id']}", json={"title": "a\u0000"})
    assert r.status_code == 422
    r = await client.put("/api/v1/audiences/example.org/webinars/h1%00", json={"title": "fine"})
    assert r.status_code in (404, 422)


async def test_values_beyond_what_the_database_holds_are_422_in_our_words(
    client: AsyncTestClient,
) -> None:
    """Ranges are checked before the database: the answer names the field and carries no
    driver or database text."""
    made = (await client.post("/api/v1/webinars", json=BASE)).json()
    room = made["real_time"]["event_room_id"]
    answers = {
        "time[1]": await client.patch(f"/api/v1/event_rooms/{room}", json={"time": [0, 10**15]}),
        "last_seq": await client.get(f"/api/v1/event_rooms/{room}/events?last_seq={10**20}"),
        "occurred_at": await client.get(
            f"/api/v1/event_rooms/{room}/state?sets=a&occurred_at={10**20}"),
        "after": await client.get(f"/api/v1/audiences/example.org/events?after={10**20}"),
    }  # fmt: skip
    for field, r in answers.items():
        assert r.status_code == 422, (field, r.text)
        assert r.json()["field"] == field, r.text
    huge = await client.put(
        f"/api/v1/webinars/{made['class_id']}/properties/n",
        content=b"1" * 200_000,
        headers={"content-type": "application/json"},
    )
    assert huge.status_code in (200, 400, 422), huge.text
    for r in [*answers.values(), huge]:
        for driver_text in ("query argument", "$", "asyncpg", "out of range for type"):
            assert driver_text not in r.json().get("detail", ""), r.text
