"""Use cases of classes: create, read, update, recreate. Plain values in, API shapes out."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg

from podium.auth.models import Principal
from podium.auth.policy import Action, authorize
from podium.classes import queries
from podium.classes.models import Kind, Status, check_time, locked_types, status_of
from podium.classes.schemas import ClassCreate, ClassRead, ClassRecreate, ClassUpdate, RealTime
from podium.conference.models import pick_turn_host
from podium.conference.pool import JanusRoom, MediaPool
from podium.conference.service import choose_backend
from podium.db import Database
from podium.errors import Conflict, NotFound, ValidationFailed
from podium.idempotency import Outcome, run_once
from podium.lobby.models import opens_at
from podium.lobby.schemas import Lobby
from podium.sip.schemas import Sip

# The database for a single autocommitted statement, or a connection inside a transaction.
Executor: TypeAlias = asyncpg.Connection | Database


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


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What a read adds to the class itself: properties asked for, a TURN host to offer."""

    class_keys: list[str] | None = None
    account_keys: list[str] | None = None
    turn_hosts: tuple[str, ...] = ()
    dialin_number: str | None = None  # shown with the dial-in id while SIP is on


def _read_from_row(row: asyncpg.Record, now: float, options: ReadOptions) -> ClassRead:
    status = status_of(row["ends_at"], now)
    return ClassRead(
        class_id=row["id"],
        id=row["scope"],
        kind=row["kind"],
        audience=row["audience"],
        scope=row["scope"],
        title=row["title"],
        real_time=RealTime(row["event_room_id"], row["conference_room_id"], row["host"]),
        on_demand=[],
        status=status.value,
        time=(row["starts_at"], row["ends_at"]),
        tags=row["tags"],
        reserve=row["reserve"],
        preserve_history=row["preserve_history"],
        locked_chat=row["locked_chat"],
        backend=row["backend"],
        properties=row["properties"],
        account_properties=row["account_properties"],
        saved_position=row["saved_position"],
        position=row["saved_position"] if status is Status.TRANSCODED else None,
        turn_host=pick_turn_host(row["kind"], row["scope"], options.turn_hosts),
        timed_out=row["timed_out"],
        lobby=Lobby(row["lobby_state"], opens_at(row), row["lobby_message"]),
        sip=Sip(row["sip_state"], row["sip_dialin_id"], options.dialin_number)
        if row["sip_state"]
        else None,
    )


async def _provision_and_insert(
    ex: Executor, db: Database, pool: MediaPool, kind: Kind, data: ClassCreate, backend: str
) -> ClassRead:
    """Create the media room first (outside the database), then store the class with both
    rooms in one statement; when storing fails, the media room is destroyed again. (A crash
    in between leaves a Janus room no class names: the pool's sweep removes those.)"""
    conference_room_id = uuid.uuid4()
    if backend != "janus":
        return await _insert(ex, kind, data, backend, conference_room_id, None)
    if isinstance(ex, Database):  # the placement needs a transaction to hold its server in
        async with ex.transaction() as conn:
            return await _provision_and_insert(conn, db, pool, kind, data, backend)
    janus = await pool.create_room(
        ex, conference_room_id, kind.value, data.reserve, data.title or data.scope
    )
    try:
        return await _insert(ex, kind, data, backend, conference_room_id, janus)
    except BaseException:
        await pool.destroy_room(janus, conference_room_id)
        raise


async def _insert(
    ex: Executor, kind: Kind, data: ClassCreate, backend: str, conference_room_id: uuid.UUID,
    janus: JanusRoom | None,
) -> ClassRead:  # fmt: skip
    class_id, event_room_id = uuid.uuid4(), uuid.uuid4()
    start, end = data.time or (None, None)
    inserted = await ex.fetchval(
        queries.INSERT_CLASS, class_id, kind.value, data.audience, data.scope, data.title,
        start, end, data.tags, data.properties, data.preserve_history, data.reserve, data.host,
        data.locked_chat, event_room_id, conference_room_id, locked_types(data.locked_chat),
        backend, janus.server if janus else None, janus.secret if janus else None,
    )  # fmt: skip
    if inserted is None:
        existing = await ex.fetchrow(queries.SELECT_ID_BY_SCOPE, data.audience, data.scope)
        raise Conflict(
            f"a {existing['kind'] if existing else 'class'} with scope {data.scope!r} already "
            f"exists in {data.audience!r}",
            code="class_already_exists",
            field="scope",
            class_id=str(existing["id"]) if existing else None,
        )
    # Built from what was just written: no second round trip to read it back.
    return ClassRead(
        class_id=class_id,
        id=data.scope,
        kind=kind.value,
        audience=data.audience,
        scope=data.scope,
        title=data.title,
        real_time=RealTime(event_room_id, conference_room_id, data.host),
        on_demand=[],
        status=status_of(end, time.time()).value,
        time=(start, end),
        tags=data.tags,
        reserve=data.reserve,
        preserve_history=data.preserve_history,
        locked_chat=data.locked_chat,
        backend=backend,
        properties={},
        account_properties={},
        lobby=Lobby(0),
    )


async def create_class(
    db: Database,
    principal: Principal,
    kind: Kind,
    data: ClassCreate,
    *,
    pool: MediaPool,
    idempotency: tuple[str, str] | None = None,
) -> Outcome:
    """Create the class with its event room and conference room, all or nothing.

    `idempotency` is (key, request fingerprint) when the caller sent an Idempotency-Key.
    """
    authorize(principal, Action.CREATE_CLASS, data.audience)
    check_time(data.time)
    backend = choose_backend(data.backend, pool.configured)
    if idempotency is None:
        created = await _provision_and_insert(db, db, pool, kind, data, backend)
        return Outcome(201, created, replayed=False)

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        return 201, await _provision_and_insert(conn, db, pool, kind, data, backend)

    key, print_ = idempotency
    return await run_once(db, data.audience, key, print_, work)


async def read_class(
    db: Database, principal: Principal, ref: ClassRef, options: ReadOptions = ReadOptions()
) -> ClassRead:
    authorize(principal, Action.READ_CLASS)
    row = await db.fetchrow(
        queries.SELECT_CLASS[ref.by_scope],
        ref.key,
        principal.audience,
        ref.kind.value,
        options.class_keys or [],
        options.account_keys or [],
        principal.account_id,
    )
    if row is None:
        raise ref.not_found()
    return _read_from_row(row, time.time(), options)


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


async def existing(db: Executor, principal: Principal, ref: ClassRef) -> asyncpg.Record:
    """The class's id and event room, or 404."""
    row = await db.fetchrow(
        queries.SELECT_EXISTING[ref.by_scope], ref.key, principal.audience, ref.kind.value
    )
    if row is None:
        raise ref.not_found()
    return row


async def update_class(
    db: Database, pool: MediaPool, principal: Principal, ref: ClassRef, data: ClassUpdate
) -> ClassRead:
    authorize(principal, Action.UPDATE_CLASS)
    changes = data.changes()
    if not changes:
        raise ValidationFailed(
            "give at least one of: time, reserve, host, title, tags",
            field="body",
            code="nothing_to_update",
        )
    columns, values = _columns(changes)
    sql = queries.update_class(columns, by_scope=ref.by_scope)
    args = (ref.key, principal.audience, ref.kind.value, "time" in changes, *values)
    current = await existing(db, principal, ref) if "reserve" in changes else None
    if current is not None and current["janus_server"]:
        # The new reserve must fit on the room's server: check, edit on Janus and store under
        # the same server lock as placement.
        async with db.transaction() as conn:
            await pool.resize_room(
                conn, current["conference_room_id"],
                JanusRoom(current["janus_server"], current["janus_secret"]),
                ref.kind.value, current["reserve"], changes["reserve"],
            )  # fmt: skip
            updated = await conn.fetchval(sql, *args)
    else:
        updated = await db.fetchval(sql, *args)  # one statement: no transaction needed
    if updated is None:
        # Refused: either there is no such class, or it has closed and the time may not change
        # (the database's clock decided that; do not ask ours again).
        await existing(db, principal, ref)
        raise Conflict(
            f"the {ref.kind.value} has closed; its time can no longer change (recreate it)",
            code="class_closed",
            field="time",
        )
    return await read_class(db, principal, ClassRef(ref.kind, id=updated))


async def recreate_class(
    db: Database, pool: MediaPool, principal: Principal, ref: ClassRef, data: ClassRecreate
) -> ClassRead:
    """New event and conference rooms for the class; the old ones close (on Janus too)."""
    authorize(principal, Action.UPDATE_CLASS)
    check_time(data.time)
    current = await existing(db, principal, ref)
    conference_room_id = uuid.uuid4()
    janus = None
    async with db.transaction() as conn:
        if current["backend"] == "janus" and pool.configured:
            janus = await pool.create_room(
                conn, conference_room_id, ref.kind.value, current["reserve"], current["name"]
            )
        row = await _recreate(conn, pool, janus, conference_room_id, principal, ref, data)
    if current["janus_server"]:
        old = JanusRoom(current["janus_server"], current["janus_secret"])
        await pool.destroy_room(old, current["conference_room_id"])
    return await read_class(db, principal, ClassRef(ref.kind, id=row["recreated"]))


async def _recreate(
    conn: Any, pool: MediaPool, janus: JanusRoom | None, conference_room_id: uuid.UUID,
    principal: Principal, ref: ClassRef, data: ClassRecreate,
) -> Any:  # fmt: skip
    start, end = data.time or (None, None)
    try:
        row = await conn.fetchrow(
            queries.RECREATE[ref.by_scope], ref.key, principal.audience, ref.kind.value,
            uuid.uuid4(), conference_room_id, data.locked_chat, start, end,
            locked_types(data.locked_chat), janus.server if janus else None,
            janus.secret if janus else None,
        )  # fmt: skip
        assert row is not None  # the statement always answers one row
        if row["existed"] is None:
            raise ref.not_found()
        if row["recreated"] is None:
            raise Conflict(
                f"the {ref.kind.value} was recreated at the same moment; read it and try again",
                code="concurrent_recreate",
            )
    except BaseException:
        if janus is not None:
            await pool.destroy_room(janus, conference_room_id)
        raise
    return row
