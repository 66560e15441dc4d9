"""Use cases of the lobby: turn it on or off (with a timer that opens it at that instant), the
waiting queue (wait, admit, deny, a message), and the check that holds participants back.

Every change is an event in the class's event room (so those waiting hear it live over the
room's WebSocket) and a tenant notification.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from typing import Any

from podium.auth.models import Principal
from podium.auth.policy import Action, authorize
from podium.conference.pool import MediaPool
from podium.db import Database
from podium.errors import Conflict, NotFound, ValidationFailed
from podium.lobby import queries
from podium.lobby.checks import standing
from podium.lobby.models import opening_time, opens_at, parse_lobby
from podium.lobby.schemas import Admission, Admitted, Denial, Lobby, Standing, Waiting
from podium.notifications.service import notify
from podium.rooms.live import Hub, announce
from podium.rooms.schemas import EventCreate
from podium.rooms.service import store_event

log = logging.getLogger(__name__)

PODIUM = Principal(audience="", account_id="podium", is_service=True)


async def _class(db: Any, principal: Principal, class_id: uuid.UUID, kind: str | None) -> Any:
    row = await db.fetchrow(queries.CLASS, class_id, principal.audience, kind)
    if row is None:
        raise NotFound(f"no {kind or 'class'} {class_id} in this audience",
                       code=f"{kind or 'class'}_not_found")  # fmt: skip
    return row


async def _tell(
    db: Database, hub: Hub, audience: str, class_row: Any, type_: str, data: dict[str, Any]
) -> None:
    """An event in the class's event room (live to everyone in it) and a tenant notification,
    in one transaction; a closed room still gets the notification."""
    stored = None
    async with db.transaction() as conn:
        with contextlib.suppress(Conflict):
            async with conn.transaction():  # a savepoint: a closed room must not undo the rest
                stored = await store_event(conn, class_row["event_room_id"], PODIUM,
                                           EventCreate(type=type_, data=data))  # fmt: skip
        await notify(conn, audience, type_, {"class_id": class_row["id"], **data})
    if stored is not None:
        await announce(hub, class_row["event_room_id"], stored)


async def set_lobby(
    db: Database, hub: Hub, pool: MediaPool, principal: Principal, class_id: uuid.UUID,
    kind: str | None, body: Any,
) -> str:  # fmt: skip
    """Spec 003's PUT …/lobby. Turning it on moves everyone who does not bypass it out of the
    call; a timer in the past opens it at once."""
    row = await _class(db, principal, class_id, kind)  # 404, then 403, then 400 as spec 003
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    request = parse_lobby(body)
    timer = opening_time(request, row["starts_at"])
    state = request.state
    if state == 1 and timer is not None and timer <= time.time():
        state, timer = 0, None  # its time has come already
    message = request.message if request.message is not None else row["lobby_message"]
    # Bound to the schedule, the minutes are kept (the opening follows the start); else the timer.
    before = request.opens_before if state == 1 and row["starts_at"] is not None else None
    fixed = None if before is not None else timer
    held: list[str] = []
    async with db.transaction() as conn:
        row = await conn.fetchrow(queries.SET, class_id, state, fixed, message, before)
        if state == 1:
            held = [r["account_id"] for r in await conn.fetch(queries.HOLD_BACK, class_id)]
    await _tell(db, hub, principal.audience, row, "lobby",
                {"state": state, "timer": timer, "message": message})  # fmt: skip
    if held:
        await pool.hang_up_accounts(db, class_id, held)
    return str(row["kind"])


async def arrive(db: Database, hub: Hub, principal: Principal, class_id: uuid.UUID) -> Standing:
    """A participant entering through their link: held back by the lobby, they join the
    waiting queue (those inside and the tenant are told)."""
    found = await standing(db, principal, class_id)
    assert found is not None
    if found.blocked and not found.waiting:
        who = await db.fetchrow(queries.WAIT, principal.participant_id)
        if who is not None:
            row = await db.fetchrow(queries.CLASS, class_id, principal.audience, None)
            await _tell(db, hub, principal.audience, row, "lobby.waiting",
                        {"participant_id": str(who["id"]),
                         "display_name": who["display_name"]})  # fmt: skip
            found = Standing(found.state, found.timer, found.message, True, True, found.denied)
    return found


async def queue(db: Database, principal: Principal, class_id: uuid.UUID) -> list[Waiting]:
    await _class(db, principal, class_id, None)
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    return [Waiting(**dict(r)) for r in await db.fetch(queries.QUEUE, class_id)]


async def admit(
    db: Database, hub: Hub, principal: Principal, class_id: uuid.UUID, data: Admission
) -> Admitted:
    if not data.all and not data.participant_ids:
        raise ValidationFailed("name `participant_ids`, or `all: true`", field="participant_ids")
    row = await _class(db, principal, class_id, None)
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    ids = None if data.all else data.participant_ids
    admitted = [r["id"] for r in await db.fetch(queries.ADMIT, class_id, ids)]
    if admitted:
        await _tell(db, hub, principal.audience, row, "lobby.admit",
                    {"participant_ids": [str(i) for i in admitted]})  # fmt: skip
    return Admitted(admitted)


async def deny(
    db: Database, hub: Hub, principal: Principal, class_id: uuid.UUID, data: Denial
) -> Admitted:
    row = await _class(db, principal, class_id, None)
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    denied = [r["id"] for r in await db.fetch(queries.DENY, class_id, data.participant_ids)]
    if denied:
        await _tell(db, hub, principal.audience, row, "lobby.deny",
                    {"participant_ids": [str(i) for i in denied]})  # fmt: skip
    return Admitted(denied)


async def set_message(
    db: Database, hub: Hub, principal: Principal, class_id: uuid.UUID, message: str | None
) -> Lobby:
    row = await _class(db, principal, class_id, None)
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    await db.execute(queries.SET_MESSAGE, class_id, message)
    await _tell(db, hub, principal.audience, row, "lobby.message", {"message": message})
    return Lobby(row["lobby_state"], opens_at(row), message)


async def open_due(db: Database, hub: Hub) -> int:
    """Open every lobby whose timer has passed, at once, and tell those waiting live."""
    opened = await db.fetch(queries.OPEN_DUE)
    for row in opened:
        await _tell(db, hub, row["audience"], row, "lobby",
                    {"state": 0, "timer": None, "opened_by": "timer"})  # fmt: skip
    return len(opened)
