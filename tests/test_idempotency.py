"""Idempotency-Key on class creation."""

from __future__ import annotations

import asyncio

from litestar.testing import AsyncTestClient

PATH = "/api/v1/webinars"
BODY = {"title": "T", "scope": "idem-1", "audience": "example.org", "tags": {"x": 1}}


async def test_a_retry_with_the_same_key_answers_the_first_response(
    client: AsyncTestClient,
) -> None:
    first = await client.post(PATH, json=BODY, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = await client.post(PATH, json=BODY, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    # Without the key, the same scope is a conflict.
    assert (await client.post(PATH, json=BODY)).status_code == 409


async def test_a_key_reused_with_another_body_is_refused(client: AsyncTestClient) -> None:
    await client.post(PATH, json=BODY, headers={"Idempotency-Key": "k-2"})
    r = await client.post(
        PATH, json={**BODY, "scope": "idem-2"}, headers={"Idempotency-Key": "k-2"}
    )
    assert r.status_code == 422 and r.json()["type"] == "/problems/idempotency_key_reused"
    assert (await client.get("/api/v1/audiences/example.org/webinars/idem-2")).status_code == 404


async def test_concurrent_retries_create_one_class(client: AsyncTestClient) -> None:
    answers = await asyncio.gather(
        *[client.post(PATH, json=BODY, headers={"Idempotency-Key": "k-3"}) for _ in range(8)]
    )
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["class_id"] for r in answers}) == 1


async def test_a_failed_create_does_not_burn_the_key(client: AsyncTestClient) -> None:
    await client.post(PATH, json=BODY)
    r = await client.post(PATH, json=BODY, headers={"Idempotency-Key": "k-4"})
    assert r.status_code == 409
    r = await client.post(PATH, json=BODY, headers={"Idempotency-Key": "k-4"})
    assert r.status_code == 409  # evaluated again, not replayed


async def test_keys_are_per_audience(client: AsyncTestClient) -> None:
    from tests.conftest import OTHER, auth

    a = await client.post(PATH, json=BODY, headers={"Idempotency-Key": "shared"})
    b = await client.post(
        PATH,
        json={**BODY, "audience": "other.org"},
        headers={"Idempotency-Key": "shared", **auth(OTHER)},
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["class_id"] != b.json()["class_id"]
