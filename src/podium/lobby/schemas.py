"""API shapes of the lobby."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct


class Lobby(Struct, frozen=True):
    state: int  # 0: no lobby; 1: lobby
    timer: int | None = None  # unix seconds when it opens by itself
    message: str | None = None  # shown to those waiting


class Standing(Struct):
    """A participant's place with the lobby (answered to POST /api/v1/join)."""

    state: int
    timer: int | None
    message: str | None
    blocked: bool  # held back: chat, participant list and media answer 412
    waiting: bool
    denied: bool


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
