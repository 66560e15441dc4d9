"""API shapes of event rooms (the shapes the original event service's web client used)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from msgspec import Struct

from podium.validation import ShortText


class EventCreate(Struct, kw_only=True):
    """An event as a class route takes it (`set` defaults to `type`)."""

    type: ShortText
    data: Any
    set: ShortText | None = None
    label: ShortText | None = None
    attribute: ShortText | None = None
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
