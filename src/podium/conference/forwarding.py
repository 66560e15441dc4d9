"""A webinar larger than one Janus server: its presenter publishes once, in the class's own room,
and Podium forwards the stream to each replica room on the other servers with the videoroom's
remote publishers (`add_remote_publisher` on the replica's server, then `publish_remotely` on
the presenter's: Janus's RTP forwarding, all of a publisher's streams on one port). Viewers in
a replica see the presenter as a publisher of their own room, under the same participant id.

A pass runs every `forward_seconds` in every process: it looks at each source room that has
open replicas, sees who publishes there and with which streams (`models.plan_forwards` decides
what to make, update, keep and take down), and does it. `media_forwards` holds what was made; a
row is claimed before its Janus calls (no two processes make the same forward), and a claim
that lapses (a process died mid-way) is taken again. Asking the source to publish again is how
a forward lost with a reconnecting presenter is made again; a replica room that lost its remote
publisher (its server restarted) has the forward made afresh. No Janus call runs inside a
database transaction.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from podium.conference import queries
from podium.conference.janus import JanusClient, JanusError, JanusUnavailable
from podium.conference.janus_backend import JanusBackend
from podium.conference.janus_rooms import observer_token
from podium.conference.models import OBSERVER, Forward, plan_forwards
from podium.db import Database, Row

log = logging.getLogger(__name__)

# How long a pass may take to make one forward before another may try (its Janus calls time
# out after 5 s each).
CLAIM_SECONDS = 30


@dataclass(frozen=True, slots=True)
class Room:
    id: uuid.UUID
    client: JanusClient
    secret: str


async def forward(db: Database, pool: JanusBackend) -> None:
    """One pass (see the module)."""
    sources: dict[uuid.UUID, Room] = {}
    targets: dict[uuid.UUID, list[Room]] = defaultdict(list)
    for r in await db.fetch(queries.FORWARD_ROOMS):
        sending, receiving = (
            pool.clients.get(r["source_server"]),
            pool.clients.get(r["target_server"]),
        )
        if sending is None or receiving is None:
            continue  # a server no longer configured
        sources[r["source_id"]] = Room(r["source_id"], sending, r["source_secret"])
        targets[r["source_id"]].append(Room(r["target_id"], receiving, r["target_secret"]))
    made_rows = {(str(f["target_room_id"]), f["publisher_id"]): f
                 for f in await db.fetch(queries.FORWARDS)}  # fmt: skip
    wanted: dict[Forward, list[dict[str, Any]]] = {}
    rooms: dict[str, tuple[Room, Room]] = {}  # target id -> (source, target)
    present: dict[str, set[str]] = {}  # target id -> remote publishers in it
    for source_id, source in sources.items():
        try:
            streams = await _publishing(source)
            for target in targets[source_id]:
                rooms[str(target.id)] = (source, target)
                present[str(target.id)] = {
                    str(p.get("id")) for p in await target.client.participants(str(target.id))
                    if p.get("remote")
                }  # fmt: skip
                for publisher, published in streams.items():
                    wanted[(str(target.id), publisher)] = published
        except (JanusUnavailable, JanusError) as exc:
            log.warning("forwarding from room %s: %s", source_id, exc)
            # Unknown: forwards of this room are neither made nor taken down this pass.
            ids = {str(t.id) for t in targets[source_id]}
            for key in [k for k in made_rows if k[0] in ids]:
                made_rows.pop(key)
    # A made forward whose replica no longer shows the presenter (its server restarted, the
    # room was made again) is made afresh.
    for key, row in list(made_rows.items()):
        if row["made_at"] is not None and key in wanted and key[1] not in present[key[0]]:
            await db.execute(queries.DROP_FORWARD, row["target_room_id"], key[1], row["made_at"])
            made_rows.pop(key)
    plan = plan_forwards(
        wanted,
        {k: r["streams"] for k, r in made_rows.items() if not r["busy"]},
        {k for k, r in made_rows.items() if r["busy"]},
    )
    for key in plan.make:
        source, target = rooms[key[0]]
        await _make(db, source, target, key[1], wanted[key])
    for key in plan.keep:
        source, target = rooms[key[0]]
        row = made_rows[key]
        with contextlib.suppress(JanusUnavailable, JanusError):
            if key in plan.update:
                await target.client.update_remote_publisher(
                    key[0], target.secret, key[1], wanted[key]
                )
                await db.execute(queries.SET_FORWARD_STREAMS, target.id, key[1], wanted[key])
            if await source.client.publish_remotely(str(source.id), source.secret, key[1],
                                                    key[0], row["host"], row["port"],
                                                    row["rtcp_port"]):  # fmt: skip
                log.info("forward of %s to room %s made again", key[1], key[0])
    for key in plan.remove:
        await _take_down(db, pool, made_rows[key])


async def _publishing(source: Room) -> dict[str, list[dict[str, Any]]]:
    """Who publishes in the source room, with their streams (nobody: no observer joins)."""
    people = await source.client.participants(str(source.id))
    if not any(p.get("publisher") and not p.get("remote") for p in people):
        return {}
    room = str(source.id)
    await source.client.allow(room, source.secret, "add", [observer_token(source.client, room)])
    return await source.client.publishers(
        room, observer_token(source.client, room), f"{OBSERVER}-{secrets.token_hex(4)}"
    )


async def _make(
    db: Database, source: Room, target: Room, publisher: str, streams: list[dict[str, Any]]
) -> None:
    """Claim the forward, show the presenter in the replica room, send it the RTP."""
    if not await db.fetchval(queries.CLAIM_FORWARD, target.id, publisher, source.id,
                             CLAIM_SECONDS):  # fmt: skip
        return
    remote_id = str(target.id)
    try:
        # Left over by a pass that died mid-way: start clean.
        await target.client.remove_remote_publisher(remote_id, target.secret, publisher)
        await source.client.unpublish_remotely(str(source.id), source.secret, publisher,
                                               remote_id)  # fmt: skip
        host, port, rtcp_port = await target.client.add_remote_publisher(
            remote_id, target.secret, publisher, streams, target.client.forward_host
        )
        host = target.client.forward_host or host
        await source.client.publish_remotely(str(source.id), source.secret, publisher,
                                             remote_id, host, port, rtcp_port)  # fmt: skip
    except (JanusUnavailable, JanusError) as exc:
        log.warning("forward of %s to room %s: %s (tried again next pass)", publisher,
                    remote_id, exc)  # fmt: skip
        await db.execute(queries.DROP_FORWARD, target.id, publisher, None)
        return
    await db.execute(queries.MADE_FORWARD, target.id, publisher, host, port, rtcp_port, streams)
    log.info("forwarding %s from room %s to room %s", publisher, source.id, remote_id)


async def _take_down(db: Database, pool: JanusBackend, row: Row) -> None:
    """Stop sending and take the presenter out of the replica room (either may be gone)."""
    sending, receiving = (
        pool.clients.get(row["source_server"]),
        pool.clients.get(row["target_server"]),
    )
    publisher, remote_id = row["publisher_id"], str(row["target_room_id"])
    try:
        if sending is not None:
            await sending.unpublish_remotely(str(row["source_room_id"]), row["source_secret"],
                                             publisher, remote_id)  # fmt: skip
        if receiving is not None:
            await receiving.remove_remote_publisher(remote_id, row["target_secret"], publisher)
    except (JanusUnavailable, JanusError) as exc:
        log.warning("taking down the forward of %s to room %s: %s", publisher, remote_id, exc)
        return
    await db.execute(queries.DROP_FORWARD, row["target_room_id"], publisher, row["made_at"])
    log.info("forward of %s to room %s taken down", publisher, remote_id)
