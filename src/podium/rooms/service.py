"""Use cases of event rooms: the room, its events, locked types, bans and versioned state."""

from __future__ import annotations

import time
import uuid
from typing import Any

import msgspec

from podium.auth.admission import check_admitted
from podium.auth.models import Principal
from podium.auth.policy import Action, allowed, authorize, sees
from podium.db import Executor, Row, Unit
from podium.errors import Conflict, NotFound, ValidationFailed
from podium.notifications.service import notify
from podium.rooms import queries
from podium.rooms.live import PRESENCE_WINDOW, Hub, announce, ban_message, room_frame, room_message
from podium.rooms.models import (
    MAX_STATE_SETS,
    check_may_draw,
    check_may_post,
    group_state,
)
from podium.rooms.schemas import (
    Agent,
    AgentUpdate,
    Ban,
    Event,
    EventCreate,
    LockedTypesUpdate,
    Room,
    RoomEnter,
    RoomUpdate,
    StateItem,
    WhiteboardAccessUpdate,
)

MAX_DATA_BYTES = 100 * 1024  # an event's data stays under 100 KiB (notes: "Event rooms")
MAX_PAGE = 100
MAX_AGENTS_PAGE = 25  # the original event service's

_encode = msgspec.json.Encoder().encode


def check_data(data: Any) -> None:
    """An event carries a JSON value (object, array, string, number or boolean): null is refused,
    as the original event service did (a value, or nothing to post)."""
    if data is None:
        raise ValidationFailed("an event's data must be a JSON value, not null", field="data",
                               code="data_required")  # fmt: skip
    if len(_encode(data)) >= MAX_DATA_BYTES:
        raise ValidationFailed(
            f"an event's data must be under {MAX_DATA_BYTES // 1024} KiB",
            field="data",
            code="data_too_large",
        )


def _room(row: Row) -> Room:
    return Room(
        id=row["id"],
        audience=row["audience"],
        class_id=row["class_id"],
        classroom_id=row["classroom_id"],
        time=[row["opened_at"], row["closed_at"]],
        tags=row["tags"],
        preserve_history=row["preserve_history"],
        locked_types=row["locked_types"],
        whiteboard_access=row["whiteboard_access"],
        last_seq=row["last_seq"],
    )


def _room_not_found(room_id: uuid.UUID) -> NotFound:
    return NotFound(f"no event room {room_id} in this audience", code="room_not_found")


async def store_event(
    tx: Unit, hub: Hub, room_id: uuid.UUID, principal: Principal, event: EventCreate,
    *, alone: bool = False,
) -> Event:  # fmt: skip
    """Store one event in an open room; once the unit commits, its live subscribers get it.
    `alone`: the event is the unit's whole write (a post; see `Unit.sole`)."""
    check_data(event.data)
    row = await (tx.sole if alone else tx.fetchrow)(
        queries.INSERT_EVENT, room_id, uuid.uuid4(), event.type, event.set or event.type,
        event.label, event.attribute, event.data, event.removed, principal.account_id,
    )  # fmt: skip
    if row is None:
        raise Conflict("the event room is closed; it takes no more events", code="room_closed")
    stored = Event(**dict(row))
    tx.after_commit(lambda: announce(hub, room_id, stored))
    return stored


async def read_room(db: Executor, principal: Principal, room_id: uuid.UUID) -> Room:
    authorize(principal, Action.READ_CLASS)
    row = await db.fetchrow(queries.SELECT_ROOM, room_id, principal.audience)
    if row is None or not sees(principal, row["class_id"]):
        raise _room_not_found(room_id)
    return _room(row)


async def update_room(
    db: Executor, principal: Principal, room_id: uuid.UUID, data: RoomUpdate, fields: set[str]
) -> Room:
    """Close or extend the room (`time`'s end), change its tags. A closed room stays closed."""
    authorize(principal, Action.UPDATE_CLASS)
    if not fields & {"time", "tags"}:
        raise ValidationFailed("give time or tags", field="body", code="nothing_to_update")
    end = data.time[1] if data.time else None
    row = await db.fetchrow(
        queries.UPDATE_ROOM, room_id, principal.audience, "time" in fields, end,
        "tags" in fields, data.tags,
    )  # fmt: skip
    if row is None:
        await read_room(db, principal, room_id)  # 404 when there is no such room
        raise Conflict("the event room is closed; its time can no longer change",
                       code="room_closed")  # fmt: skip
    return _room(row)


async def post_event(
    tx: Unit, hub: Hub, principal: Principal, room_id: uuid.UUID, event: EventCreate
) -> Event | None:
    """A participant's post: not when banned, a locked type only for moderators, not in a
    closed room. A non-persistent event is checked, delivered live and not stored (None)."""
    authorize(principal, Action.POST_EVENT)
    row = await tx.db.fetchrow(
        queries.SELECT_ROOM_FOR_POST, room_id, principal.audience, principal.account_id
    )
    if row is None or not sees(principal, row["class_id"]):
        raise _room_not_found(room_id)
    may_update = allowed(principal, Action.UPDATE_CLASS)
    check_may_post(event.type, row["locked_types"], may_update, row["banned"])
    check_may_draw(event.type, row["checks_whiteboard"], may_update, row["whiteboard_access"],
                   principal.account_id)  # fmt: skip
    await check_admitted(tx.db, principal, row["class_id"])
    if row["closed"]:
        raise Conflict("the event room is closed; it takes no more events", code="room_closed")
    return await store_or_relay(tx, hub, principal, row["class_id"], room_id, event,
                                row["opened_at"])  # fmt: skip


async def store_or_relay(
    tx: Unit, hub: Hub, principal: Principal, class_id: uuid.UUID, room_id: uuid.UUID,
    event: EventCreate, opened_at: float | None = None,
) -> Event | None:  # fmt: skip
    """Store the event (delivered live once the unit commits); a non-persistent one is only
    delivered live (None). A claim is also told to the tenant (`event.claim`), in the unit."""
    stored = None
    if event.is_persistent:
        stored = await store_event(tx, hub, room_id, principal, event, alone=not event.is_claim)
    else:
        check_data(event.data)
        since_open = None if opened_at is None else int((time.time() - opened_at) * 1e9)
        tx.after_commit(
            lambda: announce(hub, room_id, None, event, principal.account_id, since_open)
        )
    if event.is_claim:
        await notify(tx, principal.audience, "event.claim",
                     {"class_id": class_id, "room_id": room_id,
                      "event": stored if stored is not None else event}, class_id)  # fmt: skip
    return stored


async def set_locked_types(
    tx: Unit, hub: Hub, principal: Principal, room_id: uuid.UUID, data: LockedTypesUpdate
) -> Room:
    """Merge into the room's locked types; subscribers and the tenant (`room.update`) are told.
    The tenant, or the owners and moderators of the room's class, may."""
    await _managed_room(tx, principal, room_id)
    return await _changed(tx, hub, principal, room_id, queries.MERGE_LOCKED_TYPES,
                          data.locked_types)  # fmt: skip


async def set_whiteboard_access(
    tx: Unit, hub: Hub, principal: Principal, room_id: uuid.UUID, data: WhiteboardAccessUpdate
) -> Room:
    """Merge into who may draw; told as locked types are. Only a room that checks access (a
    minigroup's, a p2p's) takes it: elsewhere it would change nothing, and the original refused
    it."""
    if not (await _managed_room(tx, principal, room_id))["checks_whiteboard"]:
        raise ValidationFailed(
            "this room does not check whiteboard access (only a minigroup's or a p2p's does)",
            field="whiteboard_access", code="whiteboard_access_not_checked",
        )  # fmt: skip
    return await _changed(tx, hub, principal, room_id, queries.MERGE_WHITEBOARD_ACCESS,
                          data.whiteboard_access)  # fmt: skip


async def _managed_room(tx: Unit, principal: Principal, room_id: uuid.UUID) -> Row:
    """The room, when the caller may change it: the tenant, or its class's owners and
    moderators (404 outside the caller's audience or classes)."""
    row = await tx.fetchrow(queries.SELECT_ROOM, room_id, principal.audience)
    authorize(principal, Action.READ_CLASS)
    if row is None or not sees(principal, row["class_id"]):
        raise _room_not_found(room_id)
    authorize(principal, Action.UPDATE_CLASS, class_id=row["class_id"])
    return row


async def _changed(
    tx: Unit, hub: Hub, principal: Principal, room_id: uuid.UUID, merge: str, value: Any
) -> Room:
    """Merge `value` into the room by `merge` (room $1, audience $2, value $3); once the unit
    commits, live subscribers get the room, and the tenant is told (`room.update`)."""
    row = await tx.fetchrow(merge, room_id, principal.audience, value)
    if row is None:
        raise _room_not_found(room_id)
    room = _room(row)
    await notify(tx, principal.audience, "room.update", room, room.class_id)
    tx.after_commit(lambda: hub.publish(room_id, room_message(room_frame(room))))
    return room


async def enter_room(
    tx: Unit, hub: Hub, principal: Principal, room_id: uuid.UUID, data: RoomEnter
) -> Agent:
    """Count the caller among the room's agents as `<label>.<account>` (events still arrive
    over the live socket); its subscribers get `{"message": "enter", "agent": …}`."""
    room = await read_room(tx, principal, room_id)
    await check_admitted(tx.db, principal, room.class_id)
    row = await tx.sole(queries.ENTER, room_id, principal.account_id, data.agent_label)
    if row is None:
        raise Conflict("the event room is closed; nobody enters it", code="room_closed")
    agent = Agent(**dict(row))
    frame = _encode({"message": "enter", "agent": agent}).decode()
    tx.after_commit(lambda: hub.publish(room_id, room_message(frame)))
    return agent


async def list_agents(
    db: Executor, principal: Principal, room_id: uuid.UUID, offset: int, limit: int
) -> list[Agent]:
    await read_room(db, principal, room_id)  # 404 unless in the caller's audience
    rows = await db.fetch(queries.LIST_AGENTS, room_id, PRESENCE_WINDOW, offset,
                          min(limit, MAX_AGENTS_PAGE))  # fmt: skip
    return [Agent(**dict(row)) for row in rows]


async def set_ban(
    tx: Unit, hub: Hub, principal: Principal, room_id: uuid.UUID, data: AgentUpdate
) -> None:
    """Ban (the account's live sockets in the room close at once, in every process) or unban;
    the tenant is told (`room.ban`)."""
    authorize(principal, Action.UPDATE_CLASS)
    room = await read_room(tx, principal, room_id)
    await apply_ban(tx, hub, room_id, data.account_id, data.value, data.reason,
                    principal.account_id)  # fmt: skip
    await notify(tx, principal.audience, "room.ban",
                 {"room_id": room_id, "account_id": data.account_id, "value": data.value,
                  "reason": data.reason}, room.class_id)  # fmt: skip


async def apply_ban(
    tx: Unit, hub: Hub, room_id: uuid.UUID, account_id: str, value: bool, reason: str | None,
    by: str,
) -> None:  # fmt: skip
    """Ban the account from the room (once the unit commits, its live sockets there close, in
    every process) or lift the ban. The caller has judged who may."""
    if value:
        await tx.execute(queries.BAN, room_id, account_id, reason, by)
        tx.after_commit(lambda: hub.publish(room_id, ban_message(account_id)))
    else:
        await tx.execute(queries.UNBAN, room_id, account_id)


async def list_bans(db: Executor, principal: Principal, room_id: uuid.UUID) -> list[Ban]:
    authorize(principal, Action.UPDATE_CLASS)
    await read_room(db, principal, room_id)
    return [Ban(**dict(row)) for row in await db.fetch(queries.SELECT_BANS, room_id)]


async def list_events(
    db: Executor,
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
    room = await read_room(db, principal, room_id)  # 404 unless in the caller's audience
    await check_admitted(db, principal, room.class_id)  # the lobby keeps the chat from them
    by_time = last_created_at is not None and last_seq is None  # the exact cursor wins
    rows = await db.fetch(
        queries.list_events(forward, by_time), room_id, type, set, label, attribute, last_seq,
        last_created_at if by_time else None, limit,
    )  # fmt: skip
    return [Event(**dict(row)) for row in rows]


async def read_state(
    db: Executor,
    principal: Principal,
    room_id: uuid.UUID,
    sets: list[str],
    occurred_at: int | None = None,
    attribute: str | None = None,
    original_occurred_at: int | None = None,
    limit: int = MAX_PAGE,
) -> dict[str, Any]:
    """Per set, its latest event (simple set) or the latest event of each label (collection,
    newest first), as of `occurred_at`, those whose newest version has `attribute`. With one
    set asked, items page: `original_occurred_at` (the last item's) gives the items that began
    before it, and `has_next` says more remain."""
    if not sets:
        raise ValidationFailed("name at least one set", field="sets")
    if len(sets) > MAX_STATE_SETS:
        raise ValidationFailed(f"at most {MAX_STATE_SETS} sets", field="sets")
    room = await read_room(db, principal, room_id)  # 404 unless in the caller's audience
    await check_admitted(db, principal, room.class_id)
    one = len(sets) == 1
    rows = await db.fetch(
        queries.SELECT_STATE, room_id, sets, occurred_at, attribute, original_occurred_at,
        limit + 1 if one else None,
    )  # fmt: skip
    items = [msgspec.structs.asdict(StateItem(**dict(row))) for row in rows]
    state = group_state(items[:limit] if one else items, sets)
    if one:
        state["has_next"] = len(items) > limit
    return state


async def tell_closed(tx: Unit, room_id: uuid.UUID) -> None:
    """Once the unit commits, the room's live subscribers get the room as it is now (closed:
    its time has an end), so a page shows that the class ended without asking. Through the hub
    of the unit's own database (a hook runs with the unit only)."""
    hub = Hub.of_database(tx.db)
    if hub is None:  # no live sockets in this process (a script ending classes)
        return
    row = await tx.fetchrow(queries.SELECT_ROOM_BY_ID, room_id)
    if row is not None:
        room = _room(row)
        tx.after_commit(lambda: hub.publish(room_id, room_message(room_frame(room))))
