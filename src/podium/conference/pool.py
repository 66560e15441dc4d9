"""The Janus media pool: where a room goes (placement by reserve, under the server's lock),
its life on Janus (create, resize, destroy), admitting participants against capacity, and the
check that keeps the servers in line with the database (lost rooms re-created, closed ones
destroyed, strays swept, participants counted, intruders hung up, hosts timed out).
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
    NO_SUCH_ROOM,
    ROOM_EXISTS,
    JanusClient,
    JanusError,
    JanusUnavailable,
    participant_token,
    room_secret,
)
from podium.conference.models import (
    DEFAULT_LIMITS,
    Look,
    MediaRole,
    RoomLimits,
    ServerLoad,
    admit,
    intruders,
    place,
    publishers_for,
    resized_load,
    slots,
)
from podium.config import JanusServerConfig
from podium.db import Database
from podium.errors import Forbidden, ServiceUnavailable

log = logging.getLogger(__name__)


class MediaPool:
    """The configured Janus servers, and where a new room goes."""

    def __init__(self, servers: list[JanusServerConfig]) -> None:
        self._http = httpx.AsyncClient()
        self.configs = {s.id: s for s in servers}
        self.clients = {
            s.id: JanusClient(s.url, s.admin_url, s.admin_secret, s.room_key, self._http, s.rec_dir)
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
            raise _unavailable("create the room", exc) from None
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

    async def reconcile(self, db: Database, limits: RoomLimits = DEFAULT_LIMITS) -> None:
        """Bring each server in line with the database: re-create the rooms of open classes it
        lost (a restart loses them all), destroy those of closed classes, sweep rooms no class
        names once they have been seen unknown twice (one may be mid-create); count who is in
        each room, hang up intruders, time out rooms whose host left, and end those whose first
        stream started longer ago than allowed."""
        rows = await db.fetch(queries.JANUS_ROOMS)
        known = {str(r["id"]): r for r in rows}
        listed: dict[str, dict[str, int]] = {}
        for server, client in self.clients.items():
            try:
                listed[server] = await client.rooms()
            except (JanusUnavailable, JanusError) as exc:
                log.warning("media server %s: %s", server, exc)
        # Grants are read only for the rooms that need them: lost ones and ones with people.
        grants = await self._grants(db, [
            row["id"] for room_id, row in known.items()
            if row["open"] and row["janus_server"] in listed
            and listed[row["janus_server"]].get(room_id, 1) > 0
        ])  # fmt: skip
        seen: list[tuple[uuid.UUID, int, bool, bool]] = []
        for server, present in listed.items():
            client = self.clients[server]
            for room_id, row in known.items():
                if row["janus_server"] != server:
                    continue
                if row["open"] and room_id not in present:
                    await self._recreate(client, row, grants.get(row["id"], {}))
                elif not row["open"] and room_id in present:
                    with contextlib.suppress(JanusUnavailable, JanusError):
                        await client.destroy_room(room_id, row["janus_secret"])
                elif row["open"]:
                    count = present[room_id]
                    look = Look(host_here=False, streaming=False)
                    if count > 0:
                        look = await self._look_in(
                            client, room_id, row["janus_secret"], row["host"],
                            grants.get(row["id"], {}),
                        )  # fmt: skip
                    seen.append((row["id"], count, look.host_here, look.streaming))
            unknown = present.keys() - known.keys()
            for room_id in unknown & self._unknown.get(server, set()):
                with contextlib.suppress(JanusUnavailable, JanusError):
                    await client.destroy_room(room_id, room_secret(client.room_key, room_id))
            self._unknown[server] = unknown
        if seen:
            ids, counts, hosts, streams = (list(column) for column in zip(*seen, strict=True))
            await db.execute(queries.SAW_ROOMS, ids, counts, hosts, streams)
            away = [room for room, _, here, _ in seen if not here]
            for row in await db.fetch(queries.TIME_OUT, limits.host_timeout_seconds, away):
                log.info("class %s: its host left and did not return; closing", row["id"])
        for row in await db.fetch(queries.STREAM_CAP, limits.max_stream_seconds):
            log.info("class %s: its room reached the longest a stream may run; closing", row["id"])

    async def _grants(
        self, db: Any, room_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, tuple[str, MediaRole]]]:
        """Active grants per room: participant id -> (account, role)."""
        out: dict[uuid.UUID, dict[str, tuple[str, MediaRole]]] = {}
        for g in await db.fetch(queries.GRANTS, room_ids) if room_ids else []:
            out.setdefault(g["conference_room_id"], {})[str(g["id"])] = (
                g["account_id"], MediaRole(g["role"]),
            )  # fmt: skip
        return out

    async def _look_in(
        self, client: JanusClient, room_id: str, secret: str, host: str | None,
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

    def client(self, server: str) -> JanusClient:
        client = self.clients.get(server)
        if client is None:
            raise ServiceUnavailable(
                f"the class's media server {server!r} is no longer configured",
                code="media_server_unavailable",
            )
        return client

    async def admit(
        self, db: Database, client: JanusClient, row: Any, account_id: str, role: MediaRole
    ) -> uuid.UUID:
        """Count the participant in (or refuse them when the server is full), record their
        grant and put its token on the room's allow-list, under the server's lock."""
        server, room = row["janus_server"], str(row["room_id"])
        people = await self._participants(db, client, room, row)
        async with db.transaction() as conn:
            await conn.execute(queries.LOCK_SERVER, f"podium:janus:{server}")
            grant = await conn.fetchrow(
                queries.UPSERT_GRANT, uuid.uuid4(), row["room_id"], account_id, role.value
            )
            if grant["revoked"]:
                raise Forbidden("this account's media access to the class was revoked",
                                code="media_revoked")  # fmt: skip
            counted = await conn.fetchval(queries.CONNECTED, row["room_id"])
            load = next((s.load for s in await self.loads(conn) if s.id == server), 0)
            here = grant["counted"] or str(grant["id"]) in {str(p.get("id")) for p in people}
            joined = admit(load, self.configs[server].capacity, row["reserve"], counted,
                           len(people), here)  # fmt: skip
            if joined is None:
                raise ServiceUnavailable(
                    "the class's media server is full; try again when someone leaves",
                    code="capacity_exceeded",
                )
            await conn.execute(queries.SET_CONNECTED, row["room_id"], joined)
            token = participant_token(client.room_key, room, str(grant["id"]))
            try:
                await client.allow(room, row["janus_secret"], "add", [token])
            except (JanusUnavailable, JanusError) as exc:
                raise _unavailable("let the participant in", exc) from None
        if role is MediaRole.PUBLISHER and row["kind"] == "webinar" and people:
            # The presenter arrives: whoever else took the one publisher slot is hung up now.
            grants = await self._grants(db, [row["room_id"]])
            await self._look_in(client, room, row["janus_secret"], row["host"],
                                grants.get(row["room_id"], {}))  # fmt: skip
        granted: uuid.UUID = grant["id"]
        return granted

    async def hang_up_accounts(
        self, db: Database, class_id: uuid.UUID, accounts: list[str]
    ) -> None:
        """Hang the accounts up in the class's media room without revoking anything (the lobby
        moved them out: they come back once admitted). Best effort."""
        for g in await db.fetch(queries.GRANTS_OF, class_id, accounts):
            client = self.clients.get(g["janus_server"])
            if client is not None:
                with contextlib.suppress(JanusUnavailable, JanusError):
                    await client.kick(str(g["room_id"]), g["janus_secret"], str(g["id"]))

    async def _participants(
        self, db: Database, client: JanusClient, room: str, row: Any
    ) -> list[Any]:
        """Who is in the room now; a room Janus lost (restarted since the last check) is
        re-created on the spot, empty."""
        try:
            return await client.participants(room)
        except JanusError as exc:
            if exc.code != NO_SUCH_ROOM:
                raise _unavailable("list the room", exc) from None
        except JanusUnavailable as exc:
            raise _unavailable("list the room", exc) from None
        recreated = {"id": row["room_id"], "janus_server": row["janus_server"],
                     "janus_secret": row["janus_secret"], "kind": row["kind"],
                     "reserve": row["reserve"], "description": row["scope"]}  # fmt: skip
        grants = await self._grants(db, [row["room_id"]])
        await self._recreate(client, recreated, grants.get(row["room_id"], {}))
        return []

    async def _recreate(
        self, client: JanusClient, row: Any, grants: dict[str, tuple[str, MediaRole]]
    ) -> None:
        room_id = str(row["id"])
        try:
            await client.create_room(
                room_id, secret=row["janus_secret"],
                publishers=publishers_for(row["kind"], row["reserve"]),
                description=row["description"], record=True,
                allowed=[participant_token(client.room_key, room_id, g) for g in grants],
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
        connected = await conn.fetchval(queries.CONNECTED, room_id)
        if resized_load(load, connected, old_reserve, new_reserve) > config.capacity:
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
            raise _unavailable("change the room", exc) from None

    async def destroy_room(self, room: JanusRoom, room_id: uuid.UUID) -> None:
        """Best effort: a room that cannot be destroyed now is swept later."""
        client = self.clients.get(room.server)
        if client is not None:
            with contextlib.suppress(JanusUnavailable, JanusError):
                await client.destroy_room(str(room_id), room.secret)


def _unavailable(doing: str, exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"the media server could not {doing}: {exc}", code="media_server_unavailable"
    )


@dataclass(frozen=True, slots=True)
class JanusRoom:
    server: str
    secret: str  # guards edit and destroy; never shown to clients
