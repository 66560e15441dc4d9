"""Editions: post-production of a recording's events and cuts (notes/recordings.md "Editions").

An edition belongs to a source room — a class's original room O — and holds changes
(`addition`, `modification`, `removal`, `bulk_removal`). Committing it (202: the work runs as
the job `recording.commit`) builds a new room from the source's events joined with the
changes, cut by the strict nesting machine, makes it the class's modified room and runs the
production again from its dump (adjusted → transcoded again), telling the tenant
`edition.commit` and then `<kind>.ready`. Editing needs the right to update the class.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from podium.auth.models import Principal
from podium.auth.policy import Action, authorize, sees
from podium.db import Database, Executor, Row, Unit
from podium.errors import Conflict, NotFound, ValidationFailed
from podium.jobs import Job, JobKind, JobRegistry, enqueue
from podium.notifications.service import notify
from podium.recordings import models, queries
from podium.recordings.events import copy_events, event_of
from podium.recordings.service import enqueue_step
from podium.validation import BIGINT_MAX, ShortText

log = logging.getLogger(__name__)

COMMIT = "recording.commit"
Nanoseconds = Annotated[int, Meta(ge=0, le=BIGINT_MAX)]


class ChangeEvent(Struct, kw_only=True):
    """An addition's event, or a modification's fields (null keeps the event's)."""

    type: ShortText | None = None
    set: ShortText | None = None
    label: ShortText | None = None
    attribute: ShortText | None = None
    data: Any = None
    occurred_at: Nanoseconds | None = None  # ns since the source room opened
    created_by: ShortText | None = None


class ChangeCreate(Struct, kw_only=True):
    type: Literal["addition", "modification", "removal", "bulk_removal"]
    event: ChangeEvent | None = None
    event_id: uuid.UUID | None = None


class Edition(Struct):
    id: uuid.UUID
    source_room_id: uuid.UUID
    created_by: str
    created_at: int  # unix ms
    committed_room_id: uuid.UUID | None = None


class Change(Struct):
    id: uuid.UUID
    edition_id: uuid.UUID
    type: str
    event: dict[str, Any] | None
    event_id: uuid.UUID | None
    created_by: str
    created_at: int  # unix ms


def _edition(row: Row) -> Edition:
    return Edition(row["id"], row["source_room_id"], row["created_by"], row["created_at"],
                   row["committed_room_id"])  # fmt: skip


def _change(row: Row) -> Change:
    return Change(row["id"], row["edition_id"], row["kind"], row["event"], row["event_id"],
                  row["created_by"], row["created_at"])  # fmt: skip


def _may_edit(principal: Principal, row: Row | None, what: str) -> Row:
    if row is None or row["audience"] != principal.audience or not sees(principal, row["class_id"]):
        raise NotFound(f"no such {what}", code=f"{what.replace(' ', '_')}_not_found")
    authorize(principal, Action.UPDATE_CLASS, class_id=row["class_id"])
    return row


async def create(db: Executor, principal: Principal, room_id: uuid.UUID) -> Edition:
    """An edition of a class's original room (the one its recording's events were adjusted
    into); any other room is refused (409 `not_an_original_room`)."""
    room = _may_edit(principal, await db.fetchrow(queries.SELECT_EDITABLE_ROOM, room_id),
                     "event room")  # fmt: skip
    if not room["is_original"]:
        raise Conflict("editions are made of a recording's original room",
                       code="not_an_original_room")  # fmt: skip
    row = await db.fetchrow(queries.INSERT_EDITION, uuid.uuid4(), room_id, principal.account_id)
    return _edition(row)


async def list_editions(db: Executor, principal: Principal, room_id: uuid.UUID) -> list[Edition]:
    _may_edit(principal, await db.fetchrow(queries.SELECT_EDITABLE_ROOM, room_id), "event room")
    return [_edition(r) for r in await db.fetch(queries.SELECT_EDITIONS, room_id)]


async def _edition_row(db: Executor, principal: Principal, edition_id: uuid.UUID) -> Row:
    return _may_edit(principal, await db.fetchrow(queries.SELECT_EDITION, edition_id), "edition")


async def delete(db: Executor, principal: Principal, edition_id: uuid.UUID) -> None:
    await _edition_row(db, principal, edition_id)
    await db.execute(queries.DELETE_EDITION, edition_id)


def check_change(data: ChangeCreate) -> dict[str, Any] | None:
    """The change's event as stored; each type says what it needs."""
    event = data.event
    if data.type in ("modification", "removal") and data.event_id is None:
        raise ValidationFailed(f"a {data.type} names the event it changes", field="event_id")
    if data.type == "addition" and (
        event is None or event.type is None or event.data is None or event.occurred_at is None
    ):
        raise ValidationFailed("an addition needs an event with type, data and occurred_at",
                               field="event")  # fmt: skip
    if data.type == "modification" and event is None:
        raise ValidationFailed("a modification needs the fields it changes", field="event")
    if data.type == "bulk_removal" and (event is None or event.set is None):
        raise ValidationFailed("a bulk removal names the set it removes", field="event.set")
    if event is None:
        return None
    return {f: getattr(event, f) for f in event.__struct_fields__ if getattr(event, f) is not None}


async def add_change(
    db: Executor, principal: Principal, edition_id: uuid.UUID, data: ChangeCreate
) -> Change:
    edition = await _edition_row(db, principal, edition_id)
    if edition["committed_at"] is not None:
        raise Conflict("the edition is committed", code="edition_committed")
    event = check_change(data)
    row = await db.fetchrow(queries.INSERT_CHANGE, uuid.uuid4(), edition_id, data.type,
                            data.event_id, event, principal.account_id)  # fmt: skip
    return _change(row)


async def list_changes(db: Executor, principal: Principal, edition_id: uuid.UUID) -> list[Change]:
    await _edition_row(db, principal, edition_id)
    return [_change(r) for r in await db.fetch(queries.SELECT_CHANGES, edition_id)]


async def delete_change(db: Executor, principal: Principal, change_id: uuid.UUID) -> None:
    row = _may_edit(principal, await db.fetchrow(queries.SELECT_CHANGE, change_id), "change")
    await db.execute(queries.DELETE_CHANGE, row["id"])


def changes_of(rows: list[Row]) -> list[models.Change]:
    out = []
    for n, r in enumerate(rows):
        e = r["event"] or {}
        event = None
        if r["kind"] == "addition":
            event = models.Event(
                e["occurred_at"], 10**12 + n, e["type"], e["data"], e.get("set") or e["type"],
                e.get("label"), e.get("attribute"), False, e.get("created_by") or r["created_by"],
                r["created_at"],
            )  # fmt: skip
        out.append(models.Change(r["kind"], event, r["event_id"], e or None, e.get("set")))
    return out


async def commit(
    tx: Unit, principal: Principal, edition_id: uuid.UUID, scope: str | None = None
) -> None:
    """Check the edition's cuts (a stop without a start: 422) and queue its commit; through
    the dispatcher's route the edition must be of the class `scope` names."""
    edition = await _edition_row(tx, principal, edition_id)
    if scope is not None and edition["scope"] != scope:
        raise NotFound("no such edition", code="edition_not_found")
    if edition["committed_at"] is not None:
        raise Conflict("the edition is committed", code="edition_committed")
    source = [event_of(r) for r in await tx.fetch(queries.SELECT_ROOM_EVENTS,
                                                  edition["source_room_id"])]  # fmt: skip
    changes = changes_of(await tx.fetch(queries.SELECT_CHANGES, edition_id))
    try:
        models.strict_cuts(models.stream_marks(models.apply_changes(source, changes)))
    except models.BadCuts as exc:
        raise ValidationFailed(str(exc), field="changes", code="bad_cuts") from None
    await enqueue(tx, COMMIT, {"edition": str(edition_id)}, key=str(edition_id))


async def run_commit(db: Database, preroll: Any, job: Job) -> None:
    """The commit job: the committed room, the class's new modified room, and the production
    run again from its dump (so re-dumped and re-transcoded)."""
    edition_id = uuid.UUID(job.payload["edition"])
    edition = await db.fetchrow(queries.SELECT_EDITION, edition_id)
    if edition is None or edition["committed_at"] is not None:
        return
    production = await db.fetchrow(queries.SELECT_PRODUCTION_OF_ROOM, edition["source_room_id"])
    if production is None:
        log.warning("edition %s: its source room has no production; dropped", edition_id)
        return
    source = [event_of(r) for r in await db.fetch(queries.SELECT_ROOM_EVENTS,
                                                  edition["source_room_id"])]  # fmt: skip
    changes = changes_of(await db.fetch(queries.SELECT_CHANGES, edition_id))
    duration_ns = (edition["closed_ms"] - edition["opened_ms"]) * models.NS_PER_MS
    result = models.commit_edition(source, changes, duration_ns, preroll(edition["audience"]))
    room = uuid.uuid4()
    async with db.unit() as tx:
        await tx.execute(queries.MAKE_ROOM, room, edition["source_room_id"], edition["opened_ms"],
                         edition["closed_ms"], False)  # fmt: skip
        await copy_events(tx, room, result.events)
        if await tx.fetchval(queries.COMMITTED, edition_id, room) is None:
            raise Conflict("the edition was committed meanwhile", code="edition_committed")
        segments = [list(s) for s in result.modified_segments]
        await tx.execute(queries.EDITED, production["id"], room, segments)
        await notify(tx, edition["audience"], "edition.commit", {
            "tags": production["tags"], "source_room_id": str(edition["source_room_id"]),
            "committed_room_id": str(room), "modified_segments": segments,
        }, production["class_id"])  # fmt: skip
        await enqueue_step(tx, "dump", production["id"], production["janus_server"])


def register(registry: JobRegistry, db: Database, preroll: Any) -> None:
    registry.kind(JobKind(COMMIT, lambda job: run_commit(db, preroll, job), lease_seconds=120,
                          max_attempts=3))  # fmt: skip
