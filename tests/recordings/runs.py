"""A class run as the collect step leaves it, made without Janus: a webinar whose room held
events, ended, with a production at `adjust` and one publisher's original stream (ffmpeg's test
pattern and a tone, encoded as Podium encodes) in storage. The pipeline takes it from there."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from podium.recordings import fmp4
from podium.recordings.layout import original_key
from podium.recordings.media import ENCODE
from podium.storage import storage_for

PRESENTER = "presenter"


def synthetic_stream(path: Path, seconds: float, color: str | None = None) -> Path:
    """A stream as Podium's collect step makes them (H.264/AAC, keyframe every 2 s,
    fragmented): ffmpeg's test pattern, or one colour."""
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = f"color=c={color}:s=320x240:r=25" if color else "testsrc=size=320x240:rate=25"
    subprocess.run([
        "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", picture,
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", f"{seconds}",
        *ENCODE, "-movflags", fmp4.MOVFLAGS, str(path),
    ], check=True)  # fmt: skip
    return path


async def seed_run(
    http: httpx.AsyncClient, database_url: str, storage_url: str, *, seconds: float = 20.0,
    events: list[tuple[float, str, Any]] = (),  # type: ignore[assignment]
    stream: Path | None = None, step: str = "adjust", scope: str | None = None,
    kind: str = "webinar", others: list[tuple[str, int, list[list[int]]]] = (),  # type: ignore[assignment]
    colors: dict[str, str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A run of `seconds`, recorded by its host (the presenter) from its start without pauses,
    with `events` (second, type, data) in its room; its production queued at `step`. `others`:
    more publishers (account, start ms after the host's, segments); `colors`: a publisher's
    picture in one colour instead of the test pattern."""
    now = int(time.time())
    create = {
        "title": "Seeded", "scope": scope or f"seed-{uuid.uuid4().hex[:8]}",
        "audience": "example.org", "host": PRESENTER, "time": [now - 600, now + 3600],
    }  # fmt: skip
    w = (await http.post(f"/api/v1/{kind}s", json=create)).json()
    room = w["real_time"]["event_room_id"]
    conn = await asyncpg.connect(database_url)
    try:
        opened_ms = int((time.time() - seconds - 5) * 1000)
        await conn.execute(
            "UPDATE event_rooms SET opened_at = to_timestamp($2 / 1000.0) WHERE id = $1::uuid",
            room, opened_ms,
        )  # fmt: skip
        for n, (at, type_, data) in enumerate(events, start=1):
            await conn.execute(
                "INSERT INTO events (id, room_id, seq, type, set, data, occurred_at, created_by)"
                " VALUES ($1, $2::uuid, $3, $4, $4, $5::jsonb, $6, 'presenter')",
                uuid.uuid4(), room, n, type_, json.dumps(data), int(at * 1e9),
            )  # fmt: skip
        await conn.execute("UPDATE event_rooms SET last_seq = $2 WHERE id = $1::uuid", room,
                           len(events))  # fmt: skip
        ended = await http.patch(f"/api/v1/{kind}s/{w['class_id']}",
                                 json={"time": [now - 600, int(time.time())]})  # fmt: skip
        assert ended.status_code == 200, ended.text
        production = uuid.uuid4()
        await conn.execute(
            "INSERT INTO productions (id, class_id, event_room_id, conference_room_id, step,"
            " collected_at) VALUES ($1, $2::uuid, $3::uuid, $4::uuid, $5, now())",
            production, w["class_id"], room, w["real_time"]["conference_room_id"], step,
        )  # fmt: skip
        storage = storage_for(storage_url)
        row = {"class_id": w["class_id"], "id": production}
        key = original_key(row, PRESENTER)  # type: ignore[arg-type]
        publishers = [(PRESENTER, 0, [[0, int(seconds * 1000)]]), *others]
        for account, start, segments in publishers:
            length = sum(b - a for a, b in segments)
            await conn.execute(
                "INSERT INTO recordings (id, production_id, account_id, started_at, segments,"
                " duration_ms) VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
                uuid.uuid4(), production, account, opened_ms + start, json.dumps(segments),
                length,
            )  # fmt: skip
            color = (colors or {}).get(account)
            cached = Path(tempfile.gettempdir()) / f"podium-seed-{length}-{color}-frag.mp4"
            if not cached.exists():
                synthetic_stream(cached, length / 1000, color)
            source = stream if stream is not None and account == PRESENTER else cached
            await storage.put_file(original_key(row, account), source)  # type: ignore[arg-type]
        await queue_job(conn, f"recording.{step}", str(production))
    finally:
        await conn.close()
    return {"class_id": w["class_id"], "room": room, "production": str(production),
            "path": f"/api/v1/{kind}s/{w['class_id']}", "original_key": key,
            "scope": create["scope"]}  # fmt: skip


async def queue_job(conn: asyncpg.Connection, kind: str, production: str) -> None:
    """A pipeline job, as `jobs.enqueue` writes it (this raw connection has no JSON codec)."""
    await conn.execute("INSERT INTO jobs (kind, payload) VALUES ($1, $2::jsonb)", kind,
                       json.dumps({"production": production}))  # fmt: skip


def transcoded(read: dict[str, Any]) -> bool:
    """A class read whose recording is done: transcoded, or failed."""
    return read.get("status") == "transcoded" or read.get("recording", {}).get("status") == "failed"


async def rows(database_url: str, statement: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(statement, *args)
    finally:
        await conn.close()


async def until(http: httpx.AsyncClient, path: str, done: Any, seconds: float = 60) -> Any:
    """The class read once `done(read)` holds (or the last read, after `seconds`)."""
    deadline = time.monotonic() + seconds
    read: Any = None
    while time.monotonic() < deadline:
        read = (await http.get(path)).json()
        if done(read):
            return read
        await asyncio_sleep(0.2)
    return read


async def asyncio_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def ffprobe(path: Path | str, entries: str) -> str:
    command = ["ffprobe", "-v", "error", "-show_entries", entries, "-of", "csv=p=0", str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def ffprobe_ms(path: Path | str) -> int:
    return round(float(ffprobe(path, "format=duration").strip()) * 1000)
