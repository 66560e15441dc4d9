"""The entry link's page without a browser: what it shows for each state of the link, that
looking spends nothing, its security headers, the static files it loads, and the routes the
page uses that are new with it (ending a class, moderators locking the chat, the socket's ping)."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import re
import time
import tomllib
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import connect

from podium.web.pages import origins, security_headers
from podium.web.routes import STATIC
from tests.conftest import ROOT, auth, served, token_for

TEMPLATES = STATIC.parent / "templates"


async def webinar(client: AsyncTestClient, scope: str, **body: Any) -> dict[str, Any]:
    now = int(time.time())
    r = await client.post("/api/v1/webinars", json={
        "title": "Waves & <sound>", "scope": scope, "audience": "example.org", "host": "teacher",
        "time": [now - 60, now + 3600], **body,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    return dict(r.json())


async def person(client: AsyncTestClient, class_id: str, **body: Any) -> dict[str, Any]:
    body.setdefault("display_name", "Pat")
    r = await client.post(f"/api/v1/classes/{class_id}/participants", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def path_of(entry_url: str) -> str:
    return "/join/" + entry_url.rsplit("/join/", 1)[1]


async def test_the_page_shows_the_class_and_the_person_and_spends_nothing(
    client: AsyncTestClient,
) -> None:
    w = await webinar(client, "page-1")
    p = await person(client, w["class_id"], display_name="Alice", single_use=True)
    for _ in range(2):  # a chat app's link preview, then the person
        r = await client.get(path_of(p["entry_url"]))
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "Waves &amp; &lt;sound&gt;" in html  # escaped
    assert 'value="Alice"' in html and "readonly" in html  # a participant's name is fixed
    assert f'data-class-id="{w["class_id"]}"' in html and 'data-kind="webinar"' in html
    # Looking spent nothing: the single-use link still opens the class, once.
    token = p["entry_url"].rsplit("/join/", 1)[1]
    assert (await client.post("/api/v1/join", json={"entry_token": token})).status_code == 200
    r = await client.get(path_of(p["entry_url"]))
    assert r.status_code == 410 and "This link was already used" in r.text
    # A moderator may change their name.
    m = await person(client, w["class_id"], display_name="Ada", role="moderator")
    html = (await client.get(path_of(m["entry_url"]))).text
    assert not re.search(r'<input id="name"[^>]*readonly', html)


@pytest.mark.parametrize("case", ["invalid", "revoked", "cancelled", "not_yet", "ended"])
async def test_a_link_that_does_not_open_the_class_says_which(
    client: AsyncTestClient, case: str
) -> None:
    now = int(time.time())
    later = {"time": [now + 3600, now + 7200]} if case == "not_yet" else {}
    w = await webinar(client, f"page-{case}", **later)
    p = await person(client, w["class_id"])
    path = path_of(p["entry_url"])
    if case == "invalid":
        path = path[:-3] + "xyz"
    elif case == "revoked":
        await client.put(f"/api/v1/participants/{p['participant_id']}", json={"rotate_link": True})
    elif case == "cancelled":
        await client.delete(f"/api/v1/participants/{p['participant_id']}")
    elif case == "ended":
        assert (await client.post(f"/api/v1/classes/{w['class_id']}/end")).status_code == 200
    status, words = {
        "invalid": (404, "This link does not work"),
        "revoked": (410, "This link was withdrawn"),
        "cancelled": (410, "This link was withdrawn"),
        "not_yet": (403, "The class has not started yet"),
        "ended": (403, "The class has ended"),
    }[case]
    r = await client.get(path)
    assert r.status_code == status and words in r.text
    assert '<section id="prejoin" aria-labelledby="prejoin-heading" hidden>' in r.text


async def test_the_page_is_locked_down(client: AsyncTestClient) -> None:
    w = await webinar(client, "page-headers")
    p = await person(client, w["class_id"])
    r = await client.get(path_of(p["entry_url"]))
    policy = r.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert r.headers["referrer-policy"] == "no-referrer"  # the token in the URL stays here
    assert r.headers["cache-control"] == "no-store"
    # No inline script or style, and every URL relative: the page works under any prefix.
    assert "<script>" not in r.text and "style=" not in r.text
    assert not re.search(r'(src|href)="/', r.text)


def test_janus_servers_are_the_only_other_origins_the_page_may_reach() -> None:
    found = origins(["http://10.0.0.5:8088/janus", "https://j.example.org/janus",
                     "http://10.0.0.5:8088/other", "file:///x"])  # fmt: skip
    assert found == ["http://10.0.0.5:8088", "https://j.example.org"]
    policy = security_headers(found)["Content-Security-Policy"]
    assert "connect-src 'self' http://10.0.0.5:8088 https://j.example.org" in policy


async def test_the_client_modules_are_served_and_complete(client: AsyncTestClient) -> None:
    html = (TEMPLATES / "join.html").read_text()
    entry = re.findall(r'src="\.\./static/([\w.]+)"', html)
    assert entry == ["join.js"]
    seen: set[str] = set()
    queue = list(entry)
    while queue:  # every module the page imports, followed from join.js
        name = queue.pop()
        if name in seen:
            continue
        seen.add(name)
        r = await client.get(f"/static/{name}")
        assert r.status_code == 200, name
        assert "javascript" in r.headers["content-type"]
        queue += re.findall(r'from "\./([\w.]+)"', r.text)
        # Relative URLs only (a path prefix or another host must not break the page).
        assert not re.search(r'[("`]/api/', r.text), name
    assert seen == {p.name for p in STATIC.glob("*.js")}
    r = await client.get("/static/podium.css")
    assert r.status_code == 200 and "text/css" in r.headers["content-type"]
    assert (await client.get("/static/../pages.py")).status_code == 404


def test_the_static_files_and_templates_ship_in_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["podium"]
    package = ROOT / "src" / "podium"
    for path in [*STATIC.iterdir(), *TEMPLATES.iterdir()]:
        rel = str(path.relative_to(package))
        assert any(fnmatch.fnmatch(rel, pattern) for pattern in patterns), rel


async def test_ending_a_class_for_everyone(client: AsyncTestClient) -> None:
    w = await webinar(client, "page-end")
    cid = w["class_id"]
    m = await person(client, cid, role="moderator", display_name="Ada")
    p = await person(client, cid, display_name="Pat")
    tokens = {}
    for who in (m, p):
        token = who["entry_url"].rsplit("/join/", 1)[1]
        tokens[who["role"]] = (await client.post("/api/v1/join", json={"entry_token": token})
                               ).json()["access_token"]  # fmt: skip
    # A participant may not; a moderator may; again changes nothing; another class: 404.
    r = await client.post(
        f"/api/v1/classes/{cid}/end", headers={"Authorization": f"Bearer {tokens['participant']}"}
    )
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/classes/{cid}/end", headers={"Authorization": f"Bearer {tokens['moderator']}"}
    )
    assert r.status_code == 200 and r.json()["time"][1] is not None
    assert (await client.post(f"/api/v1/classes/{cid}/end")).status_code == 200
    room = (await client.get(f"/api/v1/event_rooms/{w['real_time']['event_room_id']}")).json()
    assert room["time"][1] is not None  # the lifecycle closed its room
    other = await webinar(client, "page-end-2")
    r = await client.post(
        f"/api/v1/classes/{other['class_id']}/end",
        headers={"Authorization": f"Bearer {tokens['moderator']}"},
    )
    assert r.status_code == 404
    r = await client.post("/api/v1/classes/00000000-0000-0000-0000-000000000000/end")
    assert r.status_code == 404


async def test_moderators_lock_their_own_class_chat_only(client: AsyncTestClient) -> None:
    w = await webinar(client, "page-lock", locked_chat=False)
    room = w["real_time"]["event_room_id"]
    m = await person(client, w["class_id"], role="moderator", display_name="Ada")
    p = await person(client, w["class_id"], display_name="Pat")
    heads = {}
    for who in (m, p):
        token = who["entry_url"].rsplit("/join/", 1)[1]
        access = (await client.post("/api/v1/join", json={"entry_token": token})).json()
        heads[who["role"]] = {"Authorization": f"Bearer {access['access_token']}"}
    lock = {"locked_types": {"message": True}}
    r = await client.post(f"/api/v1/event_rooms/{room}/locked_types", json=lock,
                          headers=heads["participant"])  # fmt: skip
    assert r.status_code == 403
    r = await client.post(f"/api/v1/event_rooms/{room}/locked_types", json=lock,
                          headers=heads["moderator"])  # fmt: skip
    assert r.status_code == 200 and r.json()["locked_types"]["message"] is True
    post = {"type": "message", "data": {"text": "hi"}}
    r = await client.post(f"/api/v1/event_rooms/{room}/events", json=post,
                          headers=heads["participant"])  # fmt: skip
    assert r.status_code == 403
    other = await webinar(client, "page-lock-2")
    r = await client.post(f"/api/v1/event_rooms/{other['real_time']['event_room_id']}"
                          "/locked_types", json=lock, headers=heads["moderator"])  # fmt: skip
    assert r.status_code == 404


async def test_the_socket_answers_a_ping_even_to_someone_held_back(database_url: str) -> None:
    async with served(database_url) as server:
        w = await webinar(server.http, "page-ping")  # type: ignore[arg-type]
        await server.http.put(f"/api/v1/classes/{w['class_id']}/lobby", json={"state": 1})
        p = await person(server.http, w["class_id"])  # type: ignore[arg-type]
        token = p["entry_url"].rsplit("/join/", 1)[1]
        access = (await server.http.post("/api/v1/join", json={"entry_token": token})).json()
        assert access["lobby"]["blocked"] is True
        room = w["real_time"]["event_room_id"]
        url = f"{server.ws}/api/v1/event_rooms/{room}/live?access_token={access['access_token']}"
        async with connect(url) as ws:
            await ws.send('{"message": "ping"}')
            assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"message": "pong"}


def test_entry_links_name_where_podium_listens() -> None:
    from podium.config import Settings

    bound = Settings(_env_file=None, host="0.0.0.0", port=9000)  # type: ignore[call-arg]  # noqa: S104
    assert bound.base_url == "http://127.0.0.1:9000"
    public = Settings(_env_file=None, public_url="https://class.example.org/podium/")  # type: ignore[call-arg]
    assert public.base_url == "https://class.example.org/podium"
    assert auth()  # the tenant's token is what the tests above call with


async def test_the_demo_class_gives_working_links(database_url: str) -> None:
    from podium.cli.demo import create_demo_class

    async with served(database_url) as server:
        base = f"http://127.0.0.1:{server.port}"
        demo = await asyncio.to_thread(create_demo_class, base, token_for())
        assert list(demo.links) == ["Ada (moderator)", "Ben", "Cleo"]
        for link in demo.links.values():
            assert link.startswith(f"{base}/join/")
            page = await server.http.get(link)
            assert page.status_code == 200 and "Demo class" in page.text
