"""What Podium keeps true of the rooms on the Janus servers: the check that brings each server
in line with the database (lost rooms re-created with every active token, closed ones
destroyed, strays swept, participants counted, intruders hung up, what it saw recorded for the
class lifecycle), and the pieces joining a room uses too (a room's grants, a look into it, a
room made again).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

from podium.conference import queries
from podium.conference.janus import (
    ROOM_EXISTS,
    JanusClient,
    JanusError,
    JanusUnavailable,
    participant_token,
    room_secret,
)
from podium.conference.models import OBSERVER, Look, MediaRole, intruders, publishers_for
from podium.db import Database, Executor, Row

log = logging.getLogger(__name__)


def observer_token(client: JanusClient, room: str) -> str:
    """The token Podium's observer joins a room with (see `JanusClient.publishers`)."""
    return participant_token(client.room_key, room, OBSERVER)


async def grants_of(
    db: Executor, room_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, tuple[str, MediaRole]]]:
    """Active grants per room: participant id -> (account, role)."""
    out: dict[uuid.UUID, dict[str, tuple[str, MediaRole]]] = {}
    for g in await db.fetch(queries.GRANTS, room_ids) if room_ids else []:
        out.setdefault(g["conference_room_id"], {})[str(g["id"])] = (
            g["account_id"], MediaRole(g["role"]),
        )  # fmt: skip
    return out


async def look_in(
    client: JanusClient, room_id: str, secret: str, host: str | None,
    grants: dict[str, tuple[str, MediaRole]],
) -> Look:  # fmt: skip
    """Hang up whoever is in the room without the right to be (or to send); answers
    whether the class's host is there and whether anyone is sending."""
    try:
        people = await client.participants(room_id)
        roles = {pid: role for pid, (_, role) in grants.items()}
        for pid in intruders(people, roles):
            log.info("room %s: hanging up %s (no grant, or sending without the right)",
                     room_id, pid)  # fmt: skip
            await client.kick(room_id, secret, pid)
    except (JanusUnavailable, JanusError) as exc:
        log.warning("room %s: %s", room_id, exc)
        return Look(host_here=True, streaming=False)  # unknown: never time out on it
    here = {str(p.get("id")) for p in people}
    return Look(
        host_here=any(pid in here and account == host for pid, (account, _) in grants.items()),
        streaming=any(p.get("publisher") for p in people),
    )


async def recreate(
    client: JanusClient, row: Row | dict[str, Any],
    grants: dict[str, tuple[str, MediaRole]],
) -> None:  # fmt: skip
    room_id = str(row["id"])
    try:
        await client.create_room(
            room_id, secret=row["janus_secret"],
            publishers=publishers_for(row["kind"], row["reserve"]),
            description=row["description"], record=row["source_room_id"] is None,
            allowed=[observer_token(client, room_id),
                     *(participant_token(client.room_key, room_id, g) for g in grants)],
        )  # fmt: skip
        log.info("re-created room %s on %s", row["id"], row["janus_server"])
    except JanusError as exc:
        if exc.code != ROOM_EXISTS:
            log.warning("could not re-create room %s: %s", row["id"], exc)
    except JanusUnavailable as exc:
        log.warning("could not re-create room %s: %s", row["id"], exc)


class PoolCheck:
    """The check, run every `PODIUM_JANUS_CHECK_SECONDS` in every process (safe twice over);
    it remembers the rooms each server had that no class names (swept when seen twice)."""

    def __init__(self) -> None:
        self.unknown: dict[str, set[str]] = {}

    async def run(self, db: Database, clients: dict[str, JanusClient]) -> None:
        """Bring each server in line with the database: re-create the rooms of open classes it
        lost (a restart loses them all), destroy those of closed classes, sweep rooms no class
        names once they have been seen unknown twice (one may be mid-create); count who is in
        each room, hang up intruders, and record whether the host is there and whether anyone
        sends (the class lifecycle reads that to end classes)."""
        rows = await db.fetch(queries.JANUS_ROOMS)
        known = {str(r["id"]): r for r in rows}
        listed: dict[str, dict[str, int]] = {}
        for server, client in clients.items():
            try:
                listed[server] = await client.rooms()
            except (JanusUnavailable, JanusError) as exc:
                log.warning("media server %s: %s", server, exc)
        # Grants are read only for the rooms that need them: lost ones and ones with people.
        grants = await grants_of(db, [
            row["id"] for room_id, row in known.items()
            if row["open"] and row["janus_server"] in listed
            and listed[row["janus_server"]].get(room_id, 1) > 0
        ])  # fmt: skip
        seen: list[tuple[uuid.UUID, int, bool, bool]] = []
        for server, present in listed.items():
            client = clients[server]
            for room_id, row in known.items():
                if row["janus_server"] != server:
                    continue
                if row["open"] and room_id not in present:
                    await recreate(client, row, grants.get(row["id"], {}))
                elif not row["open"] and room_id in present:
                    with contextlib.suppress(JanusUnavailable, JanusError):
                        await client.destroy_room(room_id, row["janus_secret"])
                elif row["open"]:
                    count = present[room_id]
                    look = Look(host_here=False, streaming=False)
                    if count > 0:
                        look = await look_in(
                            client, room_id, row["janus_secret"], row["host"],
                            grants.get(row["id"], {}),
                        )  # fmt: skip
                    seen.append((row["id"], count, look.host_here, look.streaming))
            unknown = present.keys() - known.keys()
            for room_id in unknown & self.unknown.get(server, set()):
                with contextlib.suppress(JanusUnavailable, JanusError):
                    await client.destroy_room(room_id, room_secret(client.room_key, room_id))
            self.unknown[server] = unknown
        if seen:
            ids, counts, hosts, streams = (list(column) for column in zip(*seen, strict=True))
            await db.execute(queries.SAW_ROOMS, ids, counts, hosts, streams)
