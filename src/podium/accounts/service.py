"""Account properties: always the caller's own account."""

from __future__ import annotations

from typing import Any

from podium.accounts import queries
from podium.auth.models import Principal
from podium.db import Executor
from podium.errors import NotFound


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
