"""The isolation matrix, generated from the app's route table (a new route is covered by
itself): every route by every kind of caller that must not get at a class → the documented
401/403/404/412, and nothing of the class (its title, tags, ids of what it holds) in any answer.
The live socket is covered on a real server in test_isolation_socket below."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from litestar.routes import HTTPRoute, WebSocketRoute
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from podium.app import create_app
from podium.auth import tokens
from podium.auth.models import Tenant
from podium.config import Settings
from podium.embedded import free_port
from tests.conftest import OTHER, TENANT, start_server, stop_server, tenant, token_for

MARK = "ISOLATION-MARK-7f3c"  # in the target classes' titles and tags: must never leak
OPEN = {"/api/v1/join", "/v1/auth/token", "/api/v1/sip/verify", "/healthz", "/readyz",
        "/openapi.json",
        # the join page: its entry token is the credential (tests/web), and its static files
        "/join/{entry_token}", "/static/{file_path}",
        # its signature is the credential (tests/recordings: forged and expired links refused)
        "/api/v1/streams/{expires}/{signature}/{prefix}/{name}",
        # its own token or loopback only (tests/test_metrics.py)
        "/metrics"}  # fmt: skip
# What an end user of the audience, with no role anywhere, may do to a class (docs/api.md).
ANY_TOKEN = {
    ("POST", "/api/v1/{kind}/{class_id}/timestamps"),
    ("PUT", "/api/v1/account/properties/{property_id}"),
    ("POST", "/api/v1/classes/{class_id}/media"), ("POST", "/api/v1/event_rooms/{room_id}/events"),
    ("POST", "/api/v1/event_rooms/{room_id}/enter"),
    ("POST", "/api/v1/classrooms/{class_id}/tokens"),
    ("POST", "/v1/sessions"),  # refused, but as 403 only after the body is read as spec 004's
}  # fmt: skip
# Where the lobby holds its guest back (412).
HELD = {
    ("GET", "/api/v1/event_rooms/{room_id}/events"), ("GET", "/api/v1/event_rooms/{room_id}/state"),
    ("POST", "/api/v1/event_rooms/{room_id}/events"), ("POST", "/api/v1/classes/{class_id}/media"),
    ("GET", "/api/v1/classes/{class_id}/participants"),
    ("POST", "/api/v1/event_rooms/{room_id}/enter"),
}  # fmt: skip


def _bad_tokens() -> dict[str, str | None]:
    t = tenant(TENANT)
    now = int(time.time())
    claims = {"iss": t.issuer, "aud": t.audience, "sub": "service", "iat": now, "exp": now + 600}
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return {
        "no token": None,
        "expired": tokens.mint(t, "service", -3600),
        "wrong audience": tokens.mint(
            Tenant("nowhere.org", "HS256", t.key, "nowhere.org", "service"), "service", 600
        ),
        "wrong key": jwt.encode(claims, "not-the-tenants-key-0123456789abc", algorithm="HS256"),
        "alg none": f"{header}.{body}.",
    }


class World:
    """Tenant example.org's target classes (what nobody below may get at), and the callers."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.callers: dict[str, str | None] = _bad_tokens()

    async def build(self, client: AsyncTestClient) -> None:
        async def ok(r: Any) -> dict[str, Any]:
            assert r.status_code in (200, 201), r.text
            return dict(r.json())

        tags = {"t": MARK}
        web = await ok(
            await client.post(
                "/api/v1/webinars",
                json={
                    "title": f"W {MARK}",
                    "scope": "target-w",
                    "audience": "example.org",
                    "tags": tags,
                },
            )
        )
        mini = await ok(await client.post("/api/v1/minigroups", json={
            "title": f"M {MARK}", "scope": "target-m", "audience": "example.org", "host": "h",
            "tags": tags}))  # fmt: skip
        pair = await ok(
            await client.post(
                "/api/v1/p2p",
                json={
                    "title": f"P {MARK}",
                    "scope": "target-p",
                    "audience": "example.org",
                    "tags": tags,
                },
            )
        )
        chat = await ok(
            await client.post(
                "/api/v1/chats",
                json={
                    "title": f"C {MARK}",
                    "scope": "target-c",
                    "audience": "example.org",
                    "tags": tags,
                },
            )
        )
        guest = await ok(
            await client.post(
                f"/api/v1/classes/{mini['class_id']}/participants",
                json={"display_name": f"G {MARK}", "role": "guest"},
            )
        )
        await ok(await client.put(f"/api/v1/minigroups/{mini['class_id']}/lobby",
                                  json={"state": 1, "message": MARK}))  # fmt: skip
        start = datetime.now(UTC) + timedelta(hours=1)
        session = await ok(await client.post("/v1/sessions", json={
            "session_name": f"S {MARK}", "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_time": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "participants": [{"display_name": f"P {MARK}"}]}))  # fmt: skip
        elsewhere = await ok(
            await client.post(
                "/api/v1/webinars",
                json={"title": "elsewhere", "scope": "elsewhere", "audience": "example.org"},
            )
        )
        moderator = await ok(await client.post(
            f"/api/v1/classes/{elsewhere['class_id']}/participants",
            json={"display_name": "mod", "role": "moderator"}))  # fmt: skip
        self.ids = {
            "webinars": web["class_id"], "minigroups": mini["class_id"],
            "p2p": pair["class_id"], "chats": chat["class_id"],
            "classes": mini["class_id"], "room_id": mini["real_time"]["event_room_id"],
            "web_room": web["real_time"]["event_room_id"],
            "participant_id": guest["participant_id"], "session_id": session["session_id"],
            "session_participant": session["participants"][0]["participant_id"],
        }  # fmt: skip

        async def enter(person: dict[str, Any]) -> str:
            r = await client.post(
                "/api/v1/join",
                headers={"Authorization": ""},
                json={"entry_token": person["entry_url"].rsplit("/", 1)[1]},
            )
            return str((await ok(r))["access_token"])

        self.callers |= {
            "another tenant's service": token_for(OTHER),
            "another tenant's end user": token_for(OTHER, sub="stranger"),
            "an end user without a role": token_for(TENANT, sub="nobody"),
            "a participant of another class": await enter(moderator),
            "a guest held in the lobby": await enter(guest),
        }

    def secrets(self) -> list[str]:
        """What no refused caller may see: the mark, and ids of what the classes hold."""
        return [MARK, self.ids["web_room"], self.ids["session_participant"]]


def _routes() -> list[tuple[str, str]]:
    app = create_app(Settings(_env_file=None), "postgresql://unused/")
    found = []
    for route in app.routes:
        if isinstance(route, WebSocketRoute) or not isinstance(route, HTTPRoute):
            continue
        path = re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", route.path)
        if path in OPEN or path.startswith("/docs"):
            continue
        found += [(m, path) for m in sorted(route.methods - {"HEAD", "OPTIONS"})]
    return found


ROUTES = _routes()


def _fill(path: str, ids: dict[str, str]) -> str:
    kind = next((k for k in ("webinars", "p2p", "chats") if f"/{k}/" in path), "minigroups")
    v1 = path.startswith("/v1/")
    values = {
        "class_id": ids[kind if kind in path else "classes"],
        "room_id": ids["room_id"], "audience": "example.org",
        "class_scope": {"webinars": "target-w", "p2p": "target-p", "chats": "target-c"}.get(
            kind, "target-m"),
        "participant_id": ids["session_participant"] if v1 else ids["participant_id"],
        "session_id": ids["session_id"], "property_id": "p", "account_id": "someone",
        "production_id": ids["production_id"], "edition_id": ids["edition_id"],
        "change_id": ids["change_id"], "kind": "minigroup",
    }  # fmt: skip
    filled = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
    return filled + "?sets=a" if filled.endswith("/state") else filled


def _body(method: str, path: str, ids: dict[str, str]) -> Any:
    """A body that passes validation, so the answer is about who asks, not what they send."""
    if method in ("GET", "DELETE"):
        return None
    start = datetime.now(UTC) + timedelta(hours=2)
    table: list[tuple[str, Any]] = [
        (r"^/api/v1/webinars$", {"title": "t", "scope": "iso-w", "audience": "example.org"}),
        (r"^/api/v1/minigroups$", {"scope": "iso-m", "audience": "example.org", "host": "h"}),
        (r"^/api/v1/(p2p|chats)$", {"scope": "iso-pc", "audience": "example.org"}),
        (r"/ban$", {"ban": True, "class_id": ids["minigroups"], "last_seen_op_id": 0}),
        (r"/events$", {"type": "hand", "data": {"up": True}}),
        (r"/properties/", {"v": 1}),
        (r"/recreate$|/whiteboard$|/media$", {}),
        (r"/timestamps$", {"position": 5}),
        (r"/agents$", {"account_id": "x", "value": True}),
        (r"/locked_types$", {"locked_types": {"hand": True}}),
        (r"/whiteboard_access$", {"whiteboard_access": {"someone": True}}),
        (r"/enter$", {"agent_label": "web"}),
        (r"/replicas$", {"scope": "iso-r", "audience": "example.org"}),
        (r"/lobby$", {"state": 1}),
        (r"/lobby/admit$", {"all": True}),
        (r"/lobby/deny$", {"participant_ids": [ids["participant_id"]]}),
        (r"/lobby/message$", {"message": "m"}),
        (r"/presenter$", {"account_id": "someone"}),
        (r"/sip$", {"state": 2}),
        (r"/restart$|/commit$|/editions$|/editions/\{edition_id\}$", {}),
        (r"/changes$", {"type": "removal", "event_id": ids["participant_id"]}),
        (
            r"^/v1/sessions$",
            {
                "session_name": "n",
                "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end_time": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        ),
        (r"^/v1/sessions/\{session_id\}$", {"session_name": "renamed"}),
        (r"participants", {"display_name": "someone"}),
        (r"^/api/v1/(event_)?rooms/\{room_id\}$", {"tags": {"a": 1}}),
    ]
    for pattern, body in table:
        if re.search(pattern, path):
            return body
    return {"title": "changed", "tags": {"changed": True}}


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[tuple[AsyncTestClient, World]]:
    settings = Settings(
        _env_file=None,
        tenants=[TENANT, OTHER],  # type: ignore[call-arg]
        sip_dialin_number="+1 555",
        sip_secret="sip-secret-0123456789abc",
    )
    async with AsyncTestClient(create_app(settings, database_url)) as client:
        w = World()
        client.headers["Authorization"] = f"Bearer {token_for()}"
        await w.build(client)
        w.ids |= await recorded(database_url, w.ids["minigroups"])
        yield client, w


async def recorded(database_url: str, class_id: str) -> dict[str, str]:
    """The minigroup's run as if recorded, with an edition of its room and a change in it."""
    ids = {name: str(uuid.uuid4()) for name in ("production_id", "edition_id", "change_id")}
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("""
            INSERT INTO productions (id, class_id, event_room_id, conference_room_id, step,
                                     original_room_id, modified_room_id, collected_at, adjusted_at)
            SELECT $1::uuid, id, event_room_id, conference_room_id, 'done', event_room_id,
                   event_room_id, now(), now()
            FROM classes WHERE id = $2::uuid""", ids["production_id"], class_id)  # fmt: skip
        await conn.execute("""
            INSERT INTO editions (id, source_room_id, created_by)
            SELECT $1::uuid, event_room_id, 'service' FROM classes WHERE id = $2::uuid""",
            ids["edition_id"], class_id)  # fmt: skip
        await conn.execute(
            "INSERT INTO edition_changes (id, edition_id, kind, event_id, created_by)"
            " VALUES ($1::uuid, $2::uuid, 'removal', gen_random_uuid(), 'service')",
            ids["change_id"], ids["edition_id"])  # fmt: skip
    finally:
        await conn.close()
    return ids


# Path parameters that name something of a class.
CLASS_PARAMS = (
    "{class_id}",
    "{room_id}",
    "{participant_id}",
    "{session_id}",
    "{class_scope}",
    "{production_id}",
    "{edition_id}",
    "{change_id}",
)


def _expected(caller: str, method: str, path: str) -> set[int]:
    """The documented answers (docs/api.md, "Authentication" and "Which token each route
    needs"); a route that names no class may answer a foreign caller about its own things."""
    names_a_class = any(p in path for p in CLASS_PARAMS)
    own_things = {200, 201, 403, 404}
    if caller in _bad_tokens():
        return {401}
    if caller.startswith("another tenant"):
        return {403, 404} if names_a_class else own_things
    guest_elsewhere = caller == "a guest held in the lobby" and any(
        f"/{k}/" in path for k in ("webinars", "p2p", "chats")
    )
    if caller == "a participant of another class" or guest_elsewhere:
        return {403, 404} if names_a_class else own_things
    # `/rooms/:id/…` is the same route as `/event_rooms/:id/…` (the original client's prefix).
    path = path.replace("/api/v1/rooms/", "/api/v1/event_rooms/")
    generic = re.sub(r"/(webinars|minigroups|p2p|chats)/", "/{kind}/", path)
    if caller == "a guest held in the lobby":
        if (method, path) in HELD:
            return {412}
        return {200, 201, 403, 404, 409} if method == "GET" or (method, generic) in ANY_TOKEN \
            else {403}  # fmt: skip
    # an end user of the audience without a role: reads, and the "any token" routes
    if method == "GET" or (method, generic) in ANY_TOKEN:
        return {200, 201, 403, 404, 409}
    return {403}


async def test_the_matrix(world: tuple[AsyncTestClient, World]) -> None:
    client, w = world
    assert len(ROUTES) >= 60  # the table is the app's own
    wrong: list[str] = []
    before = (await client.get(f"/api/v1/minigroups/{w.ids['minigroups']}")).json()
    for caller, token in w.callers.items():
        for method, path in ROUTES:
            url = _fill(path, w.ids)
            headers = {"Authorization": f"Bearer {token}" if token else ""}
            r = await client.request(method, url, json=_body(method, path, w.ids),
                                     headers=headers)  # fmt: skip
            if r.status_code not in _expected(caller, method, path):
                wrong.append(f"{caller}: {method} {path} → {r.status_code} {r.text[:120]}")
                continue
            may_see = caller in ("an end user without a role", "a guest held in the lobby")
            leaked = [s for s in w.secrets() if s in r.text and s not in url]
            if leaked and (r.status_code >= 400 or not may_see):
                wrong.append(f"{caller}: {method} {path} leaks {leaked}")
    assert not wrong, "\n".join(wrong)
    after = (await client.get(f"/api/v1/minigroups/{w.ids['minigroups']}")).json()
    assert after == before  # and nobody changed the target


async def test_the_live_socket(database_url: str) -> None:
    """The same callers on a real server's live socket: invalid tokens 4401, others' rooms 4404,
    the guest held in the lobby hears the lobby's events and no chat."""
    port = free_port()
    both = json.dumps([{"audience": c.audience, "key": c.key} for c in (TENANT, OTHER)])
    proc = start_server(database_url, port, {"PODIUM_TENANTS": both})
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(
            base_url=base, timeout=10, headers={"Authorization": f"Bearer {token_for()}"}
        ) as http:
            w = World()
            await w.build(_Adapter(http))  # type: ignore[arg-type]
            room = w.ids["room_id"]
            closes: dict[str, int | None] = {}
            for caller, token in w.callers.items():
                url = f"ws://127.0.0.1:{port}/api/v1/event_rooms/{room}/live"
                if token:
                    url += f"?access_token={token}"
                try:
                    async with connect(url) as ws:
                        if caller != "a guest held in the lobby":
                            await asyncio.wait_for(ws.recv(), 2)
                        closes[caller] = None
                except ConnectionClosed as exc:
                    closes[caller] = exc.rcvd.code if exc.rcvd else None
                except TimeoutError:
                    closes[caller] = None  # open and quiet: let in
            guest = w.callers["a guest held in the lobby"]
            async with connect(f"ws://127.0.0.1:{port}/api/v1/event_rooms/{room}/live"
                               f"?access_token={guest}") as held:  # fmt: skip
                await asyncio.sleep(0.3)
                await http.post(f"/api/v1/event_rooms/{room}/events",
                                json={"type": "hand", "data": {"chat": MARK}})  # fmt: skip
                await http.put(f"/api/v1/classes/{w.ids['classes']}/lobby/message",
                               json={"message": "wait"})  # fmt: skip
                frame = json.loads(await asyncio.wait_for(held.recv(), 5))
        for caller in _bad_tokens():
            assert closes[caller] == 4401, (caller, closes[caller])
        for caller in ("another tenant's service", "another tenant's end user",
                       "a participant of another class"):  # fmt: skip
            assert closes[caller] == 4404, (caller, closes[caller])
        assert closes["a guest held in the lobby"] is None
        assert frame["event"]["type"] == "lobby.message"  # the chat never reached the guest
        assert MARK not in json.dumps(frame)
    finally:
        stop_server(proc)


class _Adapter:
    """World.build's calls on a real server (httpx has the same request methods)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(self, url: str, **kw: Any) -> httpx.Response:
        return await self.http.post(url, **kw)

    async def put(self, url: str, **kw: Any) -> httpx.Response:
        return await self.http.put(url, **kw)
