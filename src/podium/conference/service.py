"""Conference rooms: which media backend a class gets.

Without a Janus pool every class gets backend `none` (everything but media works); asking for
`janus` then is refused before anything is made. With a pool, a class's room is placed on the
most loaded server that still fits its reserve and created there before the class is stored;
if the store fails, the room is destroyed again.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from podium.conference import queries
from podium.conference.janus import (
    ROOM_EXISTS,
    JanusClient,
    JanusError,
    JanusUnavailable,
    room_secret,
)
from podium.conference.models import ServerLoad, place, publishers_for, slots
from podium.config import JanusServerConfig
from podium.db import Database
from podium.errors import ServiceUnavailable

log = logging.getLogger(__name__)


def choose_backend(asked: str | None, janus_configured: bool) -> str:
    if asked == "janus" and not janus_configured:
        raise ServiceUnavailable(
            "backend `janus` was asked for but this Podium has no Janus media server "
            "configured (PODIUM_JANUS_URLS); ask for backend `none` (everything but media works)",
            field="backend",
            code="media_server_unavailable",
        )
    if asked is None:
        return "janus" if janus_configured else "none"
    return asked


class MediaPool:
    """The configured Janus servers, and where a new room goes."""

    def __init__(self, servers: list[JanusServerConfig]) -> None:
        self._http = httpx.AsyncClient()
        self.configs = {s.id: s for s in servers}
        self.clients = {
            s.id: JanusClient(s.url, s.admin_url, s.admin_secret, s.room_key, self._http)
            for s in servers
        }
        self._unknown: dict[str, set[str]] = {}  # rooms seen on a server that no class names

    @property
    def configured(self) -> bool:
        return bool(self.clients)

    async def close(self) -> None:
        await self._http.aclose()

    async def loads(self, db: Any) -> list[ServerLoad]:
        rows = {r["janus_server"]: r["load"] for r in await db.fetch(queries.SERVER_LOADS)}
        return [ServerLoad(c.id, c.capacity, int(rows.get(c.id, 0))) for c in self.configs.values()]

    async def _claim_server(self, conn: Any, reserve: int | None) -> str:
        """Choose a server and hold it (a transaction-level lock) until the caller commits the
        room: two creates cannot both take the last slots, and creates on different servers
        still run side by side. A server that filled up meanwhile means placing again."""
        for _ in range(len(self.configs) + 1):
            server = place(await self.loads(conn), reserve)
            if server is None:
                break
            await conn.execute(queries.LOCK_SERVER, f"podium:janus:{server}")
            fresh = [s for s in await self.loads(conn) if s.id == server]
            if fresh and place(fresh, reserve) == server:
                return server
        raise ServiceUnavailable(
            f"no media server has {slots(reserve)} free slots for this class",
            code="capacity_exceeded", field="reserve",
        )  # fmt: skip

    async def create_room(
        self, conn: Any, room_id: uuid.UUID, kind: str, reserve: int | None, description: str
    ) -> JanusRoom:
        """Place and create the room on Janus; 503 when no server fits or answers. `conn` is a
        connection inside the transaction that will store the room (it holds the server)."""
        server = await self._claim_server(conn, reserve)
        client = self.clients[server]
        secret = room_secret(client.room_key, str(room_id))
        try:
            await client.create_room(
                str(room_id), secret=secret, publishers=publishers_for(kind, reserve),
                description=description, record=True,
            )  # fmt: skip
        except (JanusUnavailable, JanusError) as exc:
            raise ServiceUnavailable(
                f"the media server could not create the room: {exc}",
                code="media_server_unavailable",
            ) from None
        return JanusRoom(server, secret)

    async def status(self, db: Database) -> list[dict[str, Any]]:
        """Each server: reachable or not, its version, capacity, load and rooms on it."""
        loads = {load.id: load for load in await self.loads(db)}
        report = []
        for server, client in self.clients.items():
            entry: dict[str, Any] = {
                "id": server, "url": client.url, "capacity": self.configs[server].capacity,
                "load": loads[server].load, "healthy": False, "version": None, "rooms": None,
            }  # fmt: skip
            try:
                info = await client.info()
                entry.update(healthy=True, version=info.get("version_string"),
                             rooms=len(await client.rooms()))  # fmt: skip
            except (JanusUnavailable, JanusError) as exc:
                entry["error"] = str(exc)
            report.append(entry)
        return report

    async def reconcile(self, db: Database) -> None:
        """Bring each server in line with the database: re-create the rooms of open classes it
        lost (a restart loses them all), destroy those of closed classes, and sweep rooms no
        class names once they have been seen unknown twice (one may be mid-create)."""
        rows = await db.fetch(queries.JANUS_ROOMS)
        known = {str(r["id"]): r for r in rows}
        for server, client in self.clients.items():
            try:
                present = set(await client.rooms())
            except (JanusUnavailable, JanusError) as exc:
                log.warning("media server %s: %s", server, exc)
                continue
            for room_id, row in known.items():
                if row["janus_server"] != server:
                    continue
                if row["open"] and room_id not in present:
                    await self._recreate(client, row)
                elif not row["open"] and room_id in present:
                    with contextlib.suppress(JanusUnavailable, JanusError):
                        await client.destroy_room(room_id, row["janus_secret"])
            unknown = present - known.keys()
            for room_id in unknown & self._unknown.get(server, set()):
                with contextlib.suppress(JanusUnavailable, JanusError):
                    await client.destroy_room(room_id, room_secret(client.room_key, room_id))
            self._unknown[server] = unknown

    async def _recreate(self, client: JanusClient, row: Any) -> None:
        try:
            await client.create_room(
                str(row["id"]), secret=row["janus_secret"],
                publishers=publishers_for(row["kind"], row["reserve"]),
                description=row["description"], record=True,
            )  # fmt: skip
            log.info("re-created room %s on %s", row["id"], row["janus_server"])
        except JanusError as exc:
            if exc.code != ROOM_EXISTS:
                log.warning("could not re-create room %s: %s", row["id"], exc)
        except JanusUnavailable as exc:
            log.warning("could not re-create room %s: %s", row["id"], exc)

    async def resize_room(
        self, conn: Any, room_id: uuid.UUID, room: JanusRoom, kind: str,
        old_reserve: int | None, new_reserve: int | None,
    ) -> None:  # fmt: skip
        """A new reserve must still fit on the server the room is pinned to; the room's
        publishers follow it on Janus. Refused with 503 before anything changes. `conn` is in
        the transaction that stores the new reserve: the server is held until it commits."""
        config = self.configs.get(room.server)
        client = self.clients.get(room.server)
        if config is None or client is None:
            return  # a server no longer configured: the reserve is only recorded
        await conn.execute(queries.LOCK_SERVER, f"podium:janus:{room.server}")
        load = next((s.load for s in await self.loads(conn) if s.id == room.server), 0)
        if load - slots(old_reserve) + slots(new_reserve) > config.capacity:
            raise ServiceUnavailable(
                f"the class's media server has no room for a reserve of {slots(new_reserve)}",
                code="capacity_exceeded", field="reserve",
            )  # fmt: skip
        try:
            await client.videoroom({
                "request": "edit", "room": str(room_id), "secret": room.secret,
                "new_publishers": publishers_for(kind, new_reserve),
            })  # fmt: skip
        except (JanusUnavailable, JanusError) as exc:
            raise ServiceUnavailable(
                f"the media server could not change the room: {exc}",
                code="media_server_unavailable",
            ) from None

    async def destroy_room(self, room: JanusRoom, room_id: uuid.UUID) -> None:
        """Best effort: a room that cannot be destroyed now is swept later."""
        client = self.clients.get(room.server)
        if client is not None:
            with contextlib.suppress(JanusUnavailable, JanusError):
                await client.destroy_room(str(room_id), room.secret)


@dataclass(frozen=True, slots=True)
class JanusRoom:
    server: str
    secret: str  # guards edit and destroy; never shown to clients
