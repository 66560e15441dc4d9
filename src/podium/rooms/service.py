"""Use cases of event rooms: store an event, list events."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from podium.auth.models import Principal
from podium.db import Database
from podium.errors import Conflict, NotFound, ValidationFailed
from podium.rooms import queries
from podium.rooms.schemas import Event, EventCreate

MAX_DATA_BYTES = 100 * 1024  # an event's data stays under 100 KiB (notes: "Event rooms")
MAX_PAGE = 100

_encode = msgspec.json.Encoder().encode


def check_data(data: Any) -> None:
    if len(_encode(data)) >= MAX_DATA_BYTES:
        raise ValidationFailed(
            f"an event's data must be under {MAX_DATA_BYTES // 1024} KiB",
            field="data",
            code="data_too_large",
        )


async def store_event(
    ex: Any, room_id: uuid.UUID, principal: Principal, event: EventCreate
) -> Event:
    """Store one event in an open room (`ex`: the database, or a connection in a transaction)."""
    check_data(event.data)
    row = await ex.fetchrow(
        queries.INSERT_EVENT,
        room_id,
        uuid.uuid4(),
        event.type,
        event.set or event.type,
        event.label,
        event.attribute,
        event.data,
        event.removed,
        principal.account_id,
    )
    if row is None:
        raise Conflict("the event room is closed; it takes no more events", code="room_closed")
    return Event(**dict(row))


async def room_audience(db: Database, room_id: uuid.UUID, principal: Principal) -> None:
    """The room exists in the caller's audience (another audience's room answers 404)."""
    row = await db.fetchrow(queries.SELECT_ROOM, room_id)
    if row is None or row["audience"] != principal.audience:
        raise NotFound(f"no event room {room_id} in this audience", code="room_not_found")


async def list_events(
    db: Database,
    principal: Principal,
    room_id: uuid.UUID,
    *,
    type: str | None = None,
    set: str | None = None,
    label: str | None = None,
    attribute: str | None = None,
    last_seq: int | None = None,
    last_created_at: int | None = None,
    forward: bool = True,
    limit: int = MAX_PAGE,
) -> list[Event]:
    await room_audience(db, room_id, principal)
    rows = await db.fetch(
        queries.list_events(forward),
        room_id,
        type,
        set,
        label,
        attribute,
        last_seq,
        last_created_at,
        limit,
    )
    return [Event(**dict(row)) for row in rows]
