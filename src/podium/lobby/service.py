"""Use cases of the lobby: turn it on or off (with a timer that opens it at that instant), the
waiting queue (wait, admit, deny, a message). Who it holds back is `auth.admission`.

Every change is, in the change's unit, an event in the class's event room (so those waiting hear
it live over the room's WebSocket once it commits) and a tenant notification.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

from podium.auth.admission import Standing, opens_at, standing
from podium.auth.models import Principal
from podium.auth.policy import Action, authorize, sees
from podium.classes.schemas import Lobby
from podium.conference.backends import Media
from podium.db import Database, Executor, Row, Unit
from podium.errors import Conflict, NotFound, ValidationFailed
from podium.jobs import JobRegistry
from podium.lobby import queries
from podium.lobby.models import opening_time, parse_lobby
from podium.lobby.schemas import Admission, Admitted, Denial, Waiting
from podium.notifications.service import notify
from podium.rooms.live import Hub
from podium.rooms.schemas import EventCreate
from podium.rooms.service import store_event

PODIUM = Principal(audience="", account_id="podium", is_service=True)


async def _class(db: Executor, principal: Principal, class_id: uuid.UUID, kind: str | None) -> Row:
    row = await db.fetchrow(queries.CLASS, class_id, principal.audience, kind)
    if row is None or not sees(principal, class_id):
        raise NotFound(f"no {kind or 'class'} {class_id} in this audience",
                       code=f"{kind or 'class'}_not_found")  # fmt: skip
    return row


async def _tell(
    tx: Unit, hub: Hub, audience: str, class_row: Row, type_: str, data: dict[str, Any]
) -> None:
    """An event in the class's event room (live to everyone in it once the unit commits) and a
    tenant notification; a closed room still gets the notification (its refusal writes
    nothing, so the unit goes on)."""
    with contextlib.suppress(Conflict):
        await store_event(tx, hub, class_row["event_room_id"], PODIUM,
                          EventCreate(type=type_, data=data))  # fmt: skip
    await notify(tx, audience, type_, {"class_id": class_row["id"], **data}, class_row["id"])


async def set_lobby(
    tx: Unit, hub: Hub, media: Media, principal: Principal, class_id: uuid.UUID,
    kind: str | None, body: Any,
) -> str:  # fmt: skip
    """Spec 003's PUT …/lobby. Turning it on moves everyone who does not bypass it out of the
    call; a timer in the past opens it at once. Answers the class's kind."""
    row = await _class(tx, principal, class_id, kind)  # 404, then 403, then 400 as spec 003
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
    changed = await tx.fetchrow(queries.SET, class_id, state, fixed, message, before)
    assert changed is not None  # the class was just read in this unit
    held = []
    if state == 1:
        held = [r["account_id"] for r in await tx.fetch(queries.HOLD_BACK, class_id)]
    await _tell(tx, hub, principal.audience, changed, "lobby",
                {"state": state, "timer": timer, "message": message})  # fmt: skip
    if held:
        await media.of(row["backend"]).kick_accounts(tx, class_id, held)
    return str(changed["kind"])


async def arrive(tx: Unit, hub: Hub, principal: Principal, class_id: uuid.UUID) -> Standing:
    """A participant entering through their link: held back by the lobby, they join the
    waiting queue (those inside and the tenant are told)."""
    found = await standing(tx, principal, class_id)
    assert found is not None
    if found.blocked and not found.waiting:
        who = await tx.fetchrow(queries.WAIT, principal.participant_id)
        if who is not None:
            row = await _class(tx, principal, class_id, None)
            await _tell(tx, hub, principal.audience, row, "lobby.waiting",
                        {"participant_id": str(who["id"]),
                         "display_name": who["display_name"]})  # fmt: skip
            found = Standing(found.state, found.timer, found.message, True, True, found.denied)
    return found


async def queue(db: Executor, principal: Principal, class_id: uuid.UUID) -> list[Waiting]:
    await _class(db, principal, class_id, None)
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    return [Waiting(**dict(r)) for r in await db.fetch(queries.QUEUE, class_id)]


async def admit(
    tx: Unit, hub: Hub, principal: Principal, class_id: uuid.UUID, data: Admission
) -> Admitted:
    if not data.all and not data.participant_ids:
        raise ValidationFailed("name `participant_ids`, or `all: true`", field="participant_ids")
    row = await _class(tx, principal, class_id, None)
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    ids = None if data.all else data.participant_ids
    admitted = [r["id"] for r in await tx.fetch(queries.ADMIT, class_id, ids)]
    if admitted:
        await _tell(tx, hub, principal.audience, row, "lobby.admit",
                    {"participant_ids": [str(i) for i in admitted]})  # fmt: skip
    return Admitted(admitted)


async def deny(
    tx: Unit, hub: Hub, principal: Principal, class_id: uuid.UUID, data: Denial
) -> Admitted:
    row = await _class(tx, principal, class_id, None)
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    denied = [r["id"] for r in await tx.fetch(queries.DENY, class_id, data.participant_ids)]
    if denied:
        await _tell(tx, hub, principal.audience, row, "lobby.deny",
                    {"participant_ids": [str(i) for i in denied]})  # fmt: skip
    return Admitted(denied)


async def set_message(
    tx: Unit, hub: Hub, principal: Principal, class_id: uuid.UUID, message: str | None
) -> Lobby:
    row = await _class(tx, principal, class_id, None)
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    await tx.execute(queries.SET_MESSAGE, class_id, message)
    await _tell(tx, hub, principal.audience, row, "lobby.message", {"message": message})
    return Lobby(row["lobby_state"], opens_at(row), message)


async def open_due(db: Database, hub: Hub) -> int:
    """Open every lobby whose timer has passed, at once, and tell those waiting live (one unit
    for the batch: each lobby opens with its event and notification, or not at all)."""
    async with db.unit() as tx:
        opened = await tx.fetch(queries.OPEN_DUE)
        for row in opened:
            await _tell(tx, hub, row["audience"], row, "lobby",
                        {"state": 0, "timer": None, "opened_by": "timer"})  # fmt: skip
    return len(opened)


def register_jobs(registry: JobRegistry, db: Database, hub: Hub, every_seconds: float) -> None:
    registry.every("lobby.open_due", every_seconds, lambda: open_due(db, hub))
