"""Backend `janus`: the pool of Janus servers. Where a room goes (placement by reserve), its life
on Janus (create, resize, destroy), admitting participants against capacity, and the check that
keeps the servers in line with the database (lost rooms re-created, closed ones destroyed,
strays swept, participants counted, intruders hung up; what it sees is recorded for the class
lifecycle, which ends classes whose host left or whose stream ran too long).

No call to Janus runs inside a database transaction. Placement takes a lease: under the
server's advisory lock, for one short transaction, the room's slots are written down
(`media_leases`, counted in the server's load); the room is then made on Janus holding nothing,
and the use case's unit stores it (a stored room replaces its lease in the load). A refused
unit destroys the room and drops the lease; a crash leaves a lease that lapses and a room the
check sweeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from podium.conference import queries
from podium.conference.janus import (
    CONNECTIONS,
    NO_SUCH_ROOM,
    ROOM_EXISTS,
    JanusClient,
    JanusError,
    JanusUnavailable,
    http_client,
    participant_token,
    room_secret,
)
from podium.conference.models import (
    OBSERVER,
    Look,
    MediaRole,
    Placement,
    Seat,
    ServerLoad,
    admit,
    grows,
    intruders,
    place,
    publishers_for,
    resized_load,
    slots,
)
from podium.config import JanusServerConfig
from podium.db import Database, Executor, Row, Unit
from podium.errors import Forbidden, ServiceUnavailable

log = logging.getLogger(__name__)

# How long a placement holds its slots while the room is made on Janus (its calls time out
# after 5 s): long enough for the unit that stores the room, short enough that a crash
# between the two frees the slots soon.
LEASE_SECONDS = 60


def _lock_key(server: str) -> str:
    return f"podium:janus:{server}"


class JanusBackend:
    """The configured Janus servers (possibly none)."""

    name = "janus"

    def __init__(self, servers: list[JanusServerConfig]) -> None:
        self._http = http_client()
        gate = asyncio.Semaphore(CONNECTIONS)
        self.configs = {s.id: s for s in servers}
        self.clients = {
            s.id: JanusClient(
                s.url,
                s.admin_url,
                s.admin_secret,
                s.room_key,
                self._http,
                s.rec_dir,
                gate,
                s.forward_host,
            )
            for s in servers
        }
        self._unknown: dict[str, set[str]] = {}  # rooms seen on a server that no class names

    @property
    def configured(self) -> bool:
        return bool(self.clients)

    async def close(self) -> None:
        await self._http.aclose()

    async def loads(self, db: Executor) -> list[ServerLoad]:
        rows = {r["janus_server"]: r["load"] for r in await db.fetch(queries.SERVER_LOADS)}
        return [ServerLoad(c.id, c.capacity, int(rows.get(c.id, 0))) for c in self.configs.values()]

    def client(self, server: str | None) -> JanusClient:
        client = self.clients.get(server or "")
        if client is None:
            raise ServiceUnavailable(
                f"the class's media server {server!r} is no longer configured",
                code="media_server_unavailable",
            )
        return client

    # -- a room's life ---------------------------------------------------------------------

    async def _lease(
        self, db: Database, room_id: uuid.UUID, reserve: int | None, avoid: str | None
    ) -> str:
        """Choose a server (not `avoid`) and hold the room's slots on it (see the module). A
        server that filled up meanwhile means placing again."""
        for _ in range(len(self.configs) + 1):
            server = place([s for s in await self.loads(db) if s.id != avoid], reserve)
            if server is None:
                break
            async with db.unit() as tx:
                await tx.execute(queries.LOCK_SERVER, _lock_key(server))
                fresh = [s for s in await self.loads(tx) if s.id == server]
                if fresh and place(fresh, reserve) == server:
                    await tx.execute(queries.LEASE, room_id, server, slots(reserve), LEASE_SECONDS)
                    return server
        other = f" other than {avoid!r}" if avoid else ""
        raise ServiceUnavailable(
            f"no media server{other} has {slots(reserve)} free slots for this class",
            code="capacity_exceeded", field="reserve",
        )  # fmt: skip

    async def provision(
        self, tx: Unit, room_id: uuid.UUID, kind: str, reserve: int | None, description: str,
        *, avoid: str | None = None, record: bool = True,
    ) -> Placement:  # fmt: skip
        """Place the room (on a server other than `avoid`) and make it on Janus before the unit
        stores it; 503 when no server fits or answers. When the unit rolls back, the room is
        destroyed and its lease dropped."""
        tx.require_idle("create a room on Janus")
        server = await self._lease(tx.db, room_id, reserve, avoid)
        client = self.clients[server]
        placement = Placement(server, room_secret(client.room_key, str(room_id)))

        async def undo() -> None:
            await self._destroy(room_id, placement)
            await tx.db.execute(queries.DROP_LEASE, room_id)

        try:
            await client.create_room(
                str(room_id), secret=placement.secret or "",
                publishers=publishers_for(kind, reserve), description=description, record=record,
                allowed=[observer_token(client, str(room_id))],
            )  # fmt: skip
        except (JanusUnavailable, JanusError) as exc:
            await undo()
            raise _unavailable("create the room", exc) from None
        tx.on_rollback(undo)
        return placement

    async def resize(
        self, tx: Unit, room_id: uuid.UUID, placement: Placement, kind: str,
        old: int | None, new: int | None,
    ) -> None:  # fmt: skip
        """A new reserve must still fit on the server the room is pinned to; the room's
        publishers follow it on Janus (first, holding nothing; set back if the unit rolls
        back). The check runs in the unit under the server's lock, held until it commits."""
        config = self.configs.get(placement.server or "")
        client = self.clients.get(placement.server or "")
        if config is None or client is None:
            return  # a server no longer configured: the reserve is only recorded
        tx.require_idle("change a room on Janus")
        await self._edit(client, room_id, placement, publishers_for(kind, new))

        async def undo() -> None:
            with contextlib.suppress(ServiceUnavailable):
                await self._edit(client, room_id, placement, publishers_for(kind, old))

        tx.on_rollback(undo)
        await tx.execute(queries.LOCK_SERVER, _lock_key(config.id))
        load = next((s.load for s in await self.loads(tx) if s.id == config.id), 0)
        connected = await tx.fetchval(queries.CONNECTED, room_id)
        if resized_load(load, connected, old, new) > config.capacity:
            raise ServiceUnavailable(
                f"the class's media server has no room for a reserve of {slots(new)}",
                code="capacity_exceeded", field="reserve",
            )  # fmt: skip

    async def _edit(
        self, client: JanusClient, room_id: uuid.UUID, placement: Placement, publishers: int
    ) -> None:
        try:
            await client.videoroom({
                "request": "edit", "room": str(room_id), "secret": placement.secret,
                "new_publishers": publishers,
            })  # fmt: skip
        except (JanusUnavailable, JanusError) as exc:
            raise _unavailable("change the room", exc) from None

    def retire(self, tx: Unit, room_id: uuid.UUID, placement: Placement) -> None:
        """Destroy the room (and any lease it had) once the unit that replaced it commits."""

        async def destroy() -> None:
            await self._destroy(room_id, placement)
            await tx.db.execute(queries.DROP_LEASE, room_id)

        tx.after_commit(destroy)

    async def _destroy(self, room_id: uuid.UUID, placement: Placement) -> None:
        """Best effort: a room that cannot be destroyed now is swept by the check."""
        client = self.clients.get(placement.server or "")
        if client is not None:
            with contextlib.suppress(JanusUnavailable, JanusError):
                await client.destroy_room(str(room_id), placement.secret or "")

    # -- people in a room ------------------------------------------------------------------

    async def admit(
        self, tx: Unit, target: Row, account_id: str, role: MediaRole, seats: Sequence[Row] = ()
    ) -> Seat:
        """Count the participant in (or refuse them when the server is full) and record their
        grant, under the server's lock; once the unit commits, put its token on the room's
        allow-list (a Janus that fails then answers 503; asking again is the same grant).
        `seats`: the replica rooms to seat them in instead of the class's own, in order (the
        first with room and an answering server; all full or away: the last refusal)."""
        refused: ServiceUnavailable | None = None
        for seat in seats:
            try:
                return await self._admit(
                    tx, target, account_id, role, {**dict(target), **dict(seat)}
                )
            except ServiceUnavailable as exc:
                refused = exc
        if refused is not None:
            raise refused
        return await self._admit(tx, target, account_id, role, target)

    async def _admit(
        self, tx: Unit, target: Row, account_id: str, role: MediaRole,
        seat: Row | dict[str, Any],
    ) -> Seat:  # fmt: skip
        tx.require_idle("list a room on Janus")
        client = self.client(seat["janus_server"])
        server, room = seat["janus_server"], str(seat["room_id"])
        people = await self._participants(tx.db, client, room, seat)
        await tx.execute(queries.LOCK_SERVER, _lock_key(server))
        seated = None if seat["room_id"] == target["room_id"] else seat["room_id"]
        grant = await tx.fetchrow(
            queries.UPSERT_GRANT, uuid.uuid4(), target["room_id"], account_id, role.value, seated
        )
        assert grant is not None  # an upsert always answers its row
        if grant["revoked"]:
            raise Forbidden("this account's media access to the class was revoked",
                            code="media_revoked")  # fmt: skip
        counted = await tx.fetchval(queries.CONNECTED, seat["room_id"])
        here = grant["counted"] or str(grant["id"]) in {str(p.get("id")) for p in people}
        # The server's load (a sum over its open rooms) matters only to a join that takes the
        # room past what is counted for it already; most joins are within the reserve.
        load = 0
        if grows(seat["reserve"], counted, len(people), here):
            load = next((s.load for s in await self.loads(tx) if s.id == server), 0)
        joined = admit(load, self.configs[server].capacity, seat["reserve"], counted,
                       len(people), here)  # fmt: skip
        if joined is None:
            raise ServiceUnavailable(
                "the class's media server is full; try again when someone leaves",
                code="capacity_exceeded",
            )
        await tx.execute(queries.SET_CONNECTED, seat["room_id"], joined)
        token = participant_token(client.room_key, room, str(grant["id"]))

        async def let_in() -> None:
            try:
                await client.allow(room, seat["janus_secret"], "add", [token])
            except (JanusUnavailable, JanusError) as exc:
                raise _unavailable("let the participant in", exc) from None

        tx.after_commit(let_in)
        if role is MediaRole.PUBLISHER and target["kind"] == "webinar" and people:
            # The presenter arrives: whoever else took the one publisher slot is hung up now.
            async def clear_the_stage() -> None:
                grants = await self._grants(tx.db, [target["room_id"]])
                await self._look_in(client, room, target["janus_secret"], target["host"],
                                    grants.get(target["room_id"], {}))  # fmt: skip

            tx.after_commit(clear_the_stage)
        return Seat(grant["id"], client.url, token, room, server)

    def hang_up(self, tx: Unit, target: Row, grant_id: uuid.UUID) -> None:
        """Once the unit commits: the grant's token leaves the room's allow-list and its holder
        is kicked. A Janus that does not answer now still sees them hung up by the next check
        (their grant is no longer active)."""
        client = self.clients.get(target["janus_server"] or "")
        if client is None:
            return
        room = str(target["room_id"])

        async def out() -> None:
            try:
                await client.allow(
                    room,
                    target["janus_secret"],
                    "remove",
                    [participant_token(client.room_key, room, str(grant_id))],
                )
                await client.kick(room, target["janus_secret"], str(grant_id))
            except (JanusUnavailable, JanusError) as exc:
                log.warning("revoke in room %s: %s (the next check hangs them up)", room, exc)

        tx.after_commit(out)

    async def kick_accounts(self, tx: Unit, class_id: uuid.UUID, accounts: list[str]) -> None:
        """Once the unit commits, hang the accounts up in the class's media room without
        revoking anything (the lobby moved them out: they come back once admitted)."""
        grants = await tx.fetch(queries.GRANTS_OF, class_id, accounts)

        async def kick() -> None:
            for g in grants:
                client = self.clients.get(g["janus_server"])
                if client is not None:
                    with contextlib.suppress(JanusUnavailable, JanusError):
                        await client.kick(str(g["room_id"]), g["janus_secret"], str(g["id"]))

        if grants:
            tx.after_commit(kick)

    async def _participants(
        self, db: Database, client: JanusClient, room: str, target: Row | dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Who is in the room now; a room Janus lost (restarted since the last check) is
        re-created on the spot, empty."""
        try:
            return await client.participants(room)
        except JanusError as exc:
            if exc.code != NO_SUCH_ROOM:
                raise _unavailable("list the room", exc) from None
        except JanusUnavailable as exc:
            raise _unavailable("list the room", exc) from None
        recreated = {"id": target["room_id"], "janus_server": target["janus_server"],
                     "janus_secret": target["janus_secret"], "kind": target["kind"],
                     "reserve": target["reserve"], "description": target["scope"],
                     "source_room_id": target["source_room_id"]}  # fmt: skip
        grants = await self._grants(db, [target["room_id"]])
        await self._recreate(client, recreated, grants.get(target["room_id"], {}))
        return []

    async def _grants(
        self, db: Executor, room_ids: list[uuid.UUID]
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

    # -- the check -------------------------------------------------------------------------

    async def check(self, db: Database) -> None:
        """Bring each server in line with the database: re-create the rooms of open classes it
        lost (a restart loses them all), destroy those of closed classes, sweep rooms no class
        names once they have been seen unknown twice (one may be mid-create); count who is in
        each room, hang up intruders, and record whether the host is there and whether anyone
        sends (the class lifecycle reads that to end classes)."""
        if not self.configured:
            return
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

    async def _recreate(
        self, client: JanusClient, row: Row | dict[str, Any],
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

    async def status(self, db: Executor) -> list[dict[str, Any]]:
        """Each server: reachable or not, its version, capacity, load, rooms on it, and the
        presenters forwarded into it from other servers."""
        loads = {load.id: load for load in await self.loads(db)}
        forwards = {r["janus_server"]: r["forwards"] for r in await db.fetch(queries.FORWARDS_IN)}
        report = []
        for server, client in self.clients.items():
            entry: dict[str, Any] = {
                "id": server, "url": client.url, "capacity": self.configs[server].capacity,
                "load": loads[server].load, "healthy": False, "version": None, "rooms": None,
                "forwards": forwards.get(server, 0),
            }  # fmt: skip
            try:
                info = await client.info()
                entry.update(healthy=True, version=info.get("version_string"),
                             rooms=len(await client.rooms()))  # fmt: skip
            except (JanusUnavailable, JanusError) as exc:
                entry["error"] = str(exc)
            report.append(entry)
        return report


def observer_token(client: JanusClient, room: str) -> str:
    """The token Podium's observer joins a room with (see `JanusClient.publishers`)."""
    return participant_token(client.room_key, room, OBSERVER)


def _unavailable(doing: str, exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"the media server could not {doing}: {exc}", code="media_server_unavailable"
    )
