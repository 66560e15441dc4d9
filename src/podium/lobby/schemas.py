"""API shapes of the lobby's waiting queue (the lobby's own state is part of the class read:
`classes.schemas.Lobby`; a participant's standing is `auth.admission.Standing`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct


class Waiting(Struct):
    participant_id: UUID
    display_name: str
    picture: str | None
    role: str
    waiting_since: int  # unix milliseconds
    denied: bool


class Admission(Struct, kw_only=True):
    """Name participants, or `all: true` for everyone waiting."""

    participant_ids: Annotated[list[UUID], Meta(max_length=1000)] | None = None
    all: bool = False


class Denial(Struct):
    participant_ids: Annotated[list[UUID], Meta(min_length=1, max_length=1000)]


class LobbyMessage(Struct):
    message: Annotated[str, Meta(max_length=2000)] | None


class Admitted(Struct):
    participant_ids: list[UUID]
