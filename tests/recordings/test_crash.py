"""kill -9 of the process running a transcode: after a restart the job is taken over once its
lease lapses, runs to the end once, and the tenant hears `.ready` once."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import served
from tests.recordings.runs import ffprobe_ms, rows, seed_run, until

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


async def test_kill_9_mid_transcode_resumes_and_finishes_once(
    database_url: str, tmp_path: Path
) -> None:
    env = {"PODIUM_DATA_DIR": str(tmp_path), "PODIUM_JOBS_POLL_SECONDS": "0.1",
           "PODIUM_MEDIA_LEASE_SECONDS": "2", "PODIUM_LOG_LEVEL": "info"}  # fmt: skip
    # Fifteen breaks between keyframes: some thirty short re-encodes make a transcode that
    # takes seconds, long enough to be killed in the middle of.
    breaks = [(4 * k + 1.37 + (0.74 if stop else 0), "break", {"value": not stop})
              for k in range(15) for stop in (False, True)]  # fmt: skip
    async with served(database_url, env) as server:
        run = await seed_run(server.http, database_url, f"file://{tmp_path}/storage",
                             seconds=62, events=breaks)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            leased = await rows(database_url, "SELECT 1 FROM jobs WHERE kind = "
                                 "'recording.transcode' AND leased_until > now()")  # fmt: skip
            if leased:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        server.proc.kill()  # SIGKILL: no hand-back, the lease must lapse
        server.proc.wait()
        state = await rows(database_url, "SELECT step, transcoded_at FROM productions")
        assert state[0]["step"] == "transcode" and state[0]["transcoded_at"] is None
    async with served(database_url, env) as server:
        read = await until(server.http, run["path"], lambda r: r["status"] == "transcoded", 120)
        assert read["status"] == "transcoded", read
    jobs = await rows(database_url, "SELECT attempts, done_at FROM jobs WHERE kind = "
                       "'recording.transcode'")  # fmt: skip
    assert len(jobs) == 1 and jobs[0]["attempts"] == 2 and jobs[0]["done_at"] is not None
    ready = await rows(database_url, "SELECT 1 FROM notifications WHERE type = 'webinar.ready'")
    assert len(ready) == 1
    row = (await rows(database_url, "SELECT stream_prefix, modified_segments FROM productions"))[0]
    kept = sum(b - a for a, b in json.loads(row["modified_segments"]))
    assert abs(ffprobe_ms(tmp_path / "storage" / row["stream_prefix"] / "stream.mp4") - kept) <= 100
    # One stream in storage: the killed attempt's outputs never reached it.
    streams = list((tmp_path / "storage").rglob("stream.mp4"))
    assert len(streams) == 1
