"""The conference backends a class's media room can live on, chosen by configuration: `none`
(no media: everything but media works) and `janus` (the Janus pool, `janus_backend.py`). Both
implement `Backend`; services ask `Media` for the one a class chose or is stored on and never
test backend names themselves.

Every method that reaches an outside system takes the use case's unit: calls that must come
before the data is stored run while the unit is idle (`tx.require_idle`), with a compensation
for when the unit rolls back; calls that follow the data run after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from litestar.datastructures import State

from podium.conference.forwarding import forward
from podium.conference.janus_backend import JanusBackend
from podium.conference.models import MediaRole, Placement, Seat
from podium.config import Settings
from podium.db import Database, Row, Unit
from podium.errors import Conflict, ServiceUnavailable
from podium.jobs import JobRegistry


class Backend(Protocol):
    @property
    def name(self) -> str: ...

    async def provision(
        self, tx: Unit, room_id: uuid.UUID, kind: str, reserve: int | None, description: str,
        *, avoid: str | None = None, record: bool = True,
    ) -> Placement:  # fmt: skip
        """Make the room (on a server other than `avoid`) before the unit stores it (undone if
        the unit rolls back)."""
        ...

    async def resize(
        self, tx: Unit, room_id: uuid.UUID, placement: Placement, kind: str,
        old: int | None, new: int | None,
    ) -> None:  # fmt: skip
        """Follow a new reserve (refused with 503 when it does not fit; undone on rollback)."""
        ...

    def retire(self, tx: Unit, room_id: uuid.UUID, placement: Placement) -> None:
        """Remove a room the unit replaces, once it commits."""
        ...

    async def admit(
        self, tx: Unit, target: Row, account_id: str, role: MediaRole, seats: Sequence[Row] = ()
    ) -> Seat:
        """Count the participant in and hand out their seat, in the first of `seats` (replica
        rooms) with room, else in the class's own room (let in once the unit commits)."""
        ...

    def hang_up(self, tx: Unit, target: Row, grant_id: uuid.UUID) -> None:
        """Once the unit commits, the grant's token leaves the room and its holder is out."""
        ...

    async def kick_accounts(self, tx: Unit, class_id: uuid.UUID, accounts: list[str]) -> None:
        """Once the unit commits, hang the accounts up without revoking anything."""
        ...


NOWHERE = Placement()


@dataclass(frozen=True, slots=True)
class NoMedia:
    """Backend `none`: the class has an event room and everything else, but no media room."""

    name: str = "none"

    async def provision(
        self, tx: Unit, room_id: uuid.UUID, kind: str, reserve: int | None, description: str,
        *, avoid: str | None = None, record: bool = True,
    ) -> Placement:  # fmt: skip
        return NOWHERE

    async def resize(
        self, tx: Unit, room_id: uuid.UUID, placement: Placement, kind: str,
        old: int | None, new: int | None,
    ) -> None:  # fmt: skip
        return None

    def retire(self, tx: Unit, room_id: uuid.UUID, placement: Placement) -> None:
        return None

    async def admit(
        self, tx: Unit, target: Row, account_id: str, role: MediaRole, seats: Sequence[Row] = ()
    ) -> Seat:
        raise Conflict(
            "this class has no media room (its backend is `none`)",
            code="no_media_room", field="backend",
        )  # fmt: skip

    def hang_up(self, tx: Unit, target: Row, grant_id: uuid.UUID) -> None:
        return None

    async def kick_accounts(self, tx: Unit, class_id: uuid.UUID, accounts: list[str]) -> None:
        return None


class Media:
    """The backends this Podium has: `none` always, `janus` with its configured servers (none
    configured: a new class gets `none`, and asking for `janus` is refused)."""

    def __init__(self, janus: JanusBackend) -> None:
        self.none = NoMedia()
        self.janus = janus
        self._by_name: dict[str, Backend] = {"none": self.none, "janus": janus}

    @classmethod
    def from_settings(cls, settings: Settings) -> Media:
        return cls(JanusBackend(settings.janus_urls))

    def choose(self, asked: str | None) -> Backend:
        """The backend a new class gets: the one asked for, else Janus when configured."""
        if asked == "janus" and not self.janus.configured:
            raise ServiceUnavailable(
                "backend `janus` was asked for but this Podium has no Janus media server "
                "configured (PODIUM_JANUS_URLS); ask for backend `none` (everything but media "
                "works)",
                field="backend",
                code="media_server_unavailable",
            )
        if asked is None:
            return self.janus if self.janus.configured else self.none
        return self._by_name[asked]

    def of(self, stored: str) -> Backend:
        """The backend a stored room is on."""
        return self._by_name.get(stored, self.none)

    def register_jobs(
        self, registry: JobRegistry, db: Database, check_seconds: float, forward_seconds: float
    ) -> None:
        """The Janus check, every `check_seconds`, and the forwarding of presenters to replica
        rooms, every `forward_seconds`, in every process (both are safe twice over)."""
        if self.janus.configured:
            registry.every("media.check", check_seconds, lambda: self.janus.check(db))
            registry.every("media.forward", forward_seconds, lambda: forward(db, self.janus))

    async def close(self) -> None:
        await self.janus.close()


def media_of(state: State) -> Media:
    """The conference backends, kept by the app (`app.state.media`)."""
    found: Media = state.media
    return found
