"""Use cases of classes: create, read, update, recreate. Plain values in, API shapes out.

Every class answer, whatever the route (create, GET, PUT/PATCH, recreate, the lobby's and SIP's
answers), is built by `class_answer` from the class's columns, the settings and the caller.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from podium import idempotency
from podium.auth.admission import opens_at
from podium.auth.models import Principal
from podium.auth.policy import Action, authorize, sees
from podium.classes import lifecycle, queries
from podium.classes.models import Kind, Status, check_time, locked_types, status_of
from podium.classes.schemas import (
    ClassCreate,
    ClassRead,
    ClassRecreate,
    ClassUpdate,
    Lobby,
    RealTime,
    Recording,
    Sip,
)
from podium.conference.backends import Media
from podium.conference.models import Placement, pick_turn_host
from podium.config import Settings
from podium.db import Executor, Row, Unit
from podium.errors import Conflict, NotFound, ValidationFailed
from podium.idempotency import Outcome
from podium.rooms.live import Hub
from podium.rooms.schemas import EventCreate
from podium.rooms.service import store_event


@dataclass(frozen=True, slots=True)
class ClassRef:
    """A class addressed by id, or by its scope within the caller's audience."""

    kind: Kind
    id: uuid.UUID | None = None
    scope: str | None = None

    @property
    def by_scope(self) -> bool:
        return self.id is None

    @property
    def key(self) -> uuid.UUID | str | None:
        return self.scope if self.id is None else self.id

    def not_found(self) -> NotFound:
        named = str(self.id) if self.id is not None else f"with scope {self.scope!r}"
        return NotFound(
            f"no {self.kind.value} {named} in this audience", code=f"{self.kind.value}_not_found"
        )


def class_answer(row: Mapping[str, Any], settings: Settings) -> ClassRead:
    """The one shape of a class, from its columns (SELECT_CLASS's, or what a create wrote)."""
    status = status_of(row["ends_at"], time.time(), recording_reached(row))
    return ClassRead(
        class_id=row["id"],
        id=row["scope"],
        kind=row["kind"],
        audience=row["audience"],
        scope=row["scope"],
        title=row["title"],
        real_time=RealTime(row["event_room_id"], row["conference_room_id"], row["host"]),
        on_demand=on_demand(row),
        status=status.value,
        time=[row["starts_at"], row["ends_at"]],
        tags=row["tags"],
        reserve=row["reserve"],
        preserve_history=row["preserve_history"],
        locked_chat=row["locked_chat"],
        backend=row["backend"],
        properties=row["properties"],
        account_properties=row["account_properties"],
        saved_position=row["saved_position"],
        position=row["saved_position"] if status is Status.TRANSCODED else None,
        turn_host=pick_turn_host(row["kind"], row["scope"], settings.turn_hosts),
        timed_out=row["timed_out"],
        lobby=Lobby(row["lobby_state"], opens_at(row), row["lobby_message"]),
        sip=Sip(row["sip_state"], row["sip_dialin_id"], settings.sip_dialin_number)
        if row["sip_state"]
        else None,
        record=row["record"],
        recording=recording(row),
    )


def recording_reached(row: Mapping[str, Any]) -> str | None:
    """What the class's recording reached, for its status (notes: transcoded > adjusted >
    uploaded); None without one (no production, or a run with no media)."""
    if row["production_id"] is None or row["original_stream_id"] is None:
        return None
    return "transcoded" if row["transcoded"] else "adjusted" if row["adjusted"] else "uploaded"


def recording(row: Mapping[str, Any]) -> Recording | None:
    """Where the class's recording is in its pipeline (a failure with its reason)."""
    if row["production_id"] is None:
        return None
    step = row["recording_step"]
    if row["recording_failed"]:
        return Recording("failed", step, row["recording_error"])
    if step == "done":
        return Recording("ready" if row["original_stream_id"] else "empty")
    return Recording("processing", step, row["recording_error"])


def on_demand(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Spec 001's versions, once the recording is adjusted: original first, then modified
    (with the dump of its events once written)."""
    if row["production_id"] is None or not row["adjusted"]:
        return []
    modified: dict[str, Any] = {
        "version": "modified", "event_room_id": row["modified_room_id"],
        "stream_id": row["stream_id"] or row["original_stream_id"], "tags": row["tags"],
    }  # fmt: skip
    if row["room_events_uri"]:
        modified["room_events_uri"] = row["room_events_uri"]
    return [
        {"version": "original", "event_room_id": row["original_room_id"],
         "stream_id": row["original_stream_id"], "tags": row["tags"]},
        modified,
    ]  # fmt: skip


async def read_class(
    db: Executor, settings: Settings, principal: Principal, ref: ClassRef,
    class_keys: list[str] | None = None, account_keys: list[str] | None = None,
) -> ClassRead:  # fmt: skip
    """The class as the caller sees it, with the class and account properties asked for."""
    authorize(principal, Action.READ_CLASS)
    row = await db.fetchrow(
        queries.SELECT_CLASS[ref.by_scope], ref.key, principal.audience, ref.kind.value,
        class_keys or [], account_keys or [], principal.account_id,
    )  # fmt: skip
    if row is None and ref.kind is Kind.WEBINAR:
        replica = await db.fetchrow(queries.SELECT_REPLICA[ref.by_scope], ref.key,
                                    principal.audience)  # fmt: skip
        if replica is not None:
            original = ClassRef(Kind.WEBINAR, id=replica["class_id"])
            read = await read_class(db, settings, principal, original, class_keys, account_keys)
            return replica_answer(read, replica)
    if row is None or not sees(principal, row["id"]):
        raise ref.not_found()
    return class_answer(row, settings)


def replica_answer(original: ClassRead, replica: Mapping[str, Any]) -> ClassRead:
    """A replica reads as its webinar, with its own scope, reserve and conference room."""
    return msgspec.structs.replace(
        original, id=replica["scope"], scope=replica["scope"], reserve=replica["reserve"],
        real_time=RealTime(original.real_time.event_room_id, replica["conference_room_id"],
                           original.real_time.host),
        replica_id=replica["id"],
    )  # fmt: skip


async def create_class(
    tx: Unit, media: Media, settings: Settings, principal: Principal, kind: Kind,
    data: ClassCreate, key: idempotency.Key | None = None, *, alone: bool = True,
    hub: Hub | None = None, seed: Sequence[EventCreate] = (),
) -> Outcome:  # fmt: skip
    """Create the class with its event room and conference room, all or nothing: the media
    room is made first (holding nothing), then the class and both rooms are stored in one
    statement; a refused store destroys the media room again. With an Idempotency-Key, a
    retry answers the first response. `alone`: the create is its unit's whole work (a use
    case that stores more in the same unit, like a session with its participants, says no).
    `seed`: events the new room starts with (a p2p's whiteboard), in the same unit."""
    authorize(principal, Action.CREATE_CLASS, data.audience)
    check_time(data.time)
    backend = media.choose(data.backend)
    if key is not None and (done := await idempotency.replayed(tx.db, data.audience, key)):
        return done
    conference_room_id = uuid.uuid4()
    placement = await backend.provision(
        tx, conference_room_id, kind.value, data.reserve, data.title or data.scope
    )
    if key is not None and (done := await idempotency.claim(tx, data.audience, key)):
        backend.retire(tx, conference_room_id, placement)  # made for nothing: the key's work won
        return done
    created = await _insert(tx, settings, kind, data, backend.name, conference_room_id, placement,
                            alone and key is None and not seed)  # fmt: skip
    for event in seed:
        assert hub is not None  # a seeded create names the hub its events are announced on
        await store_event(tx, hub, created.real_time.event_room_id, principal, event)
    if key is not None:
        await idempotency.store(tx, data.audience, key, 201, created)
    return Outcome(201, created, replayed=False)


async def _insert(
    tx: Unit, settings: Settings, kind: Kind, data: ClassCreate, backend: str,
    conference_room_id: uuid.UUID, placement: Placement, alone: bool,
) -> ClassRead:  # fmt: skip
    class_id, event_room_id = uuid.uuid4(), uuid.uuid4()
    start, end = data.time or (None, None)
    inserted = await (tx.sole if alone else tx.fetchrow)(
        queries.INSERT_CLASS, class_id, kind.value, data.audience, data.scope, data.title,
        start, end, data.tags, data.properties, data.preserve_history, data.reserve, data.host,
        data.locked_chat, event_room_id, conference_room_id, locked_types(data.locked_chat),
        backend, placement.server, placement.secret, data.record,
    )  # fmt: skip
    if inserted is None:
        existing = await tx.db.fetchrow(queries.SELECT_ID_BY_SCOPE, data.audience, data.scope)
        raise Conflict(
            f"a {existing['kind'] if existing else 'class'} with scope {data.scope!r} already "
            f"exists in {data.audience!r}",
            code="class_already_exists",
            field="scope",
            class_id=str(existing["id"]) if existing else None,
        )
    # Built from what was just written: no second round trip to read it back.
    return class_answer({
        "id": class_id, "scope": data.scope, "kind": kind.value, "audience": data.audience,
        "title": data.title, "event_room_id": event_room_id,
        "conference_room_id": conference_room_id, "host": data.host, "starts_at": start,
        "ends_at": end, "tags": data.tags, "reserve": data.reserve,
        "preserve_history": data.preserve_history, "locked_chat": data.locked_chat,
        "backend": backend, "properties": {}, "account_properties": {},
        "saved_position": None, "timed_out": False, "lobby_state": 0, "lobby_timer": None,
        "lobby_opens_before": None, "lobby_message": None, "sip_state": 0,
        "sip_dialin_id": None, "record": data.record, "production_id": None,
    }, settings)  # fmt: skip


def _columns(changes: dict[str, Any]) -> tuple[list[str], list[Any]]:
    columns: list[str] = []
    values: list[Any] = []
    for name, value in changes.items():
        if name == "time":
            check_time(value)
            columns += ["starts_at", "ends_at"]
            values += [value[0], value[1]]
        else:
            columns.append(name)
            values.append(value)
    return columns, values


async def existing(db: Executor, principal: Principal, ref: ClassRef) -> Row:
    """The class's id, rooms and media placement, or 404."""
    row = await db.fetchrow(
        queries.SELECT_EXISTING[ref.by_scope], ref.key, principal.audience, ref.kind.value
    )
    if row is None or not sees(principal, row["id"]):
        raise ref.not_found()
    return row


async def rooms_of(db: Executor, principal: Principal, class_id: uuid.UUID) -> Row:
    """A class of any kind, by id: its id and rooms, or 404."""
    row = await db.fetchrow(queries.ROOMS_OF, class_id, principal.audience)
    if row is None or not sees(principal, class_id):
        raise NotFound(f"no class {class_id} in this audience", code="class_not_found")
    return row


def check_visible(principal: Principal, ref: ClassRef) -> None:
    """404 before a one-statement use case on a class the token does not act in."""
    if ref.id is not None and not sees(principal, ref.id):
        raise ref.not_found()


def placement_of(row: Row) -> Placement:
    return Placement(row["janus_server"], row["janus_secret"])


async def update_class(
    tx: Unit, media: Media, settings: Settings, principal: Principal, ref: ClassRef,
    data: ClassUpdate,
) -> ClassRead:  # fmt: skip
    """Change the class; an end set to now or earlier ends it (through the lifecycle)."""
    authorize(principal, Action.UPDATE_CLASS)
    changes = data.changes()
    if not changes:
        raise ValidationFailed(
            "give at least one of: time, reserve, host, title, tags",
            field="body",
            code="nothing_to_update",
        )
    columns, values = _columns(changes)
    if "reserve" in changes:
        # The new reserve must fit on the room's server: Janus follows first, then the unit
        # checks and stores it under the server's lock.
        current = await existing(tx.db, principal, ref)
        await media.of(current["backend"]).resize(
            tx, current["conference_room_id"], placement_of(current), ref.kind.value,
            current["reserve"], changes["reserve"],
        )  # fmt: skip
    sql = queries.update_class(columns, by_scope=ref.by_scope)
    row = await tx.fetchrow(sql, ref.key, principal.audience, ref.kind.value, "time" in changes,
                            *values)  # fmt: skip
    if row is None:
        # Refused: either there is no such class, or it has closed and the time may not change
        # (the database's clock decided that; do not ask ours again).
        await existing(tx, principal, ref)
        raise Conflict(
            f"the {ref.kind.value} has closed; its time can no longer change (recreate it)",
            code="class_closed",
            field="time",
        )
    if row["ended"]:
        await lifecycle.end(tx, [row["id"]], lifecycle.Cause.ENDED)
    return await read_class(tx, settings, principal, ClassRef(ref.kind, id=row["id"]))


async def end_class(
    tx: Unit, settings: Settings, principal: Principal, class_id: uuid.UUID
) -> ClassRead:
    """End the class for everyone now (the tenant, or the class's owners and moderators): the
    lifecycle closes its rooms, live sockets hear the room close, Janus hangs up. Ending a
    class that has ended already changes nothing."""
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    row = await tx.fetchrow(queries.END_NOW, class_id, principal.audience)
    kind = row["kind"] if row else await tx.fetchval(queries.KIND_OF, class_id, principal.audience)
    if kind is None:
        raise NotFound(f"no class {class_id} in this audience", code="class_not_found")
    if row is not None:
        await lifecycle.end(tx, [class_id], lifecycle.Cause.ENDED)
    return await read_class(tx, settings, principal, ClassRef(Kind(kind), id=class_id))


async def recreate_class(
    tx: Unit, media: Media, settings: Settings, principal: Principal, ref: ClassRef,
    data: ClassRecreate,
) -> ClassRead:  # fmt: skip
    """New event and conference rooms for the class; the old ones' run ends (on Janus too)."""
    authorize(principal, Action.UPDATE_CLASS)
    check_time(data.time)
    current = await existing(tx.db, principal, ref)
    backend = media.of(current["backend"])
    conference_room_id = uuid.uuid4()
    placement = await backend.provision(
        tx, conference_room_id, ref.kind.value, current["reserve"], current["name"]
    )
    await lifecycle.end(tx, [current["id"]], lifecycle.Cause.RECREATED)
    await tx.execute(queries.DROP_REPLICAS, current["id"])
    start, end = data.time or (None, None)
    row = await tx.fetchrow(
        queries.RECREATE[ref.by_scope], ref.key, principal.audience, ref.kind.value,
        uuid.uuid4(), conference_room_id, data.locked_chat, start, end,
        locked_types(data.locked_chat), placement.server, placement.secret,
        current["event_room_id"],
    )  # fmt: skip
    assert row is not None  # the statement always answers one row
    if row["existed"] is None:
        raise ref.not_found()
    if row["recreated"] is None:
        raise Conflict(
            f"the {ref.kind.value} was recreated at the same moment; read it and try again",
            code="concurrent_recreate",
        )
    backend.retire(tx, current["conference_room_id"], placement_of(current))
    return await read_class(tx, settings, principal, ClassRef(ref.kind, id=row["recreated"]))
