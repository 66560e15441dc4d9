"""API shapes of class-wide bans (the original dispatcher's `account/:id/ban`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from podium.validation import BIGINT_MAX

OpId = Annotated[int, Meta(ge=0, le=BIGINT_MAX)]


class BanUpdate(Struct):
    """Ban (`ban: true`) or unban the account in the class, against the last operation id the
    caller saw (`GET …/ban/:class_id`): a stale one is refused (409)."""

    ban: bool
    class_id: UUID
    last_seen_op_id: OpId
    reason: str | None = None


class BanOperation(Struct):
    last_seen_op_id: int  # 0: the account was never banned or unbanned in this audience
