"""Each way a caller can fail to authenticate or be authorised, through HTTP."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import ES_TENANT, OTHER, TENANT, auth, token_for

PATH = "/api/v1/webinars"


def body(audience: str = "example.org", scope: str = "a1") -> dict[str, str]:
    return {"title": "T", "scope": scope, "audience": audience}


async def make(client: AsyncTestClient) -> str:
    r = await client.post(PATH, json=body())
    assert r.status_code == 201
    return str(r.json()["class_id"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**over: object) -> dict[str, object]:
    now = int(time.time())
    return {"iss": "example.org", "aud": "example.org", "sub": "service", "exp": now + 60, **over}


BAD_TOKENS = {
    "expired": jwt.encode(_claims(exp=int(time.time()) - 600), TENANT.key, algorithm="HS256"),
    "unknown audience": jwt.encode(
        _claims(aud="nobody.org", iss="nobody.org"), TENANT.key, algorithm="HS256"
    ),
    "wrong key": jwt.encode(_claims(), "a-different-secret-of-32-bytes!!", algorithm="HS256"),
    "another tenant's key": jwt.encode(_claims(), OTHER.key, algorithm="HS256"),
    "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
    "no exp": jwt.encode(
        {k: v for k, v in _claims().items() if k != "exp"}, TENANT.key, algorithm="HS256"
    ),
    "garbage": "not.a.token",
}


@pytest.mark.parametrize("name", list(BAD_TOKENS))
async def test_bad_tokens_are_401(client: AsyncTestClient, name: str) -> None:
    class_id = await make(client)
    for method, path, payload in (
        ("GET", f"{PATH}/{class_id}", None),
        ("POST", PATH, body(scope="z")),
        ("PUT", f"{PATH}/{class_id}", {"reserve": 1}),
    ):
        r = await client.request(method, path, json=payload, headers=bearer(BAD_TOKENS[name]))
        assert r.status_code == 401, (name, method, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"].startswith("Bearer")


async def test_no_token_and_a_malformed_header_are_401(client: AsyncTestClient) -> None:
    class_id = await make(client)
    del client.headers["Authorization"]
    r = await client.get(f"{PATH}/{class_id}")
    assert r.status_code == 401 and r.json()["type"] == "/problems/missing_token"
    r = await client.get(f"{PATH}/{class_id}", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


async def test_access_token_query_parameter(client: AsyncTestClient) -> None:
    class_id = await make(client)
    del client.headers["Authorization"]
    r = await client.get(f"{PATH}/{class_id}", params={"access_token": token_for()})
    assert r.status_code == 200


async def test_another_tenants_class_is_404(client: AsyncTestClient) -> None:
    class_id = await make(client)
    other = auth(OTHER)
    assert (await client.get(f"{PATH}/{class_id}", headers=other)).status_code == 404
    r = await client.put(f"{PATH}/{class_id}", json={"reserve": 1}, headers=other)
    assert r.status_code == 404
    r = await client.get("/api/v1/audiences/example.org/webinars/a1", headers=other)
    assert r.status_code == 404
    r = await client.put(
        "/api/v1/audiences/example.org/webinars/a1", json={"reserve": 1}, headers=other
    )
    assert r.status_code == 404
    # And it is unchanged.
    assert (await client.get(f"{PATH}/{class_id}")).json()["reserve"] is None


async def test_creating_in_another_audience_is_403(client: AsyncTestClient) -> None:
    r = await client.post(PATH, json=body(audience="other.org"))
    assert r.status_code == 403 and r.json()["field"] == "audience"


async def test_an_end_user_may_read_but_not_manage(client: AsyncTestClient) -> None:
    class_id = await make(client)
    user = auth(sub="student-1")
    assert (await client.get(f"{PATH}/{class_id}", headers=user)).status_code == 200
    r = await client.post(PATH, json=body(scope="b"), headers=user)
    assert r.status_code == 403 and r.json()["type"] == "/problems/not_allowed"
    for method in ("PUT", "PATCH"):
        r = await client.request(method, f"{PATH}/{class_id}", json={"reserve": 1}, headers=user)
        assert r.status_code == 403


async def test_es256_tenant(client: AsyncTestClient) -> None:
    r = await client.post(PATH, json=body(audience="es.example"), headers=auth(ES_TENANT))
    assert r.status_code == 201
