"""One read path: whatever route answers with a class — create, GET (by id, by scope), PUT,
PATCH, recreate, the lobby's and SIP's answers — the same class reads the same, field for
field, for every kind."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.config import Settings
from tests.conftest import OTHER, TENANT, auth


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    """TURN and SIP configured, so that the parts a read adds from settings show (one TURN
    host: a read picks one at random)."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, tenants=[TENANT, OTHER], turn_hosts=["turn.example.org"],
        sip_dialin_number="+49 30 1234567", sip_secret="sip-bridge-secret-0123456789",
    )  # fmt: skip
    async with AsyncTestClient(create_app(settings, database_url)) as c:
        c.headers.update(auth())
        yield c


CREATE = {
    "webinars": {"title": "W", "scope": "read-w", "audience": "example.org", "tags": {"a": 1}},
    "minigroups": {"scope": "read-m", "audience": "example.org", "host": "h", "reserve": 4},
}


def ok(r: Any, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.parametrize("plural", ["webinars", "minigroups"])
async def test_every_route_answers_the_same_class(client: AsyncTestClient, plural: str) -> None:
    created = ok(await client.post(f"/api/v1/{plural}", json=CREATE[plural]), 201)
    path = f"/api/v1/{plural}/{created['class_id']}"
    assert created == ok(await client.get(path))
    now = int(time.time())
    # Everything a class read shows, switched on: time, lobby (timer, message), SIP.
    ok(await client.put(path, json={"time": [now + 3600, now + 7200]}))
    lobby = {"state": 1, "timer": now + 1800, "message": "soon"}
    ok(await client.put(f"{path}/lobby", json=lobby))
    ok(await client.put(f"{path}/sip", json={"state": 2}))
    read = ok(await client.get(path))
    assert read["sip"]["dialin_number"] == "+49 30 1234567" and read["sip"]["dialin_id"]
    assert read["lobby"] == {"state": 1, "timer": now + 1800, "message": "soon"}
    assert read["turn_host"] == "turn.example.org"
    same = {"title": read["title"]} if read["title"] else {"tags": read["tags"]}
    answers = {
        "GET by scope": ok(await client.get(
            f"/api/v1/audiences/example.org/{plural}/{read['scope']}")),
        "PUT": ok(await client.put(path, json=same)),
        "PATCH": ok(await client.patch(path, json=same)),
        "lobby": ok(await client.put(f"{path}/lobby", json=lobby)),
        "SIP": ok(await client.put(f"{path}/sip", json={"state": 2})),
        "lobby via /classes": ok(await client.put(
            f"/api/v1/classes/{created['class_id']}/lobby", json=lobby)),
        "SIP via /classes": ok(await client.put(
            f"/api/v1/classes/{created['class_id']}/sip", json={"state": 2})),
    }  # fmt: skip
    for route, answer in answers.items():
        assert answer == read, route
    recreated = ok(await client.post(f"{path}/recreate", json={"time": [now + 60, now + 120]}))
    assert recreated == ok(await client.get(path))


async def test_a_session_reads_the_same_through_every_class_route(
    client: AsyncTestClient,
) -> None:
    start = datetime.now(UTC) + timedelta(hours=1)
    body = {"session_name": "S", "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_time": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
    session = ok(await client.post("/v1/sessions", json=body))
    path = f"/api/v1/classes/{session['session_id']}"
    sip = ok(await client.put(f"{path}/sip", json={"state": 2}))
    lobby = ok(await client.put(f"{path}/lobby", json={"state": 1}))
    assert sip["kind"] == "session" and sip["lobby"]["state"] == 1  # a session starts held
    assert lobby == sip
    assert ok(await client.put(f"{path}/sip", json={"state": 2})) == lobby
