"""The lobby's hold on a participant, as other capabilities check it (chat, participant list,
media join answer 412 while it holds). Depends on nothing but the database."""

from __future__ import annotations

import uuid
from typing import Any

from podium.auth.models import Principal
from podium.errors import PreconditionFailed
from podium.lobby import queries
from podium.lobby.models import Gate, is_blocked, opens_at
from podium.lobby.schemas import Standing


async def standing(db: Any, principal: Principal, class_id: uuid.UUID) -> Standing | None:
    """The caller's standing with the class's lobby; None for callers who are no participant
    of it (the tenant's backend, its own end-user tokens)."""
    if principal.participant_id is None or principal.class_id != class_id:
        return None
    row = await db.fetchrow(queries.STANDING, principal.participant_id, class_id)
    if row is None:
        return None
    blocked = is_blocked(row["lobby_state"], row["role"], row["permissions"], row["admitted"])
    return Standing(state=row["lobby_state"], timer=opens_at(row),
                    message=row["lobby_message"], blocked=blocked, waiting=row["waiting"],
                    denied=row["denied"])  # fmt: skip


async def check_admitted(db: Any, principal: Principal, class_id: uuid.UUID) -> None:
    """412 while the lobby holds the caller back (chat, participant list, media join)."""
    found = await standing(db, principal, class_id)
    if found is not None and found.blocked:
        raise PreconditionFailed(
            "the lobby holds you back until someone lets you in"
            + ("" if found.timer is None else " or it opens at its timer"),
            code="lobby_blocked",
        )


async def gate(db: Any, principal: Principal, class_id: uuid.UUID) -> Gate | None:
    """The live socket's gate for a participant the lobby can hold back; None for everyone
    it never holds (managers, `ignore_lobby`, the tenant's backend and its own users)."""
    if principal.participant_id is None or principal.class_id != class_id:
        return None
    row = await db.fetchrow(queries.STANDING, principal.participant_id, class_id)
    if row is None or not is_blocked(1, row["role"], row["permissions"], admitted=False):
        return None
    closed = is_blocked(row["lobby_state"], row["role"], row["permissions"], row["admitted"])
    return Gate(str(principal.participant_id), closed)
