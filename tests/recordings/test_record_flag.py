"""Recording is on by default for classes on Janus, off with `record: false`; a run that ends
gets a production (or none), and a run without media reads `empty`, its class `closed`."""

from __future__ import annotations

import time
from typing import Any

import asyncpg

from tests.conference.conftest import QUICK, client_for, eventually, janus, needs_janus
from tests.conftest import JanusServer
from tests.recordings.runs import rows

__all__ = ["janus"]  # the fixture, shared with the conference tests


async def productions(database_url: str, class_id: str) -> list[asyncpg.Record]:
    return await rows(database_url, "SELECT * FROM productions WHERE class_id = $1::uuid",
                      class_id)  # fmt: skip


@needs_janus
async def test_record_on_by_default_off_on_request(database_url: str, janus: JanusServer) -> None:
    async for client in client_for(database_url, janus, **QUICK):
        now = int(time.time())

        async def webinar(scope: str, **extra: Any) -> dict[str, Any]:
            body = {"title": "T", "scope": scope, "audience": "example.org",
                    "time": [now - 60, now + 3600], **extra}  # fmt: skip
            r = await client.post("/api/v1/webinars", json=body)
            assert r.status_code == 201, r.text
            return dict(r.json())

        on, off = await webinar("on"), await webinar("off", record=False)
        assert on["record"] is True and on["backend"] == "janus" and off["record"] is False
        # An update turns it off (and on) before the class ends.
        later = await webinar("later")
        r = await client.patch(f"/api/v1/webinars/{later['class_id']}", json={"record": False})
        assert r.status_code == 200 and r.json()["record"] is False
        for w in (on, off, later):
            ended = await client.patch(f"/api/v1/webinars/{w['class_id']}",
                                       json={"time": [now - 60, int(time.time())]})  # fmt: skip
            assert ended.status_code == 200
        assert await productions(database_url, off["class_id"]) == []
        assert await productions(database_url, later["class_id"]) == []
        made = await productions(database_url, on["class_id"])
        assert len(made) == 1 and made[0]["janus_server"] == janus.id
        # Nobody published: collecting finds nothing; the run has no recording.

        async def read() -> dict[str, Any]:
            return dict((await client.get(f"/api/v1/webinars/{on['class_id']}")).json())

        await eventually(lambda: _empty(read), 20)
        final = await read()
        assert final["status"] == "closed" and final["on_demand"] == []
        assert (await client.get(f"/api/v1/webinars/{on['class_id']}/download")).status_code == 404


async def _empty(read: Any) -> bool:
    return bool((await read()).get("recording") == {"status": "empty"})
