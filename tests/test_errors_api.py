"""Errors are problem+json everywhere, including the framework's own; health and docs."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

PROBLEM = "application/problem+json"


def is_problem(r: object, status: int) -> None:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status


async def test_unknown_route_is_404_problem(client: AsyncTestClient) -> None:
    is_problem(await client.get("/nothing/here"), 404)


async def test_wrong_method_is_405_problem(client: AsyncTestClient) -> None:
    is_problem(await client.delete("/api/v1/webinars"), 405)
    is_problem(await client.delete("/api/v1/webinars/abc"), 405)


async def test_malformed_json_is_400_problem(client: AsyncTestClient) -> None:
    r = await client.post(
        "/api/v1/webinars", content=b'{"title": ', headers={"content-type": "application/json"}
    )
    is_problem(r, 400)
    assert r.json()["type"] == "/problems/malformed_json"


async def test_body_too_large_is_413_problem(client: AsyncTestClient) -> None:
    big = b'{"title": "' + b"x" * 2_000_000 + b'"}'
    r = await client.post(
        "/api/v1/webinars", content=big, headers={"content-type": "application/json"}
    )
    is_problem(r, 413)


async def test_a_bad_idempotency_key_is_422(client: AsyncTestClient) -> None:
    r = await client.post(
        "/api/v1/webinars",
        json={"title": "t", "scope": "s", "audience": "example.org"},
        headers={"Idempotency-Key": "k" * 300},
    )
    is_problem(r, 422)
    assert r.json()["field"] == "Idempotency-Key"


async def test_health_and_readiness(client: AsyncTestClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_openapi_and_docs(client: AsyncTestClient) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/webinars" in doc["paths"]
    assert set(doc["paths"]["/api/v1/webinars/{class_id}"]) >= {"get", "put", "patch"}
    assert "requestBody" in doc["paths"]["/api/v1/webinars"]["post"]
    assert (await client.get("/docs")).status_code == 200
