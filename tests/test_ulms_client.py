"""The original's web client library, unchanged, against a real Podium server: runs
tests/js/ulms/ulms.test.mjs (Node's own test runner) with `@ulms/api-clients@5.24.0` from npm
(`.ci/run` installs it; `npm ci` in tests/js/ulms by hand)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import token_for

HERE = Path(__file__).resolve().parent / "js" / "ulms"

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="needs Node (Debian: nodejs)"),
    pytest.mark.skipif(
        not (HERE / "node_modules" / "@ulms" / "api-clients").is_dir(),
        reason="needs @ulms/api-clients: run `npm ci` in tests/js/ulms (.ci/run does)",
    ),
]


@pytest.fixture
def server(server_address: str) -> str:
    return f"http://{server_address}"


async def classes(url: str) -> dict[str, Any]:
    """One class of each kind the library reads, by the tenant's backend."""
    made: dict[str, Any] = {}
    async with httpx.AsyncClient(
        base_url=url, timeout=10, headers={"Authorization": f"Bearer {token_for()}"}
    ) as c:
        for kind, path, extra in [
            ("webinar", "/api/v1/webinars", {"title": "Webinar"}),
            ("minigroup", "/api/v1/minigroups", {"host": "teacher", "locked_chat": False,
                                                 "properties": {"is_adult": True}}),
            ("p2p", "/api/v1/p2p", {}),
            ("chat", "/api/v1/chats", {}),
        ]:  # fmt: skip
            scope = f"ulms-{kind}-{uuid.uuid4().hex[:6]}"
            r = await c.post(path, json={"scope": scope, "audience": "example.org", **extra})
            assert r.status_code == 201, r.text
            body = r.json()
            made[kind] = {"scope": scope, "class_id": body["class_id"],
                          "event_room_id": body["real_time"]["event_room_id"]}  # fmt: skip
    return made


async def as_recorded(database_url: str, class_id: str) -> None:
    """The class's run as if recorded: its event room is a recording's original room, which
    editions are made of (the recordings pipeline itself is proven in tests/recordings)."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("""
            INSERT INTO productions (id, class_id, event_room_id, conference_room_id, step,
                                     original_room_id, modified_room_id, collected_at, adjusted_at)
            SELECT gen_random_uuid(), id, event_room_id, conference_room_id, 'done',
                   event_room_id, event_room_id, now(), now()
            FROM classes WHERE id = $1::uuid""", class_id)  # fmt: skip
    finally:
        await conn.close()


async def test_the_published_client_library_works_unchanged(server: str, database_url: str) -> None:
    made = await classes(server)
    await as_recorded(database_url, made["minigroup"]["class_id"])
    env = {
        "url": server,
        "audience": "example.org",
        "service": token_for(),
        "student": token_for(sub="student-1"),
        "student_account": "student-1",
        **made,
    }
    done = await asyncio.to_thread(
        subprocess.run,
        ["node", "--test", "--test-reporter=spec", str(HERE / "ulms.test.mjs")],
        cwd=HERE, env={"PATH": "/usr/bin:/bin", "PODIUM_ULMS": json.dumps(env)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "ℹ fail 0" in report and "ℹ pass 13" in report, report  # noqa: RUF001
