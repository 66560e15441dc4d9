"""Conference rooms: which media backend a class gets.

Without a Janus pool every class gets backend `none` (everything but media works); asking for
`janus` then is refused before anything is made. With a pool, a class's room is placed on the
most loaded server that still fits its reserve and created there before the class is stored;
if the store fails, the room is destroyed again.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from dataclasses import dataclass

import httpx

from podium.conference import queries
from podium.conference.janus import JanusClient, JanusError, JanusUnavailable
from podium.conference.models import ServerLoad, place, publishers_for, slots
from podium.config import JanusServerConfig
from podium.db import Database
from podium.errors import ServiceUnavailable


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

    @property
    def configured(self) -> bool:
        return bool(self.clients)

    async def close(self) -> None:
        await self._http.aclose()

    async def loads(self, db: Database) -> list[ServerLoad]:
        rows = {r["janus_server"]: r["load"] for r in await db.fetch(queries.SERVER_LOADS)}
        return [ServerLoad(c.id, c.capacity, int(rows.get(c.id, 0))) for c in self.configs.values()]

    async def create_room(
        self, db: Database, room_id: uuid.UUID, kind: str, reserve: int | None, description: str
    ) -> JanusRoom:
        """Place and create the room on Janus; 503 when no server fits or answers."""
        server = place(await self.loads(db), reserve)
        if server is None:
            raise ServiceUnavailable(
                f"no media server has {slots(reserve)} free slots for this class",
                code="capacity_exceeded", field="reserve",
            )  # fmt: skip
        secret = secrets.token_urlsafe(18)
        try:
            await self.clients[server].create_room(
                str(room_id), secret=secret, publishers=publishers_for(kind, reserve),
                description=description, record=True,
            )  # fmt: skip
        except (JanusUnavailable, JanusError) as exc:
            raise ServiceUnavailable(
                f"the media server could not create the room: {exc}",
                code="media_server_unavailable",
            ) from None
        return JanusRoom(server, secret)

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
