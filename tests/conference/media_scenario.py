"""Real media through the credentials Podium hands out; run by test_media.py inside a network
namespace (`unshare --net --pid --fork --kill-child --mount-proc`, as root), where Janus can
gather ICE candidates on a veth at 127.0.0.2 (notes/janus.md). Everything it needs starts in
here: a PostgreSQL, a Janus, Podium in-process, and aiortc peers. It prints one JSON line of
what it saw; the test judges it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.conference.janus_backend import JanusBackend
from podium.config import JanusServerConfig, Settings
from podium.db import migrate
from podium.embedded import EmbeddedPostgres
from tests.conference.peer import JanusRefused, JanusSession, frames
from tests.conftest import TENANT, auth
from tests.janus import JanusServer

VETH = [
    "ip link set lo up",
    "ip link add jveth0 type veth peer name jveth1",
    "ip addr add 127.0.0.2/32 dev jveth0",
    "ip link set jveth1 up",
    "ip link set jveth0 up",
]


def refused_code(exc: BaseException) -> int | None:
    return exc.code if isinstance(exc, JanusRefused) else None


async def check_once(url: str, janus: JanusServer, room: str) -> bool:
    """One pass of the pool's check (as the job loop runs it), then what it recorded."""
    pool = JanusBackend([JanusServerConfig(**janus.config())])  # type: ignore[arg-type]
    conn = await asyncpg.connect(url)
    try:
        await pool.check(conn)  # type: ignore[arg-type]
        return bool(await conn.fetchval(
            "SELECT first_stream_at IS NOT NULL FROM conference_rooms WHERE id = $1::uuid", room
        ))  # fmt: skip
    finally:
        await conn.close()
        await pool.close()


async def scenario(client: AsyncTestClient, janus: JanusServer, url: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    t0 = time.monotonic()
    create = {"title": "Media", "scope": "media-1", "audience": "example.org", "host": "presenter"}
    w = (await client.post("/api/v1/webinars", json=create)).json()
    media = f"/api/v1/classes/{w['class_id']}/media"
    viewer = (await client.post(media, headers=auth(sub="viewer"))).json()
    seen["viewer_role"] = viewer["role"]
    room = viewer["room"]

    async with JanusSession(viewer["janus_url"]) as squatter:
        # A viewer who starts sending before the presenter arrives takes the one slot...
        joined = await squatter.join(room, viewer["token"], viewer["participant_id"])
        await squatter.publish(joined["handle"])
        seen["viewer_sent_before_presenter"] = True
        # ...until the presenter asks for media: Podium hangs the viewer up.
        presenter = (await client.post(media, headers=auth(sub="presenter"))).json()
        seen["presenter_role"] = presenter["role"]
        kicked = await squatter.wait_for(
            lambda e: e.get("plugindata", {}).get("data", {}).get("reason") == "kicked"
        )
        seen["squatter_hung_up"] = bool(kicked)

    async with (
        JanusSession(presenter["janus_url"]) as pub,
        JanusSession(viewer["janus_url"]) as sub,
        JanusSession(viewer["janus_url"]) as outsider,
    ):
        p = await pub.join(room, presenter["token"], presenter["participant_id"])
        await pub.publish(p["handle"])
        seen["published_after_s"] = round(time.monotonic() - t0, 2)
        v = await sub.join(room, viewer["token"], viewer["participant_id"])
        track = await sub.subscribe(room, presenter["participant_id"], v["private_id"])
        got = await frames(track, 20)
        seen["frames"] = len(got)
        seen["frame_size"] = [got[-1].width, got[-1].height]
        seen["frames_after_s"] = round(time.monotonic() - t0, 2)
        # A check now sees the stream: the room's first stream is dated (its lifetime cap).
        seen["first_stream_dated"] = await check_once(url, janus, room)
        # The viewer tries to send while the presenter does: Janus refuses (432).
        try:
            await sub.publish(v["handle"])
            seen["second_publisher"] = "accepted"
        except JanusRefused as exc:
            seen["second_publisher"] = exc.code
        # No token: no way in, neither as a participant nor as a subscriber.
        try:
            await outsider.join(room, None, "outsider")
        except JanusRefused as exc:
            seen["outsider_join"] = exc.code
        try:
            await outsider.subscribe(room, presenter["participant_id"], 1)
        except JanusRefused as exc:
            seen["outsider_subscribe"] = exc.code
        # Revoked: hung up at once, frames stop.
        r = await client.delete(f"{media}/viewer")
        seen["revoke_status"] = r.status_code
        try:
            await frames(track, 30, within=3)
            seen["frames_after_revoke"] = "still flowing"
        except (TimeoutError, Exception):
            seen["frames_after_revoke"] = "stopped"
    recordings = sorted(p.name for p in (janus.dir / "recordings").glob(f"*{room}*-video-*"))
    seen["recordings"] = len(recordings)
    return seen


async def run(url: str, janus: JanusServer) -> dict[str, Any]:
    settings = Settings(  # type: ignore[call-arg]
        tenants=[TENANT], _env_file=None,
        janus_urls=[JanusServerConfig(**janus.config())],  # type: ignore[arg-type]
    )  # fmt: skip
    async with AsyncTestClient(create_app(settings, url)) as client:
        client.headers.update(auth())
        return await scenario(client, janus, url)


def main() -> None:
    for command in VETH:
        subprocess.run(command.split(), check=True)
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="podium-media-pg-")))
    url = pg.start()
    janus = JanusServer("media", interface="127.0.0.2", ice_enforce_list="jveth0")
    try:
        migrate(url)
        janus.start()
        seen = asyncio.run(run(url, janus))
    finally:
        janus.stop()
        pg.stop()
    print("RESULT " + json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
