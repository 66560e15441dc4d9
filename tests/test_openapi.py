"""The OpenAPI document is valid OpenAPI 3.1 (openapi-spec-validator), and says which routes take
no token: SDKs generated from it must not send a bearer token where none exists."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from openapi_spec_validator import validate

OPEN = {("/healthz", "get"), ("/readyz", "get"), ("/api/v1/join", "post"),
        ("/api/v1/sip/verify", "post"), ("/v1/auth/token", "post")}  # fmt: skip


async def test_the_document_is_valid_openapi_3_1(client: AsyncTestClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


async def test_open_routes_say_they_take_no_token(client: AsyncTestClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    assert doc["security"] == [{"bearer": []}]
    declared_open = {
        (path, method) for path, item in doc["paths"].items() for method, op in item.items()
        if isinstance(op, dict) and op.get("security") == []
    }  # fmt: skip
    assert declared_open == OPEN
