"""The Session API (spec 004) at /v1: OAuth2 client credentials, sessions and participants,
every rule as a 400, pagination and filters. `SwaggerClient` is written only from the swagger
(paths, field names, status codes) — what a client of the original would do."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import asyncpg
import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from podium.cli import main


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def soon(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


class SwaggerClient:
    """Uses only what the swagger says: /auth/token (OAuth2 application flow), /sessions,
    /sessions/{session_id}, /sessions/{session_id}/participants, /participants/{participant_id}."""

    def __init__(self, http: AsyncTestClient, client_id: str, secret: str) -> None:
        self.http = http
        self.basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.token = ""
        self.refresh = ""

    async def authenticate(self) -> Any:
        r = await self.http.post("/v1/auth/token", content=b"grant_type=client_credentials",
                                 headers=self._form())  # fmt: skip
        if r.status_code == 200:
            self.token, self.refresh = r.json()["access_token"], r.json().get("refresh_token", "")
        return r

    async def refresh_token(self) -> Any:
        body = f"grant_type=refresh_token&refresh_token={self.refresh}"
        r = await self.http.post("/v1/auth/token", content=body, headers=self._form())
        if r.status_code == 200:
            self.token, self.refresh = r.json()["access_token"], r.json()["refresh_token"]
        return r

    def _form(self) -> dict[str, str]:
        return {"Authorization": self.basic,
                "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip

    def _h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        return await self.http.request(method, "/v1" + path, json=body, headers=self._h(),
                                       params=query)  # fmt: skip


@pytest.fixture
def credentials(database_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A client made the way an operator makes one: `podium client create`."""
    monkeypatch.setenv("PODIUM_DATABASE_URL", database_url)
    made = CliRunner().invoke(main, ["client", "create", "example.org", "--name", "clinic"])
    assert made.exit_code == 0, made.output
    client_id = made.output.split("client_id: ")[1].split()[0]
    return client_id, made.output.split("(store it; shown once): ")[1].strip()


@pytest.fixture
async def api(client: AsyncTestClient, credentials: tuple[str, str]) -> Any:
    c = SwaggerClient(client, *credentials)
    assert (await c.authenticate()).status_code == 200
    return c


async def test_auth(api: SwaggerClient, client: AsyncTestClient) -> None:
    r = await api.authenticate()
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and body["refresh_token"]
    old_refresh = api.refresh
    assert (await api.refresh_token()).status_code == 200
    assert (await api.call("GET", "/sessions")).status_code == 200
    api.refresh = old_refresh  # a refresh token works once
    r = await api.refresh_token()
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    wrong = SwaggerClient(client, "unknown", "secret")
    r = await wrong.authenticate()
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    good_id = base64.b64decode(api.basic.split()[1]).decode().split(":")[0]
    wrong.basic = "Basic " + base64.b64encode(f"{good_id}:bad".encode()).decode()
    assert (await wrong.authenticate()).status_code == 401
    r = await client.post("/v1/auth/token", content=b"grant_type=password", headers=api._form())
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = await client.get("/v1/sessions", headers={"Authorization": "Bearer garbage"})
    assert r.status_code == 401


async def test_a_session_and_its_participants(api: SwaggerClient) -> None:
    start, end = soon(60), soon(120)
    r = await api.call("POST", "/sessions", {
        "session_name": "Check-up", "picture": "https://x/p.png",
        "start_time": rfc3339(start), "end_time": format_datetime(end, usegmt=True),  # RFC 1123
        "feature_flags": ["a"],
        "participants": [
            {"display_name": "Dr Who", "role": "host", "state": "s1"},
            {"display_name": "Pat", "role": "GUEST", "picture": "https://x/pat.png"},
        ],
    })  # fmt: skip
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["session_name"] == "Check-up" and s["team_id"] == "example.org"
    assert s["start_time"] == rfc3339(start) and s["end_time"] == rfc3339(end)
    assert s["feature_flags"] == ["a"] and "canceled_time" not in s and s["client_id"]
    roles = {p["display_name"]: p["role"] for p in s["participants"]}
    assert roles == {"Dr Who": "HOST", "Pat": "GUEST"}
    for p in s["participants"]:
        assert p["session_id"] == s["session_id"] and "/join/" in p["entry_url"]
        assert set(p) <= {"participant_id", "session_id", "client_id", "display_name", "picture",
                          "role", "state", "entry_url", "deleted_at", "coviu_user_id"}  # fmt: skip
    sid = s["session_id"]
    assert (await api.call("GET", f"/sessions/{sid}")).json() == s
    # Update, add, list, change and cancel participants.
    r = await api.call("PUT", f"/sessions/{sid}", {"session_name": "Follow-up",
                                                   "end_time": rfc3339(soon(150))})  # fmt: skip
    assert r.status_code == 200 and r.json()["session_name"] == "Follow-up"
    r = await api.call("POST", f"/sessions/{sid}/participants",
                       {"display_name": "Nurse", "role": "host"})  # fmt: skip
    assert r.status_code == 200 and r.json()["role"] == "HOST"
    nurse = r.json()
    page = (await api.call("GET", f"/sessions/{sid}/participants")).json()
    assert len(page["content"]) == 3 and page["more"] is False
    r = await api.call("PUT", f"/participants/{nurse['participant_id']}",
                       {"state": "busy", "role": "guest"})  # fmt: skip
    assert r.status_code == 200 and r.json()["state"] == "busy" and r.json()["role"] == "GUEST"
    assert (await api.call("GET", f"/participants/{nurse['participant_id']}")).json() == r.json()
    r = await api.call("DELETE", f"/participants/{nurse['participant_id']}")
    assert r.status_code == 200 and r.json() == {"ok": True}
    page = (await api.call("GET", f"/sessions/{sid}/participants")).json()
    assert len(page["content"]) == 2
    page = (await api.call("GET", f"/sessions/{sid}/participants",
                           deleted_participants="true")).json()  # fmt: skip
    gone = [p for p in page["content"] if p["participant_id"] == nurse["participant_id"]]
    assert gone[0]["deleted_at"] and "entry_url" not in gone[0]
    r = await api.call("GET", f"/sessions/{sid}", deleted_participants="perhaps")
    assert r.status_code == 400 and r.json()["field"] == "deleted_participants"
    # Not found.
    assert (await api.call("GET", "/sessions/nope")).status_code == 404
    unknown = "00000000-0000-0000-0000-000000000000"
    assert (await api.call("PUT", f"/sessions/{unknown}", {"session_name": "x"})).status_code == 404
    assert (await api.call("DELETE", f"/sessions/{unknown}")).status_code == 404
    r = await api.call("POST", f"/sessions/{unknown}/participants", {"display_name": "x"})
    assert r.status_code == 404
    assert (await api.call("GET", "/participants/nope")).status_code == 404
    # Cancel: for good.
    r = await api.call("DELETE", f"/sessions/{sid}")
    assert r.status_code == 200 and r.json() == {"ok": True}
    r = await api.call("DELETE", f"/sessions/{sid}")
    assert r.status_code == 400 and r.json()["type"] == "/problems/session_canceled"
    r = await api.call("PUT", f"/sessions/{sid}", {"session_name": "x"})
    assert r.status_code == 400
    # A cancelled session is gone for a read by id (Coviu's SDK suites expect so), as it is from
    # the list, unless asked for.
    r = await api.call("GET", f"/sessions/{sid}")
    assert r.status_code == 404 and r.json()["type"] == "/problems/session_not_found"
    r = await api.call("GET", f"/sessions/{sid}", include_canceled="true")
    assert r.status_code == 200 and r.json()["canceled_time"]
    r = await api.call("GET", f"/sessions/{sid}", include_canceled="maybe")
    assert r.status_code == 400


async def test_rules(api: SwaggerClient, database_url: str) -> None:
    async def refused(method: str, path: str, body: Any, code: str) -> None:
        r = await api.call(method, path, body)
        assert r.status_code == 400, r.text
        assert r.json()["type"] == f"/problems/{code}", r.text
        assert r.headers["content-type"].startswith("application/problem+json")

    def times(start: float, end: float, **extra: Any) -> dict[str, Any]:
        return {"start_time": rfc3339(soon(start)), "end_time": rfc3339(soon(end)), **extra}

    await refused("POST", "/sessions", times(-5, 60), "start_not_in_future")
    await refused("POST", "/sessions", times(60, 30), "end_before_start")
    await refused("POST", "/sessions", {**times(5, 30), "start_time": "tomorrow"}, "invalid_time")
    await refused("POST", "/sessions", {"end_time": rfc3339(soon(30))}, "invalid_body")
    await refused("POST", "/sessions", times(5, 9, participants=[{"role": "king"}]),
                  "invalid_role")  # fmt: skip
    # A session that has started: no cancel, but participants may still be added; finished: no
    # change at all, no participant added or cancelled.
    s = (await api.call("POST", "/sessions",
                        times(1, 60, participants=[{"display_name": "A"}]))).json()  # fmt: skip
    sid, pid = s["session_id"], s["participants"][0]["participant_id"]
    conn = await asyncpg.connect(database_url)
    try:  # time passes: the session started a minute ago
        await conn.execute("UPDATE classes SET starts_at = now() - interval '1 minute' "
                           "WHERE id = $1::uuid", sid)  # fmt: skip
        await refused("DELETE", f"/sessions/{sid}", None, "session_started")
        r = await api.call("POST", f"/sessions/{sid}/participants", {"display_name": "B"})
        assert r.status_code == 200
        await conn.execute("UPDATE classes SET ends_at = now() - interval '1 second' "
                           "WHERE id = $1::uuid", sid)  # fmt: skip
    finally:
        await conn.close()
    await refused("PUT", f"/sessions/{sid}", {"session_name": "late"}, "session_finished")
    await refused("POST", f"/sessions/{sid}/participants", {"display_name": "C"},
                  "session_finished")  # fmt: skip
    await refused("DELETE", f"/participants/{pid}", None, "session_finished")


async def test_list_paging_filters_and_order(api: SwaggerClient) -> None:
    made = []
    for i in range(5):
        s = (await api.call("POST", "/sessions", {
            "session_name": f"s{i}", "start_time": rfc3339(soon(100 - i * 10)),
            "end_time": rfc3339(soon(200)),
            "participants": [{"display_name": "P", "state": "vip" if i == 2 else "normal"}],
        })).json()  # fmt: skip
        made.append(s)
    await api.call("DELETE", f"/sessions/{made[4]['session_id']}")
    page = (await api.call("GET", "/sessions")).json()
    assert [s["session_name"] for s in page["content"]] == ["s0", "s1", "s2", "s3"]  # created
    assert page == {**page, "more": False, "page": 0, "page_size": 200, "page_count": 1}
    page = (await api.call("GET", "/sessions", page_size=2, page=1)).json()
    assert [s["session_name"] for s in page["content"]] == ["s2", "s3"]
    assert page["more"] is False and page["page_count"] == 2
    page = (await api.call("GET", "/sessions", page_size=2)).json()
    assert page["more"] is True
    page = (await api.call("GET", "/sessions", page_size=2, page=9)).json()
    assert page["content"] == [] and page["page_count"] == 2 and page["more"] is False
    page = (await api.call("GET", "/sessions", order="reverse")).json()
    assert [s["session_name"] for s in page["content"]] == ["s3", "s2", "s1", "s0"]
    page = (await api.call("GET", "/sessions", include_canceled="true")).json()
    assert len(page["content"]) == 5
    # A start window orders by start time (s3 starts first).
    page = (await api.call("GET", "/sessions", start_time=rfc3339(soon(65)),
                           end_time=rfc3339(soon(95)))).json()  # fmt: skip
    assert [s["session_name"] for s in page["content"]] == ["s3", "s2", "s1"]
    page = (await api.call("GET", "/sessions", state="vip")).json()
    assert [s["session_name"] for s in page["content"]] == ["s2"]
    for bad in ({"page_size": 201}, {"page_size": 0}, {"page": -1}, {"order": "sideways"},
                {"start_time": "x"}, {"include_canceled": "maybe"},
                {"deleted_participants": "2"}):  # fmt: skip
        r = await api.call("GET", "/sessions", **bad)
        assert r.status_code == 400, bad
        assert r.json()["field"] == next(iter(bad))


async def test_hosts_enter_guests_wait_and_links_only_in_the_window(
    api: SwaggerClient, client: AsyncTestClient, database_url: str
) -> None:
    s = (await api.call("POST", "/sessions", {
        "start_time": rfc3339(soon(1)), "end_time": rfc3339(soon(60)),
        "feature_flags": ["session;enforce-participant-uniqueness"],
        "participants": [{"display_name": "Host", "role": "host"},
                         {"display_name": "Guest", "role": "guest"}],
    })).json()  # fmt: skip
    by_role = {p["role"]: p for p in s["participants"]}

    async def enter(p: dict[str, Any]) -> Any:
        token = p["entry_url"].rsplit("/join/", 1)[1]
        return await client.post("/api/v1/join", json={"entry_token": token})

    r = await enter(by_role["HOST"])
    assert r.status_code == 403 and r.json()["type"] == "/problems/link_not_yet_valid"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE classes SET starts_at = now() - interval '1 second' "
                           "WHERE id = $1::uuid", s["session_id"])  # fmt: skip
    finally:
        await conn.close()
    host = await enter(by_role["HOST"])
    assert host.status_code == 200 and host.json()["lobby"]["blocked"] is False
    guest = await enter(by_role["GUEST"])
    assert guest.json()["lobby"]["blocked"] is True and guest.json()["lobby"]["waiting"] is True
    assert (await enter(by_role["GUEST"])).status_code == 410  # single-use links (feature flag)
    # Someone inside lets the guest in.
    host_token = host.json()["access_token"]
    r = await client.post(f"/api/v1/classes/{s['session_id']}/lobby/admit", json={"all": True},
                          headers={"Authorization": f"Bearer {host_token}"})  # fmt: skip
    assert r.json()["participant_ids"] == [by_role["GUEST"]["participant_id"]]
