"""API shapes of classes (msgspec Structs; Litestar validates requests against them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

# Unix seconds up to the year 9999 (beyond that PostgreSQL's timestamps cannot follow).
UnixTime = Annotated[int, Meta(ge=0, le=253_402_300_799)]
TimeBounds = tuple[UnixTime | None, UnixTime | None]
Scope = Annotated[str, Meta(min_length=1, max_length=255)]
Audience = Annotated[str, Meta(min_length=1, max_length=255)]
Title = Annotated[str, Meta(min_length=1, max_length=1000)]
AccountId = Annotated[str, Meta(min_length=1, max_length=255)]
Reserve = Annotated[int, Meta(ge=0, le=2_147_483_647)]


class WebinarCreate(Struct):
    title: Title
    scope: Scope
    audience: Audience
    time: TimeBounds | None = None
    tags: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None
    preserve_history: bool = True
    reserve: Reserve | None = None
    backend: Literal["janus", "none"] | None = None
    locked_chat: bool = True
    host: AccountId | None = None


class ClassUpdate(Struct):
    """All optional, at least one required; `null` clears `host` or `tags`."""

    time: TimeBounds | UnsetType = UNSET
    reserve: Reserve | UnsetType | None = UNSET
    host: AccountId | UnsetType | None = UNSET
    title: Title | UnsetType = UNSET
    tags: dict[str, Any] | UnsetType | None = UNSET

    def changes(self) -> dict[str, Any]:
        return {f: v for f in self.__struct_fields__ if (v := getattr(self, f)) is not UNSET}


class RealTime(Struct, omit_defaults=True):
    event_room_id: UUID
    conference_room_id: UUID
    host: str | None = None


class ClassRead(Struct):
    class_id: UUID
    id: str  # the tenant's scope, as the original answered
    kind: str
    audience: str
    scope: str
    title: str | None
    real_time: RealTime
    on_demand: list[dict[str, Any]]
    status: str
    time: tuple[int | None, int | None]
    tags: dict[str, Any] | None
    reserve: int | None
    preserve_history: bool
    locked_chat: bool
    backend: str
    properties: dict[str, Any]
    account_properties: dict[str, Any]
