"""A webinar larger than one Janus server, with real media: two Janus servers in one network
namespace (notes/janus.md), a webinar on the first and a replica on the second; the presenter
publishes once on the first, Podium forwards the stream (remote publishers: Janus's RTP
forwarding), and a viewer seated on the second receives the presenter's frames. Run by
test_replicas.py inside `unshare --net --pid`; prints one JSON line of what it saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.config import JanusServerConfig, Settings
from podium.db import migrate
from podium.embedded import EmbeddedPostgres
from tests.conference.media_scenario import VETH
from tests.conference.peer import JanusSession, frames
from tests.conftest import TENANT, auth
from tests.janus import JanusServer

MEDIA_IP = "127.0.0.2"


def participants(janus: JanusServer, room: str) -> list[dict[str, Any]]:
    reply = httpx.post(janus.admin_url, json={
        "janus": "message_plugin", "transaction": "t", "admin_secret": janus.admin_secret,
        "plugin": "janus.plugin.videoroom",
        "request": {"request": "listparticipants", "room": room},
    }).json()  # fmt: skip
    return list(reply["response"].get("participants", []))


async def until(condition: Any, seconds: float = 15.0) -> float:
    """Wait for `condition()`; answers how long it took."""
    t0 = time.monotonic()
    while not condition():
        if time.monotonic() - t0 > seconds:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)
    return round(time.monotonic() - t0, 2)


async def forwards(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM media_forwards WHERE made_at IS NOT NULL"))  # fmt: skip
    finally:
        await conn.close()


async def scenario(
    client: AsyncTestClient, a: JanusServer, b: JanusServer, url: str
) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    create = {"title": "Big", "scope": "big-1", "audience": "example.org", "host": "presenter"}
    w = (await client.post("/api/v1/webinars", json=create)).json()
    room = w["real_time"]["conference_room_id"]
    r = await client.post(
        f"/api/v1/webinars/{w['class_id']}/replicas",
        json={"scope": "big-1-b", "audience": "example.org", "reserve": 20},
    )
    replica = r.json()
    seen["replica_status"] = r.status_code
    seen["replica_class_id"] = replica["class_id"] == w["class_id"]
    replica_room = replica["real_time"]["conference_room_id"]
    seen["rooms"] = {"a": a.rooms(), "b": b.rooms(), "webinar": room, "replica": replica_room}
    media = f"/api/v1/classes/{w['class_id']}/media"
    presenter = (await client.post(media, headers=auth(sub="presenter"))).json()
    viewer = (await client.post(media, headers=auth(sub="viewer"))).json()
    seen["presenter_seat"] = [presenter["server"], presenter["room"] == room]
    seen["viewer_seat"] = [viewer["server"], viewer["room"] == replica_room]
    pid = presenter["participant_id"]

    def shown_in_replica() -> bool:
        return any(p["id"] == pid and p.get("remote") for p in participants(b, replica_room))

    async with JanusSession(presenter["janus_url"]) as pub:  # noqa: SIM117 (the presenter outlives the viewer)
        async with JanusSession(viewer["janus_url"]) as sub:
            v = await sub.join(replica_room, viewer["token"], viewer["participant_id"])
            p = await pub.join(room, presenter["token"], pid)
            t0 = time.monotonic()
            await pub.publish(p["handle"], audio=True)
            seen["published_s"] = round(time.monotonic() - t0, 2)
            seen["forwarded_after_s"] = await until(shown_in_replica)
            track = await sub.subscribe(replica_room, pid, v["private_id"])
            got = await frames(track, 20)
            seen["frames"] = len(got)
            seen["frame_size"] = [got[-1].width, got[-1].height]
            seen["forwards"] = await forwards(url)
            # Checks and passes go on: the forwarded presenter is not hung up as an intruder,
            # no second forward is made, and frames keep arriving.
            await asyncio.sleep(1.5)
            seen["frames_later"] = len(await frames(track, 15, within=5))
            seen["forwards_later"] = await forwards(url)
            # The presenter's server carries the presenter only; the viewer is on the other.
            seen["people_on_a"] = sorted(
                str(x["id"]) == pid
                for x in participants(a, room)
                if not str(x["id"]).startswith("podium-observer")
            )
            seen["viewer_on_b"] = viewer["participant_id"] in {
                str(x["id"]) for x in participants(b, replica_room)
            }
            # Revoked: the viewer is hung up on the replica's server, frames stop.
            seen["revoke_status"] = (await client.delete(f"{media}/viewer")).status_code
            # (Frames decoded before the hang-up wait in the track's queue: drain them.)
            await asyncio.sleep(1.0)
            with contextlib.suppress(TimeoutError):
                while True:
                    await asyncio.wait_for(track.recv(), 0.3)
            try:
                await frames(track, 10, within=2)
                seen["frames_after_revoke"] = "still flowing"
            except Exception:
                seen["frames_after_revoke"] = "stopped"
    # The presenter left: the forward is taken down, the replica shows nobody from afar.
    seen["taken_down_after_s"] = await until(lambda: not shown_in_replica())
    await asyncio.sleep(0.5)
    seen["forwards_after_leave"] = await forwards(url)
    # Nothing forwarded is recorded on the replica's server: only the presenter's, on a.
    seen["recorded_on_a"] = len(list((a.dir / "recordings").glob(f"*{room}*-video-*")))
    seen["recorded_on_b"] = len(list((b.dir / "recordings").glob("*")))
    return seen


async def run(url: str, a: JanusServer, b: JanusServer) -> dict[str, Any]:
    servers = [JanusServerConfig(**{**s.config(), "forward_host": MEDIA_IP})  # type: ignore[arg-type]
               for s in (a, b)]  # fmt: skip
    settings = Settings(  # type: ignore[call-arg]
        tenants=[TENANT], _env_file=None, janus_urls=servers, janus_check_seconds=0.3,
        forward_seconds=0.2, jobs_poll_seconds=0.05,
    )  # fmt: skip
    async with AsyncTestClient(create_app(settings, url)) as client:
        client.headers.update(auth())
        return await scenario(client, a, b, url)


def main() -> None:
    for command in VETH:
        subprocess.run(command.split(), check=True)
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="podium-replica-pg-")))
    url = pg.start()
    # The webinar goes to `a` (placement ties go to the first id), its replica to `b`.
    a = JanusServer("a", capacity=5, interface=MEDIA_IP, ice_enforce_list="jveth0",
                    rtp_ports="20000-20499")  # fmt: skip
    b = JanusServer("b", capacity=50, interface=MEDIA_IP, ice_enforce_list="jveth0",
                    rtp_ports="20500-20999")  # fmt: skip
    try:
        migrate(url)
        a.start()
        b.start()
        seen = asyncio.run(run(url, a, b))
    finally:
        a.stop()
        b.stop()
        pg.stop()
    print("RESULT " + json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
