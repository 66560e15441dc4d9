"""The pipeline from adjust on, on runs seeded without Janus (runs.py): reads, links, failures
and restarts, recreate, editions, and the S3 path."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.config import Settings
from tests import s3
from tests.conftest import TENANT, auth
from tests.recordings.runs import (
    ffprobe,
    ffprobe_ms,
    queue_job,
    rows,
    seed_run,
    synthetic_stream,
    transcoded,
    until,
)

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None,
    reason="ffmpeg is not installed (Debian: apt-get install ffmpeg)",
)

MS = 1_000_000


def app_settings(tmp_path: Path, storage_url: str = "") -> Settings:
    return Settings(  # type: ignore[call-arg]
        tenants=[TENANT], _env_file=None, data_dir=tmp_path, storage_url=storage_url,
        jobs_poll_seconds=0.1, preroll_ms=1000,
    )  # fmt: skip


@pytest.fixture
async def app(tmp_path: Path, database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(app_settings(tmp_path), database_url)) as client:
        client.headers.update(auth())
        yield client


async def room_events(database_url: str, room: str) -> list[tuple[str, Any, int]]:
    found = await rows(database_url, "SELECT type, data, occurred_at FROM events "
                       "WHERE room_id = $1::uuid ORDER BY occurred_at", room)  # fmt: skip
    return [(r["type"], json.loads(r["data"]), r["occurred_at"]) for r in found]


def local(client: AsyncTestClient, url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


async def test_a_run_goes_from_adjust_to_transcoded(
    app: AsyncTestClient, database_url: str, tmp_path: Path
) -> None:
    run = await seed_run(app, database_url, f"file://{tmp_path}/storage", seconds=12, events=[
        (2.0, "message", {"text": "a"}), (4.0, "break", {"value": True}),
        (7.0, "break", {"value": False}), (9.0, "message", {"text": "b"}),
    ])  # fmt: skip
    read = await until(app, run["path"], transcoded)
    assert read["status"] == "transcoded" and read["recording"] == {"status": "ready"}, read
    modified = read["on_demand"][1]
    # Once transcoded, a read shows where the caller stopped watching.
    assert (await app.post(f"{run['path']}/timestamps", json={"position": 42})).status_code == 201
    assert (await app.get(run["path"])).json()["position"] == 42
    # The break (3 s) is cut: the stream is 9 s; the events follow, shifted by the preroll.
    assert modified["room_events_uri"].endswith(
        f"/api/v1/recordings/{run['production']}/events.json"
    )
    m = await room_events(database_url, modified["event_room_id"])
    texts = {d["text"]: t for ty, d, t in m if ty == "message"}
    assert texts == {"a": 2_000 * MS + 1_000 * MS, "b": 6_000 * MS + 1_000 * MS}
    # Both rooms read through the event-room routes; state at a moment of the recording.
    room = f"/api/v1/event_rooms/{modified['event_room_id']}"
    assert (await app.get(room)).json()["class_id"] == run["class_id"]
    listed = (await app.get(f"{room}/events", params={"type": "message"})).json()
    assert sorted(e["occurred_at"] for e in listed) == sorted(texts.values())
    state = (await app.get(f"{room}/state", params={"sets": "message",
                                                     "occurred_at": 5 * 10**9})).json()  # fmt: skip
    assert state["message"]["data"] == {"text": "a"}  # "b" comes at 7 s
    link = (await app.get(f"{run['path']}/download")).json()["url"]
    got = await app.get(local(app, link))
    assert got.status_code == 200 and got.headers["content-type"] == "video/mp4"
    path = tmp_path / "dl.mp4"
    path.write_bytes(got.content)
    assert abs(ffprobe_ms(path) - 9_000) <= 100
    # The tenant heard it once.
    ready = await rows(database_url, "SELECT payload FROM notifications WHERE type = "
                       "'webinar.ready'")  # fmt: skip
    assert len(ready) == 1
    payload = json.loads(ready[0]["payload"])
    assert payload["stream_duration"] == 9 and payload["status"] == "success"
    assert payload["stream_id"] == modified["stream_id"]
    assert payload["stream_uri"].endswith(f"{run['path']}/download")  # not a server path
    # Ranges past the end are refused with the size; an expired or altered link is 404.
    assert (
        await app.get(local(app, link), headers={"Range": "bytes=99999999-"})
    ).status_code == 416
    assert (await app.get(local(app, link).replace("stream.mp4", "x.mp4"))).status_code == 404


async def test_a_failed_step_shows_and_restarts(
    app: AsyncTestClient, database_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    run = await seed_run(app, database_url, f"file://{tmp_path}/storage", seconds=6,
                         stream=broken)  # fmt: skip
    read = await until(app, run["path"], transcoded)
    assert read["status"] == "adjusted"
    assert read["recording"]["status"] == "failed" and read["recording"]["step"] == "transcode"
    error = read["recording"]["error"]
    assert "ffprobe" in error or "ffmpeg" in error
    assert str(tmp_path) not in error  # the tool's words, not the server's folders
    # Mend the source, restart: it runs again from the failed step.
    synthetic_stream(tmp_path / "storage" / run["original_key"], 6)
    r = await app.post(f"/api/v1/transcoding/webinar/{run['class_id']}/restart",
                       json={"priority": "high"})  # fmt: skip
    assert r.status_code == 202 and r.json() == {"step": "transcode"}
    read = await until(app, run["path"], transcoded)
    assert read["status"] == "transcoded" and read["recording"] == {"status": "ready"}
    # Adjust is one-shot; nothing left to restart now; a viewer may not restart.
    again = await app.post(f"/api/v1/transcoding/webinar/{run['class_id']}/restart",
                           json={"step": "adjust"})  # fmt: skip
    assert again.status_code == 409
    viewer = await app.post(f"/api/v1/transcoding/webinar/{run['class_id']}/restart",
                            headers=auth(sub="viewer"))  # fmt: skip
    assert viewer.status_code == 403


async def test_recreate_drops_the_recording_and_late_jobs(
    app: AsyncTestClient, database_url: str, tmp_path: Path
) -> None:
    run = await seed_run(app, database_url, f"file://{tmp_path}/storage", seconds=6)
    read = await until(app, run["path"], transcoded)
    assert read["status"] == "transcoded"
    r = await app.post(f"{run['path']}/recreate", json={})
    assert r.status_code == 200
    read = (await app.get(run["path"])).json()
    assert read["status"] == "real-time" and read["on_demand"] == [] and "recording" not in read
    gone = await rows(database_url, "SELECT deleted_at, room_events_uri FROM productions "
                      "WHERE id = $1::uuid", run["production"])  # fmt: skip
    assert gone[0]["deleted_at"] is not None and gone[0]["room_events_uri"] is None
    assert (await app.get(f"{run['path']}/download")).status_code == 404
    # A late job about the old run changes nothing and fails nothing.
    conn = await asyncpg.connect(database_url)
    try:
        await queue_job(conn, "recording.transcode", run["production"])
    finally:
        await conn.close()
    await asyncio.sleep(1.0)
    late = await rows(database_url, "SELECT done_at, failed_at FROM jobs WHERE kind = "
                      "'recording.transcode' ORDER BY id DESC LIMIT 1")  # fmt: skip
    assert late[0]["done_at"] is not None and late[0]["failed_at"] is None


async def test_an_edition_recuts_and_retimes(
    app: AsyncTestClient, database_url: str, tmp_path: Path
) -> None:
    run = await seed_run(app, database_url, f"file://{tmp_path}/storage", seconds=20, events=[
        (2.0, "message", {"text": "keep"}), (10.0, "message", {"text": "drop"}),
        (15.0, "message", {"text": "later"}),
    ])  # fmt: skip
    read = await until(app, run["path"], transcoded)
    original = read["on_demand"][0]["event_room_id"]
    first_modified = read["on_demand"][1]["event_room_id"]
    # Editions are of the original room only.
    assert (await app.post(f"/api/v1/event_rooms/{run['room']}/editions")).status_code == 409
    edition = (await app.post(f"/api/v1/event_rooms/{original}/editions")).json()
    assert edition["source_room_id"] == original
    events = await rows(database_url, "SELECT id, data FROM events WHERE room_id = $1::uuid",
                        original)  # fmt: skip
    drop = next(r["id"] for r in events if json.loads(r["data"]).get("text") == "drop")
    base = f"/api/v1/editions/{edition['id']}"
    changes = [
        {"type": "addition", "event": {"type": "message", "data": {"text": "added"},
                                       "occurred_at": 3 * 10**9}},
        {"type": "removal", "event_id": str(drop)},
        {"type": "addition", "event": {"type": "stream", "data": {"cut": "start"},
                                       "occurred_at": 5 * 10**9}},
        {"type": "addition", "event": {"type": "stream", "data": {"cut": "stop"},
                                       "occurred_at": 9 * 10**9}},
    ]  # fmt: skip
    for change in changes:
        r = await app.post(f"{base}/changes", json=change)
        assert r.status_code == 201, r.text
    assert len((await app.get(f"{base}/changes")).json()) == 4
    bad = (await app.post(f"{base}/changes", json={"type": "removal"})).json()
    assert bad["status"] == 422 and bad["field"] == "event_id"
    # Through the dispatcher's route: the edition must be of the class the scope names.
    dispatcher = f"/api/v1/audiences/example.org/classes/{{}}/editions/{edition['id']}"
    assert (await app.post(dispatcher.format("another-class"))).status_code == 404
    r = await app.post(dispatcher.format(run["scope"]))
    assert r.status_code == 202
    # Asked again before it ran: the same queued commit (it runs once, below).
    assert (await app.post(f"{base}/commit")).status_code == 202
    read = await until(app, run["path"], lambda r: transcoded(r) and r["on_demand"][1][
        "event_room_id"] != first_modified)  # fmt: skip
    assert read["status"] == "transcoded", read
    committed = read["on_demand"][1]["event_room_id"]
    m = await room_events(database_url, committed)
    texts = {d["text"]: t for ty, d, t in m if ty == "message"}
    # 4 s cut from 5 s to 9 s, then the preroll (1 s).
    assert texts == {"keep": 3 * 10**9, "added": 4 * 10**9, "later": 12 * 10**9}
    note = await rows(database_url, "SELECT payload FROM notifications WHERE type = "
                      "'edition.commit'")  # fmt: skip
    assert len(note) == 1
    payload = json.loads(note[0]["payload"])
    assert payload["committed_room_id"] == committed
    assert (await app.post(f"{base}/commit")).status_code == 409  # committed: done for good
    assert payload["modified_segments"] == [[0, 5000], [9000, 20000]]
    link = (await app.get(f"{run['path']}/download")).json()["url"]
    path = tmp_path / "edited.mp4"
    path.write_bytes((await app.get(local(app, link))).content)
    assert abs(ffprobe_ms(path) - 16_000) <= 100  # shorter by the cut
    assert len(await rows(database_url, "SELECT 1 FROM notifications WHERE type = "
                          "'webinar.ready'")) == 2  # fmt: skip


async def test_the_s3_path(database_url: str, tmp_path: Path, s3_server: s3.S3Server) -> None:
    storage_url = s3_server.url(prefix="pipeline")
    async with AsyncTestClient(
        create_app(app_settings(tmp_path, storage_url), database_url)
    ) as app:
        app.headers.update(auth())
        run = await seed_run(app, database_url, storage_url, seconds=8, events=[
            (1.0, "message", {"text": "hi"})])  # fmt: skip
        read = await until(app, run["path"], transcoded)
        assert read["status"] == "transcoded", read
        uri = read["on_demand"][1]["room_events_uri"]
        assert uri.startswith("s3://podium-test/pipeline/")
        # The download is a presigned URL to the S3 server itself; it serves ranges.
        link = (await app.get(f"{run['path']}/download")).json()["url"]
        assert link.startswith(s3_server.endpoint) and "X-Amz-Signature=" in link
        async with httpx.AsyncClient() as http:
            whole = await http.get(link)
            assert whole.status_code == 200
            part = await http.get(link, headers={"Range": "bytes=0-99"})
            assert part.status_code == 206 and len(part.content) == 100
            path = tmp_path / "s3.mp4"
            path.write_bytes(whole.content)
            assert abs(ffprobe_ms(path) - 8_000) <= 100
            # HLS through Podium: the playlist names presigned segments that S3 serves.
            hls = (await app.get(f"{run['path']}/stream")).json()["url"]
            playlist = await app.get(local(app, hls))
            segment = next(ln for ln in playlist.text.splitlines() if ln.startswith("http"))
            assert (await http.get(segment)).status_code == 200


async def test_a_minigroup_is_one_composed_video(
    app: AsyncTestClient, database_url: str, tmp_path: Path
) -> None:
    """The host (10 s, a break from 4 s to 6 s) and a student who joined 3 s later and paused
    for 2 s: one video of both side by side, 8 s long, the break cut from everyone."""
    run = await seed_run(app, database_url, f"file://{tmp_path}/storage", seconds=10,
                         kind="minigroup", others=[("student", 3000, [[0, 4000], [6000, 9000]])],
                         events=[(4.0, "break", {"value": True}),
                                 (6.0, "break", {"value": False})])  # fmt: skip
    read = await until(app, run["path"], transcoded)
    assert read["status"] == "transcoded", read
    link = (await app.get(f"{run['path']}/download")).json()["url"]
    path = tmp_path / "composed.mp4"
    path.write_bytes((await app.get(local(app, link))).content)
    assert abs(ffprobe_ms(path) - 8_000) <= 100
    assert ffprobe(path, "stream=codec_name,width,height").split() == ["h264,1280,360", "aac"]
    ready = await rows(database_url, "SELECT payload FROM notifications WHERE type = "
                       "'minigroup.ready'")  # fmt: skip
    assert json.loads(ready[0]["payload"])["stream_duration"] == 8


def pixel(path: Path, second: float, x: int, y: int) -> tuple[int, ...]:
    """The colour at (x, y) of the frame at `second`, as RGB."""
    crop = f"format=rgb24,crop=2:2:{x}:{y}"
    out = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(second), "-i", str(path),
                          "-frames:v", "1", "-vf", crop, "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-"], capture_output=True, check=True)  # fmt: skip
    return tuple(out.stdout[:3])


async def test_a_pinned_publisher_fills_the_frame(
    app: AsyncTestClient, database_url: str, tmp_path: Path
) -> None:
    """A student (all red) pinned from 2 s to 5 s: over the grid, the red picture fills the
    frame; before and after, the host's tile (the test pattern) is on the left. Their picture
    muted from 5.5 s to 7 s: their tile is black."""
    run = await seed_run(app, database_url, f"file://{tmp_path}/storage", seconds=8,
                         kind="minigroup", others=[("student", 0, [[0, 8000]])],
                         colors={"student": "red"}, events=[
                             (2.0, "pin", {"account_id": "student"}),
                             (5.0, "pin", {"account_id": None}),
                             (5.5, "mute", {"account_id": "student", "video": True}),
                             (7.0, "mute", {"account_id": "student", "video": False}),
                         ])  # fmt: skip
    read = await until(app, run["path"], transcoded)
    assert read["status"] == "transcoded", read
    link = (await app.get(f"{run['path']}/download")).json()["url"]
    path = tmp_path / "pinned.mp4"
    path.write_bytes((await app.get(local(app, link))).content)

    def red(rgb: tuple[int, ...]) -> bool:
        return rgb[0] > 180 and rgb[1] < 80 and rgb[2] < 80

    # (480, 180): in the host's tile of the grid (x 0-640), inside the pinned picture (the
    # student's 4:3 picture fitted to the 1280x360 frame: x 400-880).
    assert red(pixel(path, 3.5, 480, 180))
    assert not red(pixel(path, 1.0, 480, 180)) and not red(pixel(path, 6.5, 480, 180))
    # The student's own tile, on the right: black while their picture is muted (5.5-7 s).
    assert red(pixel(path, 5.0, 960, 180)) and red(pixel(path, 7.5, 960, 180))
    assert pixel(path, 6.2, 960, 180) == (0, 0, 0)
