"""Use cases of SIP dial-in: turn it on or off for a class (spec 003), give attendees PINs, and
tell a SIP bridge who a caller is."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from podium.auth import tokens
from podium.auth.models import Principal
from podium.auth.policy import sees
from podium.auth.roles import MANAGING_ROLES
from podium.db import Executor, Unit
from podium.errors import NotFound, PreconditionFailed, Unauthorized
from podium.sip import queries
from podium.sip.models import check_bridge, check_sip_change, new_dialin_id, new_pin
from podium.sip.schemas import DialinClass, DialinParticipant, Verified, Verify

TRIES = 5
BRIDGE_TOKEN_SECONDS = 4 * 3600


def _standing(principal: Principal, class_id: uuid.UUID, account_role: str | None) -> tuple[
    bool, bool, bool
]:  # fmt: skip
    """(moderator, signed in, may enable SIP) for the caller in this class. The tenant's backend
    is all three; a participant who came in through a link is a guest (not signed in); a tenant
    end user is what their participant record in the class says."""
    if principal.is_service:
        return True, True, True
    if principal.participant_id is not None:
        role = principal.role if principal.class_id == class_id else None
        return role in MANAGING_ROLES, False, role == "owner"
    return account_role in MANAGING_ROLES, True, account_role == "owner"


async def set_sip(
    tx: Unit, principal: Principal, class_id: uuid.UUID, kind: str | None, body: Any,
    configured: bool,
) -> str:  # fmt: skip
    """Spec 003's PUT …/sip; the same state again changes nothing. Answers the class's kind."""
    row = await tx.fetchrow(queries.CLASS, class_id, principal.audience, kind,
                            principal.account_id)  # fmt: skip
    if row is None or not sees(principal, class_id):
        raise NotFound(f"no {kind or 'class'} {class_id} in this audience",
                       code=f"{kind or 'class'}_not_found")  # fmt: skip
    moderator, signed_in, may_enable = _standing(principal, class_id, row["account_role"])
    state = check_sip_change(
        moderator=moderator, signed_in=signed_in, may_enable=may_enable, configured=configured,
        state=body.get("state") if isinstance(body, dict) else None,
    )  # fmt: skip
    if state != row["sip_state"]:
        for _ in range(TRIES):  # a dial-in id is unique: draw again on the rare collision
            try:
                async with tx.savepoint():  # a collision must not abort the whole unit
                    await tx.execute(queries.SET_STATE, class_id, state, new_dialin_id())
                break
            except asyncpg.UniqueViolationError:
                continue
    if state == 1:
        await assign_pins(tx, class_id)
    return str(row["kind"])


async def assign_pins(tx: Unit, class_id: uuid.UUID) -> None:
    """Every attendee of a class with SIP state 1 gets a PIN unique in the class (drawn here
    against the class's PINs, one class at a time)."""
    if await tx.fetchval(queries.LOCK_SIP_STATE, class_id) != 1:
        return
    rows = await tx.fetch(queries.PINS, class_id)
    taken = {r["attendee_pin"] for r in rows if r["attendee_pin"] is not None}
    ids, pins = [], []
    for r in rows:
        if r["attendee_pin"] is None and not r["canceled"]:
            pin = new_pin()
            while pin in taken:
                pin = new_pin()
            taken.add(pin)
            ids.append(r["id"])
            pins.append(pin)
    if ids:
        await tx.execute(queries.SET_PINS, ids, pins)


async def verify(
    db: Executor, secret: str | None, issuing_key: str, nonce: str | None,
    checksum: str | None, raw: bytes, data: Verify,
) -> Verified:  # fmt: skip
    """A SIP bridge asks who a caller is (dial-in id, and PIN when the class wants one)."""
    if not secret:
        raise PreconditionFailed("SIP dial-in is not configured on this server",
                                 code="sip_not_configured")  # fmt: skip
    check_bridge(secret, nonce, checksum, raw)
    if await db.fetchval(queries.SPEND_NONCE, nonce) is None:
        raise Unauthorized("this request was seen before (its nonce is spent)", code="replayed")
    row = await db.fetchrow(queries.DIALIN, data.dialin_id, data.pin)
    if row is None or (row["sip_state"] == 1 and row["participant_id"] is None):
        raise NotFound("no class takes calls with this dial-in id and PIN", code="not_found")
    found = DialinClass(
        class_id=row["class_id"], kind=row["kind"], audience=row["audience"], scope=row["scope"],
        title=row["title"], event_room_id=row["event_room_id"],
        conference_room_id=row["conference_room_id"],
    )  # fmt: skip
    if row["participant_id"] is None:
        return Verified(class_=found)
    who = {"id": row["participant_id"], "class_id": row["class_id"],
           "account_id": row["account_id"], "role": row["role"]}  # fmt: skip
    return Verified(
        class_=found,
        participant=DialinParticipant(row["participant_id"], row["account_id"],
                                      row["display_name"], row["role"]),
        access_token=tokens.issue(issuing_key, row["audience"], who, BRIDGE_TOKEN_SECONDS),
    )  # fmt: skip
