"""The one function that decides who may do what.

Tenancy (another audience's class answers 404) is enforced by every query filtering on the
caller's audience; this function decides the rights within an audience.
"""

from __future__ import annotations

from enum import Enum
from uuid import UUID

from podium.auth.models import Principal
from podium.auth.roles import MANAGING_ROLES
from podium.errors import Forbidden, NotFound


class Action(Enum):
    CREATE_CLASS = "create a class"
    READ_CLASS = "read a class"
    UPDATE_CLASS = "update a class"
    POST_EVENT = "post events in a class's room"


def allowed(principal: Principal, action: Action, class_id: UUID | None = None) -> bool:
    """`class_id`: the class the action is on, when the caller knows it. A participant's owner
    or moderator may update their own class, never another."""
    if principal.is_service:
        return True
    if (
        action is Action.UPDATE_CLASS and class_id is not None
        and principal.class_id == class_id and principal.role in MANAGING_ROLES
    ):  # fmt: skip
        return True
    # An end user may read a class of their audience and post in its room (chat, reactions:
    # what a locked type keeps to moderators is decided by the room's rules); managing classes
    # belongs to the tenant's backend until participant roles give moderators more.
    return action in (Action.READ_CLASS, Action.POST_EVENT)


def authorize(
    principal: Principal, action: Action, audience: str | None = None,
    class_id: UUID | None = None,
) -> None:  # fmt: skip
    if audience is not None and audience != principal.audience:
        raise Forbidden(
            f"a token of audience {principal.audience!r} cannot {action.value} in {audience!r}",
            field="audience",
            code="audience_mismatch",
        )
    if class_id is not None and not sees(principal, class_id):
        raise NotFound(f"no class {class_id} in this audience", code="class_not_found")
    if not allowed(principal, action, class_id):
        raise Forbidden(f"this token may not {action.value}", code="not_allowed")


def sees(principal: Principal, class_id: UUID) -> bool:
    """Whether the token acts in this class: a participant's token in its own class only, a
    tenant's end-user token with a `classes` claim in those; any other in its whole audience.
    A class the token does not act in answers as if it did not exist (404)."""
    return principal.classes is None or class_id in principal.classes


def within(principal: Principal, audience: str) -> Principal:
    """For routes that name an audience: another tenant's audience looks like nothing at all."""
    if audience != principal.audience:
        raise NotFound(f"nothing in audience {audience!r} for this token", code="not_found")
    return principal
