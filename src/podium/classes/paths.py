"""Routes that stand on every kind's class path (spec 003's `/{webinars,minigroups,classes}/:id/…`):
the paths, the kind a path asks for, and the class read they answer with."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request

from podium.auth.models import Principal
from podium.classes.models import Kind
from podium.classes.schemas import ClassRead
from podium.classes.service import ClassRef, read_class
from podium.config import Settings
from podium.db import Executor

# Which kind each path's class must be (`classes` takes any).
KIND_BY_PLURAL = {
    "webinars": "webinar", "minigroups": "minigroup", "p2p": "p2p", "chats": "chat",
    "classes": None,
}  # fmt: skip


def every_kind(suffix: str) -> list[str]:
    return [f"/api/v1/{plural}/{{class_id:str}}/{suffix}" for plural in KIND_BY_PLURAL]


async def body_or_none(request: Request[Any, Any, Any]) -> Any:
    """The JSON body, or None when it is not JSON: spec 003 judges who asks before what they
    ask, so a bad body is refused later, as "no state", with the original's status."""
    try:
        return await request.json()
    except Exception:
        return None


def kind_in(request: Request[Any, Any, Any]) -> str | None:
    return KIND_BY_PLURAL[request.url.path.split("/")[3]]


async def class_answer(
    db: Executor, settings: Settings, principal: Principal, kind: str, class_id: uuid.UUID
) -> ClassRead:
    """The class as a read shows it, after a change (in the change's unit)."""
    return await read_class(db, settings, principal, ClassRef(Kind(kind), id=class_id))
