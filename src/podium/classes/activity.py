"""What happens inside a class, addressed through the class: its events and whiteboard, saved
viewing positions, class properties, and the recording download."""

from __future__ import annotations

import uuid
from typing import Any

from podium.auth.models import Principal
from podium.auth.policy import Action, authorize
from podium.classes import queries
from podium.classes.service import ClassRef, existing
from podium.db import Database
from podium.errors import NotFound
from podium.rooms.live import Hub, announce
from podium.rooms.schemas import EventCreate
from podium.rooms.service import check_data, notify_claim, store_claimed, store_event

# A saved position is clamped into one day (notes: "Small routes").
MAX_POSITION = 86_400


async def post_event(
    db: Database, hub: Hub, principal: Principal, ref: ClassRef, event: EventCreate
) -> None:
    """Store an event in the class's current event room (those who may update the class) and
    deliver it live; a non-persistent event is delivered live only."""
    authorize(principal, Action.UPDATE_CLASS)
    found = await existing(db, principal, ref)
    room_id = found["event_room_id"]
    if event.is_persistent:
        stored = await store_claimed(db, principal, found["id"], room_id, event)
        await announce(hub, room_id, stored)
    else:
        check_data(event.data)
        if event.is_claim:
            await notify_claim(db, principal, found["id"], room_id, event)
        await announce(hub, room_id, None, event, principal.account_id)


def whiteboard_events() -> list[EventCreate]:
    """The two events that make a whiteboard: a document and its first page."""
    label = str(uuid.uuid4())
    page_set = f"document_page_{label}"
    return [
        EventCreate(
            type="document",
            set="document",
            label=label,
            data={"title": "whiteboard", "page": 1, "published": True, "url": "about:whiteboard"},
        ),
        EventCreate(
            type="document_page",
            set=page_set,
            label=f"{page_set}_1",
            data={"page": 1, "title": ""},
        ),
    ]


async def create_whiteboard(db: Database, hub: Hub, principal: Principal, ref: ClassRef) -> None:
    authorize(principal, Action.UPDATE_CLASS)
    async with db.transaction() as conn:
        room_id = (await existing(conn, principal, ref))["event_room_id"]
        stored = [await store_event(conn, room_id, principal, e) for e in whiteboard_events()]
    for event in stored:  # after the commit
        await announce(hub, room_id, event)


def clamp_position(position: int) -> int:
    return max(0, min(MAX_POSITION, position))


async def save_position(db: Database, principal: Principal, ref: ClassRef, position: int) -> None:
    """One position per (class, account); the last write wins."""
    authorize(principal, Action.READ_CLASS)
    saved = await db.fetchval(
        queries.SAVE_POSITION[ref.by_scope], ref.key, principal.audience, ref.kind.value,
        principal.account_id, clamp_position(position),
    )  # fmt: skip
    if saved is None:
        raise ref.not_found()


async def read_property(db: Database, principal: Principal, ref: ClassRef, name: str) -> Any:
    authorize(principal, Action.READ_CLASS)
    row = await db.fetchrow(
        queries.SELECT_PROPERTY[ref.by_scope], ref.key, principal.audience, ref.kind.value, name
    )
    if row is None:
        raise ref.not_found()
    if not row["present"]:
        raise NotFound(f"no class property {name!r}", code="class_property_not_found")
    return row["value"]


async def update_property(
    db: Database, principal: Principal, ref: ClassRef, name: str, value: Any
) -> dict[str, Any]:
    """Set one property, merged atomically into the map; answers the whole map."""
    authorize(principal, Action.UPDATE_CLASS)
    merged: dict[str, Any] | None = await db.fetchval(
        queries.MERGE_PROPERTY[ref.by_scope], ref.key, principal.audience, ref.kind.value,
        name, value,
    )  # fmt: skip
    if merged is None:
        raise ref.not_found()
    return merged


async def download(db: Database, principal: Principal, ref: ClassRef) -> str:
    """A signed link to the class's source recording. Source media of everyone in the class is
    the tenant's (and its moderators') to fetch, so this needs the right to update the class."""
    authorize(principal, Action.UPDATE_CLASS)
    await existing(db, principal, ref)
    # Recordings come with the recording pipeline; until then no class has one.
    raise NotFound(f"the {ref.kind.value} has no recording yet", code="recording_not_found")
