"""Conference rooms on real Janus servers (Debian package `janus`) started by the tests."""

from __future__ import annotations

import uuid

import pytest

from tests.conference.conftest import (
    QUICK,
    client_for,
    conference_row,
    eventually,
    minigroup,
    needs_janus,
)
from tests.conftest import JanusServer, auth

pytestmark = needs_janus


async def test_with_a_pool_classes_get_a_janus_room(database_url: str, janus: JanusServer) -> None:
    async for client in client_for(database_url, janus):
        r = await client.post("/api/v1/minigroups", json=minigroup("j-1", 4))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["backend"] == "janus"
        room = body["real_time"]["conference_room_id"]
        assert room in janus.rooms()
        row = await conference_row(database_url, room)
        assert row["janus_server"] == "j1" and row["janus_secret"]
        assert row["janus_secret"] not in r.text  # never shown
        # `none` may still be asked for explicitly.
        r = await client.post("/api/v1/minigroups", json=minigroup("j-2", backend="none"))
        assert r.json()["backend"] == "none"


async def test_janus_down_is_503_and_nothing_is_made(database_url: str, janus: JanusServer) -> None:
    janus.stop()
    async for client in client_for(database_url, janus):
        r = await client.post(
            "/api/v1/webinars", json={"title": "T", "scope": "down", "audience": "example.org"}
        )
        assert r.status_code == 503 and r.json()["type"] == "/problems/media_server_unavailable"
        assert (await client.get("/api/v1/audiences/example.org/webinars/down")).status_code == 404
        janus.start()
        r = await client.post(
            "/api/v1/webinars", json={"title": "T", "scope": "down", "audience": "example.org"}
        )
        assert r.status_code == 201  # the scope was left free


async def test_placement_across_two_servers(database_url: str) -> None:
    small, big = JanusServer("a-small", capacity=10), JanusServer("b-big", capacity=30)
    small.start()
    big.start()
    try:
        async for client in client_for(database_url, small, big):
            placed = []
            for i, reserve in enumerate([20, 5, 8]):
                r = await client.post("/api/v1/minigroups", json=minigroup(f"p{i}", reserve))
                assert r.status_code == 201, r.text
                room = r.json()["real_time"]["conference_room_id"]
                placed.append("big" if room in big.rooms() else "small")
            # 20 fits only on big; 5 fits both, big is fuller; 8 fits only small (big has 5).
            assert placed == ["big", "big", "small"]
            r = await client.post("/api/v1/minigroups", json=minigroup("p-full", 9))
            assert r.status_code == 503 and r.json()["type"] == "/problems/capacity_exceeded"
            assert r.json()["field"] == "reserve"
    finally:
        small.stop()
        big.stop()


async def test_a_failed_store_destroys_the_janus_room(
    database_url: str, janus: JanusServer
) -> None:
    async for client in client_for(database_url, janus):
        assert (await client.post("/api/v1/minigroups", json=minigroup("dup"))).status_code == 201
        before = set(janus.rooms())
        r = await client.post("/api/v1/minigroups", json=minigroup("dup"))
        assert r.status_code == 409
        assert set(janus.rooms()) == before  # the room made for the refused class is gone


async def test_a_restarted_janus_gets_its_rooms_back(database_url: str, janus: JanusServer) -> None:
    async for client in client_for(database_url, janus):
        room = (await client.post("/api/v1/minigroups", json=minigroup("r-1", 3))).json()[
            "real_time"
        ]["conference_room_id"]
    janus.stop()
    janus.start()  # rooms live in Janus's memory: gone
    assert room not in janus.rooms()
    async for _client in client_for(database_url, janus, **QUICK):  # Podium notices
        await eventually(lambda: room in janus.rooms())


async def test_recreate_moves_the_class_to_a_new_janus_room(
    database_url: str, janus: JanusServer
) -> None:
    async for client in client_for(database_url, janus):
        created = (await client.post("/api/v1/minigroups", json=minigroup("rc"))).json()
        old = created["real_time"]["conference_room_id"]
        r = await client.post(f"/api/v1/minigroups/{created['class_id']}/recreate", json={})
        new = r.json()["real_time"]["conference_room_id"]
        assert r.status_code == 200 and new != old
        assert new in janus.rooms() and old not in janus.rooms()


async def test_a_class_that_ends_loses_its_janus_room(
    database_url: str, janus: JanusServer
) -> None:
    import time

    async for client in client_for(database_url, janus, **QUICK):
        end = int(time.time()) + 1
        room = (
            await client.post("/api/v1/minigroups", json=minigroup("ends", time=[end - 60, end]))
        ).json()["real_time"]["conference_room_id"]
        assert room in janus.rooms()
        await eventually(lambda room=room: room not in janus.rooms())


async def test_rooms_no_class_names_are_swept(database_url: str, janus: JanusServer) -> None:
    import httpx

    from podium.conference.janus import JanusClient, room_secret

    orphan = str(uuid.uuid4())  # as if Podium crashed between Janus and the database
    async with httpx.AsyncClient() as http:
        client = JanusClient(janus.url, janus.admin_url, janus.admin_secret, janus.room_key, http)
        await client.create_room(
            orphan,
            secret=room_secret(janus.room_key, orphan),
            publishers=1,
            description="orphan",
            record=False,
        )
    assert orphan in janus.rooms()
    async for _client in client_for(database_url, janus, **QUICK):
        await eventually(lambda: orphan not in janus.rooms())


async def test_status_shows_health_load_and_rooms(database_url: str, janus: JanusServer) -> None:
    down = JanusServer("z-down", capacity=5)  # configured but not started (ties go to "j1")
    async for client in client_for(database_url, janus, down):
        await client.post("/api/v1/minigroups", json=minigroup("s-1", 4))
        r = await client.get("/api/v1/media/servers")
        assert r.status_code == 200
        by_id = {s["id"]: s for s in r.json()}
        assert by_id["j1"]["healthy"] is True and by_id["j1"]["version"] == "1.1.2"
        assert by_id["j1"]["load"] == 4 and by_id["j1"]["rooms"] == 1
        assert by_id["z-down"]["healthy"] is False and "error" in by_id["z-down"]
        assert (
            await client.get("/api/v1/media/servers", headers=auth(sub="student"))
        ).status_code == 403


def test_podium_janus_status(
    database_url: str, janus: JanusServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from click.testing import CliRunner

    from podium.cli import main

    monkeypatch.setenv("PODIUM_DATABASE_URL", database_url)
    monkeypatch.setenv("PODIUM_JANUS_URLS", json.dumps([janus.config()]))
    result = CliRunner().invoke(main, ["janus", "status"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("j1\tup\tload 0/50\trooms 0\t1.1.2")


async def test_a_new_reserve_must_fit_and_janus_follows_it(database_url: str) -> None:
    import httpx

    from podium.conference.janus import JanusClient

    server = JanusServer("j1", capacity=10)
    server.start()
    try:
        async for client in client_for(database_url, server):
            created = (await client.post("/api/v1/minigroups", json=minigroup("rs", 4))).json()
            path = f"/api/v1/minigroups/{created['class_id']}"
            room = created["real_time"]["conference_room_id"]
            assert (await client.put(path, json={"reserve": 8})).status_code == 200
            async with httpx.AsyncClient() as http:
                janus_api = JanusClient(server.url, server.admin_url, server.admin_secret,
                                        server.room_key, http)  # fmt: skip
                listed = await janus_api.videoroom({"request": "list",
                                                    "admin_key": server.room_key})  # fmt: skip
            by_room = {r["room"]: r for r in listed["list"]}
            assert by_room[room]["max_publishers"] == 8
            await client.post("/api/v1/minigroups", json=minigroup("other", 2))  # load: 10
            r = await client.put(path, json={"reserve": 9})
            assert r.status_code == 503 and r.json()["type"] == "/problems/capacity_exceeded"
            assert (await client.get(path)).json()["reserve"] == 8  # unchanged
    finally:
        server.stop()


async def test_concurrent_creates_never_overfill_a_server(database_url: str) -> None:
    """Eight creates at once on a real server process for a server with room for five."""
    import asyncio
    import json

    import httpx

    from podium.embedded import free_port
    from tests.conftest import start_server, stop_server, token_for

    janus = JanusServer("j1", capacity=10)
    janus.start()
    port = free_port()
    proc = start_server(database_url, port, {"PODIUM_JANUS_URLS": json.dumps([janus.config()])})
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30,
            headers={"Authorization": f"Bearer {token_for()}"},
        ) as client:  # fmt: skip
            answers = await asyncio.gather(*[
                client.post("/api/v1/minigroups", json=minigroup(f"c{i}", 2)) for i in range(8)
            ])  # fmt: skip
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [201] * 5 + [503] * 3, [r.text for r in answers]
        assert len(janus.rooms()) == 5  # and no room was left behind by the refused
    finally:
        stop_server(proc)
        janus.stop()


async def test_janus_killed_mid_create_leaves_no_half_made_class(
    database_url: str, janus: JanusServer
) -> None:
    """Creates in flight while Janus is SIGKILLed: each answers 201 (the class, both rooms and,
    once Janus is back, its Janus room all exist) or 503 (nothing at all exists)."""
    import asyncio

    import asyncpg

    async for client in client_for(database_url, janus, **QUICK):

        async def create(i: int) -> tuple[str, int]:
            scope = f"kill-{i}"
            r = await client.post("/api/v1/minigroups", json=minigroup(scope, 2))
            return scope, r.status_code

        async def kill_soon() -> None:
            await asyncio.sleep(0.05)
            assert janus.proc is not None
            janus.proc.kill()

        results = await asyncio.gather(*(create(i) for i in range(40)), kill_soon())
        answers = [r for r in results if r is not None]
        assert {status for _, status in answers} <= {201, 503}
        made = {scope for scope, status in answers if status == 201}
        assert made and len(made) < 40  # the kill landed mid-way
        assert janus.proc is not None
        janus.proc.wait()
        janus.proc = None
        conn = await asyncpg.connect(database_url)
        try:
            stored = {r["scope"] for r in await conn.fetch("SELECT scope FROM classes")}
            rooms = await conn.fetchval("SELECT count(*) FROM conference_rooms")
            events = await conn.fetchval("SELECT count(*) FROM event_rooms")
        finally:
            await conn.close()
        assert stored == made and rooms == events == len(made)
        janus.start()  # back, empty: the check re-creates exactly the stored classes' rooms

        async def rooms_back() -> bool:
            return len(janus.rooms()) == len(made)

        await eventually(rooms_back, seconds=20)
