"""Use cases of the Session API (spec 004): a session is a class of kind `session` with an event
room, a conference room and a lobby; its participants are Podium participants (host →
moderator, who enters directly; guest → guest, who waits until someone inside admits them)."""

from __future__ import annotations

import datetime as dt
import math
import time
import uuid
from typing import Any, TypeVar

from msgspec import UNSET

from podium.auth.models import Principal
from podium.auth.policy import Action, authorize
from podium.classes import lifecycle
from podium.classes.models import Kind
from podium.classes.schemas import ClassCreate, ClassUpdate
from podium.classes.service import ClassRef, create_class, update_class
from podium.conference.backends import Media
from podium.config import Settings
from podium.db import Executor, Row, Unit
from podium.errors import BadRequest, NotFound, ValidationFailed
from podium.participants import service as participants
from podium.participants.schemas import ParticipantCreate, ParticipantUpdate
from podium.rooms.live import Hub
from podium.sessions import queries
from podium.sessions.models import (
    MAX_PAGE_SIZE,
    ORDERS,
    UNIQUE_LINKS,
    api_role,
    check_may_cancel,
    check_may_change,
    check_new_times,
    check_times,
    format_time,
    parse_flag,
    parse_int,
    parse_time,
    podium_role,
)
from podium.sessions.schemas import (
    Participant,
    ParticipantCreationRequest,
    ParticipantUpdateRequest,
    Session,
    SessionCreationRequest,
    SessionPage,
    SessionParticipantPage,
    SessionUpdateRequest,
    UnitResponse,
)
from podium.validation import strict

T = TypeVar("T")


def body_as(raw: Any, shape: type[T]) -> T:
    """The body in the swagger's shape; anything wrong is a 400 naming the field (the
    swagger's "Invalid `body`")."""
    try:
        return strict(raw, shape)
    except ValidationFailed as exc:
        raise BadRequest(exc.detail, field=exc.field, code="invalid_body") from None


def _id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"`{what}` not found", code=f"{what}_not_found") from None


def _participant(row: Row, links: participants.Links) -> Participant:
    canceled = row["canceled_at"] is not None
    return Participant(
        participant_id=str(row["id"]), session_id=str(row["class_id"]),
        client_id=row["client_id"], display_name=row["display_name"], picture=row["picture"],
        role=api_role(row["role"]), state=row["state"],
        entry_url=None if canceled else participants.entry_url(links, row["id"],
                                                               row["link_version"]),
        deleted_at=format_time(row["canceled_at"]),
    )  # fmt: skip


def _session(row: Row, people: list[Participant]) -> Session:
    return Session(
        session_id=str(row["id"]), team_id=row["audience"], client_id=row["client_id"],
        session_name=row["title"], picture=row["picture"],
        start_time=format_time(row["starts_at"]) or "", end_time=format_time(row["ends_at"]) or "",
        canceled_time=format_time(row["canceled_at"]), feature_flags=list(row["feature_flags"]),
        participants=people,
    )  # fmt: skip


async def _people(
    db: Executor, ids: list[uuid.UUID], deleted: bool, links: participants.Links
) -> dict[uuid.UUID, list[Participant]]:
    out: dict[uuid.UUID, list[Participant]] = {i: [] for i in ids}
    for row in await db.fetch(queries.PARTICIPANTS_OF, ids, deleted):
        out[row["class_id"]].append(_participant(row, links))
    return out


async def _row(db: Executor, principal: Principal, session_id: uuid.UUID) -> Row:
    authorize(principal, Action.UPDATE_CLASS)
    row = await db.fetchrow(queries.SESSION, session_id, principal.audience)
    if row is None:
        raise NotFound("`session_id` not found", code="session_not_found")
    return row


def _client_of(principal: Principal) -> str | None:
    return principal.account_id.removeprefix("client:") if principal.account_id.startswith(
        "client:") else None  # fmt: skip


async def _add(
    tx: Unit, principal: Principal, session_id: uuid.UUID, p: ParticipantCreationRequest,
    single_use: bool, links: participants.Links, field: str,
) -> uuid.UUID:  # fmt: skip
    made = await participants.create_participant(
        tx, principal, session_id,
        ParticipantCreate(display_name=p.display_name or "Participant", picture=p.picture,
                          role=podium_role(p.role, field), state=p.state,  # type: ignore[arg-type]
                          single_use=single_use),
        links,
    )  # fmt: skip
    return made.participant_id


async def create_session(
    tx: Unit, media: Media, settings: Settings, principal: Principal, raw: Any,
    links: participants.Links,
) -> Session:  # fmt: skip
    """The session with its rooms, flags and participants, all in the unit: stored whole or
    not at all."""
    authorize(principal, Action.CREATE_CLASS)
    data = body_as(raw, SessionCreationRequest)
    start = parse_time(data.start_time, "start_time")
    end = parse_time(data.end_time, "end_time")
    check_times(start, end, time.time())
    people = data.participants or []
    for i, p in enumerate(people):  # every participant is checked before anything is made
        podium_role(p.role, f"participants[{i}].role")
    flags = list(dict.fromkeys(data.feature_flags or []))
    outcome = await create_class(
        tx, media, settings, principal, Kind.SESSION,
        ClassCreate(scope=f"session-{uuid.uuid4()}", audience=principal.audience,
                    title=data.session_name, time=[start, end], locked_chat=False),
        alone=False,
    )  # fmt: skip
    session_id = outcome.body.class_id
    await tx.execute(queries.SET_EXTRA, session_id, data.picture, flags, _client_of(principal))
    for i, p in enumerate(people):
        await _add(tx, principal, session_id, p, UNIQUE_LINKS in flags, links,
                   f"participants[{i}].role")  # fmt: skip
    return await read_session(tx, principal, str(session_id), links)


async def read_session(
    db: Executor, principal: Principal, session_id: str, links: participants.Links,
    deleted: bool = False, include_canceled: bool = True,
) -> Session:  # fmt: skip
    """`include_canceled=False` (the by-id route's default, as the list's): a cancelled session
    is gone — Coviu's own SDK suites expect "you just can't see it any more"."""
    row = await _row(db, principal, _id(session_id, "session_id"))
    if row["canceled_at"] is not None and not include_canceled:
        raise NotFound("`session_id` not found (cancelled; ask with include_canceled=true)",
                       code="session_not_found")  # fmt: skip
    people = await _people(db, [row["id"]], deleted, links)
    return _session(row, people[row["id"]])


async def list_sessions(
    db: Executor, principal: Principal, query: dict[str, str | None], links: participants.Links
) -> SessionPage:
    authorize(principal, Action.UPDATE_CLASS)
    page = parse_int(query.get("page"), "page", 0, 0, 1_000_000)
    size = parse_int(query.get("page_size"), "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    start = query.get("start_time")
    end = query.get("end_time")
    window = [
        None if v is None else dt.datetime.fromtimestamp(parse_time(v, f), dt.UTC)
        for v, f in ((start, "start_time"), (end, "end_time"))
    ]
    order = query.get("order") or "forward"
    if order not in ORDERS:
        raise BadRequest("`order` must be forward or reverse (backwards)", field="order",
                         code="invalid_parameter")  # fmt: skip
    deleted = parse_flag(query.get("deleted_participants"), "deleted_participants")
    sql = queries.LIST.format(
        order=queries.ORDER_BY[(start is not None or end is not None, ORDERS[order])]
    )
    filters = (principal.audience, window[0], window[1],
               parse_flag(query.get("include_canceled"), "include_canceled"), query.get("state"),
               deleted)  # fmt: skip
    rows = await db.fetch(sql, *filters, size, page * size)
    if not rows and page > 0:  # past the end: the total still comes from the first page
        rows_first = await db.fetch(sql, *filters, 1, 0)
        total = rows_first[0]["total"] if rows_first else 0
    else:
        total = rows[0]["total"] if rows else 0
    people = await _people(db, [r["id"] for r in rows], deleted, links)
    return SessionPage(
        content=[_session(r, people[r["id"]]) for r in rows], more=(page + 1) * size < total,
        page=page, page_size=size, page_count=math.ceil(total / size) if total else 0,
    )  # fmt: skip


async def update_session(
    tx: Unit, media: Media, settings: Settings, principal: Principal, session_id: str, raw: Any,
    links: participants.Links,
) -> Session:  # fmt: skip
    data = body_as(raw, SessionUpdateRequest)
    row = await _row(tx, principal, _id(session_id, "session_id"))
    check_may_change(row, time.time())
    start = parse_time(data.start_time, "start_time") if data.start_time else row["starts_at"]
    end = parse_time(data.end_time, "end_time") if data.end_time else row["ends_at"]
    check_new_times(row, start, end, time.time())
    changes = ClassUpdate(
        time=[start, end], title=UNSET if data.session_name is None else data.session_name
    )
    await update_class(tx, media, settings, principal, ClassRef(Kind.SESSION, id=row["id"]),
                       changes)  # fmt: skip
    if data.picture is not None:
        await tx.execute(queries.SET_PICTURE, row["id"], data.picture)
    return await read_session(tx, principal, session_id, links)


async def cancel_session(tx: Unit, principal: Principal, session_id: str) -> UnitResponse:
    """For good: nobody enters, and the class lifecycle ends it (no `.stop`: it never ran)."""
    row = await _row(tx, principal, _id(session_id, "session_id"))
    check_may_cancel(row, time.time())
    if await tx.fetchval(queries.CANCEL, row["id"]) is None:
        raise BadRequest("the session was cancelled already; cancel is for good",
                         code="session_canceled")  # fmt: skip
    await lifecycle.end(tx, [row["id"]], lifecycle.Cause.CANCELED)
    return UnitResponse(ok=True)


async def add_participant(
    tx: Unit, principal: Principal, session_id: str, raw: Any, links: participants.Links
) -> Participant:
    data = body_as(raw, ParticipantCreationRequest)
    row = await _row(tx, principal, _id(session_id, "session_id"))
    check_may_change(row, time.time())  # a started session takes people; a finished one not
    made = await _add(tx, principal, row["id"], data, UNIQUE_LINKS in row["feature_flags"],
                      links, "role")  # fmt: skip
    return await read_participant(tx, principal, str(made), links)


async def session_participants(
    db: Executor, principal: Principal, session_id: str, links: participants.Links,
    deleted: bool,
) -> SessionParticipantPage:  # fmt: skip
    row = await _row(db, principal, _id(session_id, "session_id"))
    people = (await _people(db, [row["id"]], deleted, links))[row["id"]]
    return SessionParticipantPage(content=people, more=False, page=0, page_size=len(people),
                           page_count=1 if people else 0)  # fmt: skip


async def _participant_row(db: Executor, principal: Principal, participant_id: str) -> Row:
    authorize(principal, Action.UPDATE_CLASS)
    row = await db.fetchrow(queries.PARTICIPANT, _id(participant_id, "participant_id"),
                            principal.audience)  # fmt: skip
    if row is None:
        raise NotFound("`participant_id` not found", code="participant_not_found")
    return row


async def read_participant(
    db: Executor, principal: Principal, participant_id: str, links: participants.Links
) -> Participant:
    row = await _participant_row(db, principal, participant_id)
    people = await _people(db, [row["class_id"]], True, links)
    return next(p for p in people[row["class_id"]] if p.participant_id == str(row["id"]))


async def update_participant(
    tx: Unit, principal: Principal, participant_id: str, raw: Any, links: participants.Links
) -> Participant:
    data = body_as(raw, ParticipantUpdateRequest)
    row = await _participant_row(tx, principal, participant_id)
    check_may_change(row, time.time())
    fields: dict[str, Any] = {}
    if data.display_name is not None:
        fields["display_name"] = data.display_name
    if data.picture is not None:
        fields["picture"] = data.picture
    if data.state is not None:
        fields["state"] = data.state
    if data.role is not None:
        fields["role"] = podium_role(data.role)
    if fields:
        await participants.update_participant(tx, principal, row["id"],
                                              ParticipantUpdate(**fields), links)  # fmt: skip
    return await read_participant(tx, principal, participant_id, links)


async def cancel_participant(
    tx: Unit, hub: Hub, media: Media, principal: Principal, participant_id: str
) -> UnitResponse:
    row = await _participant_row(tx, principal, participant_id)
    if row["ends_at"] is not None and row["ends_at"] <= time.time():
        raise BadRequest("the session has finished; its participants can no longer be cancelled",
                         code="session_finished")  # fmt: skip
    await participants.cancel_participant(tx, hub, media, principal, row["id"])
    return UnitResponse(ok=True)
