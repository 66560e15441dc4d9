"""`podium worker`: the jobs without the API, collecting only for the Janus servers whose
rec_dir it can read."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg

from tests.conftest import ROOT, TENANT


def janus(server_id: str, rec_dir: str) -> dict[str, object]:
    return {"id": server_id, "url": "http://127.0.0.1:9/janus",
            "admin_url": "http://127.0.0.1:9/admin", "admin_secret": "admin-secret-x",
            "room_key": "room-key-xyz", "rec_dir": rec_dir}  # fmt: skip


def sql(database_url: str, statement: str, *args: object) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetch(statement, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_a_worker_collects_only_what_it_can_read(database_url: str, tmp_path: Path) -> None:
    readable = tmp_path / "rec"
    readable.mkdir()
    env = {
        **os.environ, "PODIUM_DATABASE_URL": database_url, "PODIUM_DATA_DIR": str(tmp_path),
        "PODIUM_JOBS_POLL_SECONDS": "0.1", "PODIUM_LOG_LEVEL": "warning",
        "PODIUM_TENANTS": json.dumps([{"audience": TENANT.audience, "key": TENANT.key}]),
        "PODIUM_JANUS_URLS": json.dumps([janus("here", str(readable)),
                                         janus("elsewhere", str(tmp_path / "missing"))]),
    }  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "podium.cli", "worker"], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "collects recordings of Janus servers: here" in first, first
        payload = json.dumps({"production": str(uuid.uuid4())})
        for kind in ("recording.collect@here", "recording.collect@elsewhere"):
            sql(database_url, "INSERT INTO jobs (kind, payload) VALUES ($1, $2::jsonb)", kind,
                payload)  # fmt: skip
        deadline = time.monotonic() + 20
        done: dict[str, bool] = {}
        while time.monotonic() < deadline and not done.get("recording.collect@here"):
            time.sleep(0.1)
            rows = sql(database_url, "SELECT kind, done_at IS NOT NULL AS done FROM jobs "
                       "WHERE kind LIKE 'recording.collect@%'")  # fmt: skip
            done = {r["kind"]: r["done"] for r in rows}
        # Its own server's job ran (an unknown production: dropped quietly); the other waits
        # for a process that can read that server's recordings.
        assert done == {"recording.collect@here": True, "recording.collect@elsewhere": False}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Podium worker stopped" in out, out
