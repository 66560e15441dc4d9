"""The lobby's hold on a participant: whether they are let into their class's insides (chat,
participant list, media answer 412 while it holds, and the live socket carries only the
lobby's own events). Read by every capability that serves a class; the lobby's use cases
(turning it on, the waiting queue) change what it reads."""

from __future__ import annotations

import uuid

from msgspec import Struct

from podium.auth import queries
from podium.auth.models import Principal
from podium.auth.roles import effective_permissions, is_managing
from podium.db import Executor, Row
from podium.errors import PreconditionFailed


class Standing(Struct):
    """A participant's place with the lobby (answered to POST /api/v1/join)."""

    state: int
    timer: int | None
    message: str | None
    blocked: bool  # held back: chat, participant list and media answer 412
    waiting: bool
    denied: bool


def is_blocked(lobby_state: int, role: str, overrides: dict[str, bool], admitted: bool) -> bool:
    """Held back by the lobby: it is on, the participant neither manages the class nor may
    ignore the lobby, and nobody admitted them yet."""
    if lobby_state == 0 or is_managing(role):
        return False
    if effective_permissions(role, overrides)["ignore_lobby"]:
        return False
    return not admitted


def opens_at(row: Row) -> int | None:
    """When a stored lobby opens by itself (see lobby/queries.py OPENS_AT, the opener's twin):
    its minutes before the start, or its timer. `row` has starts_at, lobby_opens_before and
    lobby_timer."""
    if row["lobby_opens_before"] is not None and row["starts_at"] is not None:
        return int(row["starts_at"]) - int(row["lobby_opens_before"]) * 60
    timer = row["lobby_timer"]
    return None if timer is None else int(timer)


async def _own_row(db: Executor, principal: Principal, class_id: uuid.UUID) -> Row | None:
    if principal.participant_id is None or principal.class_id != class_id:
        return None
    return await db.fetchrow(queries.STANDING, principal.participant_id, class_id)


async def standing(db: Executor, principal: Principal, class_id: uuid.UUID) -> Standing | None:
    """The caller's standing with the class's lobby; None for callers who are no participant
    of it (the tenant's backend, its own end-user tokens)."""
    row = await _own_row(db, principal, class_id)
    if row is None:
        return None
    blocked = is_blocked(row["lobby_state"], row["role"], row["permissions"], row["admitted"])
    return Standing(state=row["lobby_state"], timer=opens_at(row),
                    message=row["lobby_message"], blocked=blocked, waiting=row["waiting"],
                    denied=row["denied"])  # fmt: skip


async def check_admitted(db: Executor, principal: Principal, class_id: uuid.UUID) -> None:
    """412 while the lobby holds the caller back (chat, participant list, media join)."""
    found = await standing(db, principal, class_id)
    if found is not None and found.blocked:
        raise PreconditionFailed(
            "the lobby holds you back until someone lets you in"
            + ("" if found.timer is None else " or it opens at its timer"),
            code="lobby_blocked",
        )


async def held_now(db: Executor, principal: Principal, class_id: uuid.UUID) -> bool | None:
    """For a participant the lobby can hold back (not a manager, no `ignore_lobby`): whether
    it holds them now. None for everyone it never holds (managers, the tenant's backend and
    its own users), who need no gate on the live socket."""
    row = await _own_row(db, principal, class_id)
    if row is None or not is_blocked(1, row["role"], row["permissions"], admitted=False):
        return None
    return is_blocked(row["lobby_state"], row["role"], row["permissions"], row["admitted"])
