"""A webinar recorded for real and played back, run by test_pipeline.py inside a network
namespace (notes/janus.md): a PostgreSQL, a Janus that records, Podium in-process with its job
runner, an aiortc presenter. The presenter publishes, pauses (unpublish, wait, publish again),
chat and a break are posted, the class ends; the pipeline runs to `transcoded`. It prints one
JSON line of what it saw; the test judges it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.config import JanusServerConfig, Settings
from podium.db import migrate
from podium.embedded import EmbeddedPostgres
from tests.conference.media_scenario import VETH
from tests.conference.peer import JanusSession
from tests.conftest import TENANT, auth
from tests.janus import JanusServer
from tests.recordings.runs import ffprobe, ffprobe_ms, transcoded, until

PREROLL_MS = 1500


def streams(path: str) -> list[str]:
    return sorted(ffprobe(path, "stream=codec_name").split())


async def post(client: AsyncTestClient, path: str, type_: str, data: Any) -> None:
    r = await client.post(f"{path}/events", json={"type": type_, "data": data})
    assert r.status_code == 201, r.text


async def scenario(client: AsyncTestClient, url: str, storage: Path) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    now = int(time.time())
    create = {"title": "Recorded", "scope": "rec-1", "audience": "example.org",
              "host": "presenter", "time": [now - 60, now + 3600]}  # fmt: skip
    w = (await client.post("/api/v1/webinars", json=create)).json()
    seen["record"] = w["record"]
    path = f"/api/v1/webinars/{w['class_id']}"
    presenter = (await client.post(f"/api/v1/classes/{w['class_id']}/media",
                                   headers=auth(sub="presenter"))).json()  # fmt: skip
    async with JanusSession(presenter["janus_url"]) as pub:
        p = await pub.join(presenter["room"], presenter["token"], presenter["participant_id"])
        await pub.publish(p["handle"], audio=True)
        await asyncio.sleep(2.5)
        await post(client, path, "message", {"text": "first"})
        await asyncio.sleep(2.5)
        await pub.message(p["handle"], {"request": "unpublish"})
        await asyncio.sleep(1.5)
        await post(client, path, "message", {"text": "in the pause"})
        await asyncio.sleep(1.5)
        await pub.publish(p["handle"], audio=True)
        await asyncio.sleep(1.5)
        await post(client, path, "message", {"text": "before the break"})
        await asyncio.sleep(1.0)
        await post(client, path, "break", {"value": True})
        await asyncio.sleep(2.0)
        await post(client, path, "break", {"value": False})
        await asyncio.sleep(1.5)
        await post(client, path, "message", {"text": "after the break"})
        await asyncio.sleep(1.5)
        await pub.message(p["handle"], {"request": "unpublish"})
    r = await client.patch(path, json={"time": [now - 60, int(time.time())]})
    seen["end_status"] = r.status_code
    seen["status_at_end"] = (await client.get(path)).json()["status"]
    # The pipeline runs in the app's job runner.
    started = time.monotonic()
    read = await until(client, path, transcoded, 180)
    seen["read"] = read
    seen["pipeline_s"] = round(time.monotonic() - started, 1)
    conn = await asyncpg.connect(url)
    try:
        prod = await conn.fetchrow("SELECT * FROM productions WHERE class_id = $1", w["class_id"])
        rec = await conn.fetchrow("SELECT * FROM recordings WHERE production_id = $1", prod["id"])
        seen["segments"] = json.loads(rec["segments"])
        seen["started_at"] = rec["started_at"]
        seen["modified_segments"] = json.loads(prod["modified_segments"])
        seen["room_opened_ms"] = await conn.fetchval(
            "SELECT floor(extract(epoch FROM opened_at) * 1000)::bigint FROM event_rooms "
            "WHERE id = $1", w["real_time"]["event_room_id"])  # fmt: skip

        async def events(room: Any) -> list[list[Any]]:
            rows = await conn.fetch("SELECT type, data, occurred_at FROM events WHERE room_id = $1"
                                    " ORDER BY occurred_at", room)  # fmt: skip
            return [[r["type"], json.loads(r["data"]), r["occurred_at"]] for r in rows]

        seen["events_r"] = await events(prod["event_room_id"])
        seen["events_o"] = await events(prod["original_room_id"])
        seen["events_m"] = await events(prod["modified_room_id"])
        prefix = prod["stream_prefix"]
        originals = sorted((storage / str(w["class_id"])).rglob("originals/*.mp4"))
        seen["original_ms"] = ffprobe_ms(str(originals[0]))
        seen["original_streams"] = streams(str(originals[0]))
        seen["stream_ms"] = ffprobe_ms(str(storage / prefix / "stream.mp4"))
        seen["hls_ms"] = ffprobe_ms(str(storage / prefix / "index.m3u8"))
        seen["stream_size"] = (storage / prefix / "stream.mp4").stat().st_size
    finally:
        await conn.close()
    # The download: a signed link Podium serves with ranges.
    link = (await client.get(f"{path}/download")).json()["url"]
    relative = link.split("://", 1)[1].split("/", 1)[1]
    ranged = await client.get("/" + relative, headers={"Range": "bytes=0-99"})
    seen["range_status"] = ranged.status_code
    seen["range_length"] = len(ranged.content)
    seen["content_range"] = ranged.headers.get("content-range")
    whole = await client.get("/" + relative)
    seen["download_size"] = len(whole.content)
    tampered = relative.replace("api/v1/streams/1", "api/v1/streams/2")  # a later expiry
    seen["tampered"] = (await client.get("/" + tampered)).status_code
    hls = (await client.get(f"{path}/stream")).json()["url"]
    playlist_path = "/" + hls.split("://", 1)[1].split("/", 1)[1]
    playlist = await client.get(playlist_path)
    seen["playlist_status"] = playlist.status_code
    first_segment = next(ln for ln in playlist.text.splitlines() if ln and not ln.startswith("#"))
    segment = await client.get(playlist_path.rsplit("/", 1)[0] + "/" + first_segment)
    seen["segment_status"] = segment.status_code
    seen["segment_bytes"] = len(segment.content)
    # Events dumped: what the modified room holds.
    dump_uri = read["on_demand"][1].get("room_events_uri", "")
    dump = await client.get("/" + dump_uri.split("://", 1)[1].split("/", 1)[1])
    seen["dump_events"] = len(dump.json()["events"]) if dump.status_code == 200 else -1
    return seen


async def minigroup(client: AsyncTestClient, url: str, storage: Path) -> dict[str, Any]:
    """Two publishers in a minigroup, the second joining later: one composed video."""
    seen: dict[str, Any] = {}
    now = int(time.time())
    create = {"title": "Group", "scope": "group-1", "audience": "example.org", "host": "host",
              "time": [now - 60, now + 3600]}  # fmt: skip
    g = (await client.post("/api/v1/minigroups", json=create)).json()
    path = f"/api/v1/minigroups/{g['class_id']}"
    media = f"/api/v1/classes/{g['class_id']}/media"
    host = (await client.post(media, headers=auth(sub="host"))).json()
    student = (await client.post(media, headers=auth(sub="student"))).json()
    seen["roles"] = [host["role"], student["role"]]
    async with JanusSession(host["janus_url"]) as a, JanusSession(student["janus_url"]) as b:
        ha = await a.join(host["room"], host["token"], host["participant_id"])
        await a.publish(ha["handle"], audio=True)
        await asyncio.sleep(2.0)
        hb = await b.join(student["room"], student["token"], student["participant_id"])
        await b.publish(hb["handle"], audio=True)
        await post(client, path, "message", {"text": "both here"})
        await asyncio.sleep(4.0)
        await b.message(hb["handle"], {"request": "unpublish"})
        await a.message(ha["handle"], {"request": "unpublish"})
    await client.patch(path, json={"time": [now - 60, int(time.time())]})
    seen["read"] = await until(client, path, transcoded, 180)
    conn = await asyncpg.connect(url)
    try:
        prod = await conn.fetchrow("SELECT * FROM productions WHERE class_id = $1", g["class_id"])
        recs = await conn.fetch("SELECT account_id, segments, cut_original_segments FROM "
                                "recordings WHERE production_id = $1", prod["id"])  # fmt: skip
        seen["recordings"] = sorted(r["account_id"] for r in recs)
        seen["modified_segments"] = json.loads(prod["modified_segments"])
        stream = storage / prod["stream_prefix"] / "stream.mp4"
        seen["stream_ms"] = ffprobe_ms(str(stream))
        seen["video"] = ffprobe(str(stream), "stream=codec_name,width,height").split()
    finally:
        await conn.close()
    return seen


async def run(url: str, janus: JanusServer, work: Path) -> dict[str, Any]:
    settings = Settings(  # type: ignore[call-arg]
        tenants=[TENANT], _env_file=None, data_dir=work,
        janus_urls=[JanusServerConfig(**janus.config())],  # type: ignore[arg-type]
        jobs_poll_seconds=0.2, janus_check_seconds=1.0, preroll_ms=PREROLL_MS,
    )  # fmt: skip
    async with AsyncTestClient(create_app(settings, url)) as client:
        client.headers.update(auth())
        which = minigroup if "minigroup" in sys.argv[1:] else scenario
        return await which(client, url, work / "storage")


def main() -> None:
    for command in VETH:
        subprocess.run(command.split(), check=True)
    work = Path(tempfile.mkdtemp(prefix="podium-rec-"))
    pg = EmbeddedPostgres(work / "pg")
    url = pg.start()
    janus = JanusServer("media", interface="127.0.0.2", ice_enforce_list="jveth0")
    try:
        migrate(url)
        janus.start()
        seen = asyncio.run(run(url, janus, work))
    finally:
        janus.stop()
        pg.stop()
    print("RESULT " + json.dumps(seen), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
