"""API shapes of event rooms (the shapes the original event service's web client used)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from msgspec import Meta, Struct

EventType = Annotated[str, Meta(min_length=1, max_length=255)]
Name = Annotated[str, Meta(min_length=1, max_length=255)]


class EventCreate(Struct, kw_only=True):
    """An event as a class route takes it (`set` defaults to `type`)."""

    type: EventType
    data: Any
    set: Name | None = None
    label: Name | None = None
    attribute: Name | None = None
    is_claim: bool = False
    is_persistent: bool = True
    removed: bool = False


class Event(Struct):
    id: UUID
    room_id: UUID
    seq: int  # the room's gapless sequence number
    type: str
    set: str
    label: str | None
    attribute: str | None
    data: Any
    removed: bool
    occurred_at: int  # nanoseconds since the room opened
    created_by: str
    created_at: int  # unix milliseconds
