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
