"""The OpenAPI document is valid OpenAPI 3.1 (openapi-spec-validator), says which routes take
no token (SDKs generated from it must not send a bearer token where none exists), documents each
error as the problem+json it is, and types every body (what schemathesis and a generated client
check against a real server: tests/test_fuzz_api.py, tests/test_generated_client.py)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
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


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


async def test_every_error_is_a_documented_problem(client: AsyncTestClient) -> None:
    """No framework 400 shape; each route's errors are problem+json; the routes that take a
    token say 401 and 403, those that name something in their path 404."""
    doc = (await client.get("/openapi.json")).json()
    assert "Problem" in doc["components"]["schemas"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            errors = {s: r for s, r in op["responses"].items() if s.startswith(("4", "5"))}
            for status, response in errors.items():
                if "content" in response or status != "416":  # (a range beyond the end: empty)
                    assert list(response["content"]) == ["application/problem+json"], (path, status)
                assert "status_code" not in json.dumps(response), (path, status)
            if op.get("security") not in ([], [{}]):
                assert {"401", "403"} <= set(errors), (method, path)
            if "{" in path:
                assert "404" in errors, (method, path)
            for status, response in op["responses"].items():
                if status.startswith("2") and status != "204":
                    assert all(media["schema"] != {} for media in response["content"].values()), (
                        path, status)  # fmt: skip


async def test_times_are_two_and_property_values_any_json(client: AsyncTestClient) -> None:
    """`time: []` is refused by the schema as by Podium; a property's value may be any JSON."""
    doc = (await client.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    for name in ("WebinarCreate", "MinigroupCreate", "ClassUpdate", "RoomUpdate"):
        time_schema = schemas[name]["properties"]["time"]
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate([], time_schema)
        jsonschema.validate([1, None], time_schema)
    read = doc["paths"]["/api/v1/minigroups/{class_id}/properties/{property_id}"]["get"]
    value = _resolve(doc, read["responses"]["200"]["content"]["application/json"]["schema"])
    for anything in ([1, "a"], 2.5, {"x": None}, "text", True):
        jsonschema.validate(anything, value)
