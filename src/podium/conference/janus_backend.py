"""Backend `janus`: the pool of Janus servers. Where a room goes (placement by reserve), its life
on Janus (create, resize, destroy), admitting participants against capacity (in the class's room
or one of its replicas), hanging them up. The check that keeps the servers in line with the
database is janus_rooms.py.

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
    JanusClient,
    JanusError,
    JanusUnavailable,
    http_client,
    participant_token,
    room_secret,
)
from podium.conference.janus_rooms import (
    PoolCheck,
    grants_of,
    look_in,
    observer_token,
    recreate,
)
from podium.conference.models import (
    MediaRole,
    Placement,
    Seat,
    ServerLoad,
    admit,
    grows,
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
        self._check = PoolCheck()

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
                grants = await grants_of(tx.db, [target["room_id"]])
                await look_in(client, room, target["janus_secret"], target["host"],
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
        grants = await grants_of(db, [target["room_id"]])
        await recreate(client, recreated, grants.get(target["room_id"], {}))
        return []

    async def check(self, db: Database) -> None:
        """The pool's check (janus_rooms.PoolCheck), over the configured servers."""
        if self.configured:
            await self._check.run(db, self.clients)

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


def _unavailable(doing: str, exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"the media server could not {doing}: {exc}", code="media_server_unavailable"
    )
