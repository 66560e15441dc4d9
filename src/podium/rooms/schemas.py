"""API shapes of event rooms (the shapes the original event service's web client used)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from msgspec import Struct

from podium.validation import ShortText, TimeBounds, TimeRead


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


class StateItem(Event):
    """An item's newest version in a state read, with when its first version occurred (ns since
    the room opened): the cursor of the next page."""

    original_occurred_at: int


class Room(Struct):
    id: UUID
    audience: str
    class_id: UUID
    classroom_id: UUID  # the original event service's name for the class
    time: TimeRead  # [opened, closed) in unix seconds; null while open-ended
    tags: dict[str, Any] | None
    preserve_history: bool
    locked_types: dict[str, bool]
    # Who may draw (`draw`, `draw_lock`) in a minigroup's or p2p's room besides those who
    # update the class: `{account_id: true}`.
    whiteboard_access: dict[str, bool]
    last_seq: int


class RoomUpdate(Struct):
    """`time`'s end closes (or extends) the room; its start stays when the room opened."""

    time: TimeBounds | None = None
    tags: dict[str, Any] | None = None


class LockedTypesUpdate(Struct):
    locked_types: dict[str, bool]


class WhiteboardAccessUpdate(Struct):
    """Merged into the room's map: `true` gives an account access, `false` takes it away."""

    whiteboard_access: dict[ShortText, bool]


class RoomEnter(Struct):
    """The original client's `enterRoom`: its agent label (`web`, …) makes the agent id
    `<label>.<account_id>`; `broadcast_subscription` is accepted and has no effect (the live
    socket is how events arrive)."""

    agent_label: ShortText
    broadcast_subscription: bool = True


class Agent(Struct):
    """One agent in the room: entered (`POST …/enter`, with its label) or connected to the
    live socket now (label `live`)."""

    agent_id: str  # <label>.<account_id>
    room_id: UUID
    created_at: int  # unix milliseconds
    banned: bool


class AgentUpdate(Struct):
    account_id: ShortText
    value: bool  # true bans, false lifts the ban
    reason: str | None = None


class Ban(Struct):
    account_id: str
    reason: str | None
    banned_by: str
    created_at: int  # unix milliseconds
