"""Accounts: their properties (always the caller's own), and class-wide bans."""

from __future__ import annotations

import uuid
from typing import Any

from podium.accounts import queries
from podium.accounts.schemas import BanOperation, BanUpdate
from podium.auth.models import Principal
from podium.auth.policy import Action, authorize
from podium.classes.service import rooms_of
from podium.conference.backends import Media
from podium.conference.service import hang_up, restore_media
from podium.db import Executor, Row, Unit
from podium.errors import Conflict, NotFound
from podium.notifications.service import notify
from podium.rooms.live import Hub
from podium.rooms.service import apply_ban


async def read_property(db: Executor, principal: Principal, property_id: str) -> Any:
    row = await db.fetchrow(
        queries.SELECT_PROPERTY, principal.audience, principal.account_id, property_id
    )
    if row is None or not row["present"]:
        raise NotFound(f"no account property {property_id!r}", code="account_property_not_found")
    return row["value"]


async def update_property(
    db: Executor, principal: Principal, property_id: str, value: Any
) -> dict[str, Any]:
    merged: dict[str, Any] = await db.fetchval(
        queries.MERGE_PROPERTY, principal.audience, principal.account_id, property_id, value
    )
    return merged


async def _class_to_ban(db: Executor, principal: Principal, class_id: uuid.UUID) -> Row:
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    return await rooms_of(db, principal, class_id)


async def last_ban_operation(
    db: Executor, principal: Principal, account_id: str, class_id: uuid.UUID
) -> BanOperation:
    """The operation id a ban or unban of the account must name (0 before the first)."""
    await _class_to_ban(db, principal, class_id)
    last = await db.fetchval(queries.LAST_BAN_OP, principal.audience, account_id)
    return BanOperation(last_seen_op_id=last or 0)


async def ban_account(
    tx: Unit, hub: Hub, media: Media, principal: Principal, account_id: str, data: BanUpdate
) -> BanOperation:
    """Ban the account from the class, or lift it, in one unit: banned from its event room
    (live sockets closed), its media grant revoked (hung up on Janus), its entry links refused,
    the tenant told (`account.ban`). Only against the last operation the caller saw: two
    moderators acting at once cannot undo each other unseen (a stale id → 409)."""
    room = await _class_to_ban(tx, principal, data.class_id)
    audience, by = principal.audience, principal.account_id
    op = await tx.fetchval(queries.NEXT_BAN_OP, audience, account_id, data.last_seen_op_id,
                           data.class_id, data.ban, by)  # fmt: skip
    if op is None and data.last_seen_op_id == 0:
        op = await tx.fetchval(queries.FIRST_BAN_OP, audience, account_id, data.class_id,
                               data.ban, by)  # fmt: skip
    if op is None:
        current = await tx.fetchval(queries.LAST_BAN_OP, audience, account_id)
        raise Conflict(
            f"operation {data.last_seen_op_id} is not the account's last ban operation "
            f"({current or 0}): read it again and decide",
            code="operation_id_obsolete", field="last_seen_op_id",
        )  # fmt: skip
    await apply_ban(tx, hub, room["event_room_id"], account_id, data.ban,
                    data.reason or "banned from the class", by)  # fmt: skip
    if data.ban:
        await hang_up(tx, media, audience, data.class_id, account_id)
    else:
        await restore_media(tx, audience, data.class_id, account_id)
    await notify(tx, audience, "account.ban",
                 {"account_id": account_id, "class_id": data.class_id, "banned": data.ban,
                  "reason": data.reason, "op_id": op, "by": by}, data.class_id)  # fmt: skip
    return BanOperation(last_seen_op_id=op)
