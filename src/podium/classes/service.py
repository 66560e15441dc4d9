"""Use cases of classes: create, read, update. Plain values in, API shapes out."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg

from podium.auth.models import Principal
from podium.auth.policy import Action, authorize
from podium.classes import queries
from podium.classes.models import Kind, check_time, locked_types, status_of
from podium.classes.schemas import ClassRead, ClassUpdate, RealTime, WebinarCreate
from podium.conference.service import choose_backend
from podium.db import Database
from podium.errors import Conflict, NotFound, ValidationFailed
from podium.idempotency import Outcome, run_once

# The database for a single autocommitted statement, or a connection inside a transaction.
Executor: TypeAlias = asyncpg.Connection | Database


@dataclass(frozen=True, slots=True)
class ClassRef:
    """A class addressed by id, or by its scope within the caller's audience."""

    id: uuid.UUID | None = None
    scope: str | None = None


def _not_found(kind: Kind, ref: ClassRef) -> NotFound:
    named = str(ref.id) if ref.id is not None else f"with scope {ref.scope!r}"
    return NotFound(f"no {kind.value} {named} in this audience", code=f"{kind.value}_not_found")


def _read_from_row(row: asyncpg.Record, now: float) -> ClassRead:
    return ClassRead(
        class_id=row["id"],
        id=row["scope"],
        kind=row["kind"],
        audience=row["audience"],
        scope=row["scope"],
        title=row["title"],
        real_time=RealTime(row["event_room_id"], row["conference_room_id"], row["host"]),
        on_demand=[],
        status=status_of(row["ends_at"], now).value,
        time=(row["starts_at"], row["ends_at"]),
        tags=row["tags"],
        reserve=row["reserve"],
        preserve_history=row["preserve_history"],
        locked_chat=row["locked_chat"],
        backend=row["backend"],
        properties=row["properties"],
        account_properties=row["account_properties"],
    )


async def _insert(ex: Executor, kind: Kind, data: WebinarCreate, backend: str) -> ClassRead:
    class_id, event_room_id, conference_room_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    start, end = data.time or (None, None)
    inserted = await ex.fetchval(
        queries.INSERT_CLASS,
        class_id,
        kind.value,
        data.audience,
        data.scope,
        data.title,
        start,
        end,
        data.tags,
        data.properties,
        data.preserve_history,
        data.reserve,
        data.host,
        data.locked_chat,
        event_room_id,
        conference_room_id,
        locked_types(data.locked_chat),
        backend,
    )
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
    )


async def create_class(
    db: Database,
    principal: Principal,
    kind: Kind,
    data: WebinarCreate,
    *,
    janus_configured: bool,
    idempotency: tuple[str, str] | None = None,
) -> Outcome:
    """Create the class with its event room and conference room, all or nothing.

    `idempotency` is (key, request fingerprint) when the caller sent an Idempotency-Key.
    """
    authorize(principal, Action.CREATE_CLASS, data.audience)
    check_time(data.time)
    backend = choose_backend(data.backend, janus_configured)
    if idempotency is None:
        return Outcome(201, await _insert(db, kind, data, backend), replayed=False)

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        created = await _insert(conn, kind, data, backend)
        return 201, created

    key, print_ = idempotency
    return await run_once(db, data.audience, key, print_, work)


async def read_class(
    db: Database,
    principal: Principal,
    kind: Kind,
    ref: ClassRef,
    class_keys: list[str] | None = None,
    account_keys: list[str] | None = None,
) -> ClassRead:
    authorize(principal, Action.READ_CLASS)
    query = queries.SELECT_BY_ID if ref.id is not None else queries.SELECT_BY_SCOPE
    row = await db.fetchrow(
        query,
        ref.id if ref.id is not None else ref.scope,
        principal.audience,
        class_keys or [],
        account_keys or [],
        principal.account_id,
        kind.value,
    )
    if row is None:
        raise _not_found(kind, ref)
    return _read_from_row(row, time.time())


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


async def update_class(
    db: Database, principal: Principal, kind: Kind, ref: ClassRef, data: ClassUpdate
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
    key = ref.id if ref.id is not None else ref.scope
    sql = queries.update_class(columns, by_scope=ref.id is None)
    updated = await db.fetchval(
        sql, key, principal.audience, kind.value, "time" in changes, *values
    )
    if updated is None:
        # Refused: either there is no such class, or it has closed and the time may not change
        # (the database's clock decided that; do not ask ours again).
        where = "scope = $1" if ref.id is None else "id = $1"
        exists = await db.fetchval(
            queries.SELECT_EXISTING.format(where=where), key, principal.audience, kind.value
        )
        if exists is None:
            raise _not_found(kind, ref)
        raise Conflict(
            f"the {kind.value} has closed; its time can no longer change (recreate it)",
            code="class_closed",
            field="time",
        )
    return await read_class(db, principal, kind, ClassRef(id=updated))
