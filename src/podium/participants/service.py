"""Use cases of participants: add, list, read, change, cancel; and entering a class through a
participant's entry link (exchanged for an access token Podium signs)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from podium.auth import tokens
from podium.auth.admission import check_admitted
from podium.auth.models import Principal
from podium.auth.policy import Action, authorize, sees
from podium.auth.roles import effective_permissions, unknown_permissions
from podium.classes.models import Kind
from podium.classes.service import ClassRef, read_class
from podium.conference.backends import Media
from podium.conference.service import hang_up
from podium.config import Settings
from podium.db import Executor, Row, Unit
from podium.errors import Conflict, Forbidden, Gone, NotFound, Unauthorized, ValidationFailed
from podium.lobby.service import arrive
from podium.participants import queries
from podium.participants.models import link_refusal, parse_link, sign_link
from podium.participants.schemas import (
    JoinAnswer,
    LinkLook,
    ParticipantCreate,
    ParticipantPage,
    ParticipantRead,
    ParticipantUpdate,
)
from podium.rooms.live import Hub, ban_message
from podium.sip.service import assign_pins


@dataclass(frozen=True, slots=True)
class Links:
    """What entry links and their tokens are made with."""

    key: str  # Podium's own signing key (server_keys)
    base_url: str  # where browsers reach Podium
    token_seconds: int = 12 * 3600


def entry_url(links: Links, participant_id: uuid.UUID, version: int) -> str:
    return f"{links.base_url}/join/{sign_link(links.key, participant_id, version)}"


def _read(row: Row, links: Links) -> ParticipantRead:
    canceled = bool(row["canceled"])
    return ParticipantRead(
        participant_id=row["id"], class_id=row["class_id"], account_id=row["account_id"],
        display_name=row["display_name"], picture=row["picture"], role=row["role"],
        permissions=effective_permissions(row["role"], row["permissions"]), state=row["state"],
        single_use=row["single_use"], created_at=row["created_at"], canceled=canceled,
        attendee_pin=row["attendee_pin"],
        entry_url=None if canceled else entry_url(links, row["id"], row["link_version"]),
    )  # fmt: skip


def _check_permissions(permissions: dict[str, bool] | None) -> None:
    unknown = unknown_permissions(permissions or {})
    if unknown:
        raise ValidationFailed(
            f"unknown permission {unknown[0]!r}; known: start_call, join_call, ignore_lobby, "
            "audio, video, screen, chat, reactions",
            field=f"permissions.{unknown[0]}",
        )


def _class_not_found(class_id: uuid.UUID) -> NotFound:
    return NotFound(f"no class {class_id} in this audience", code="class_not_found")


def _not_found(participant_id: uuid.UUID) -> NotFound:
    return NotFound(f"no participant {participant_id} in this audience",
                    code="participant_not_found")  # fmt: skip


async def create_participant(
    tx: Unit, principal: Principal, class_id: uuid.UUID, data: ParticipantCreate, links: Links
) -> ParticipantRead:
    """The participant, and their attendee PIN when the class takes SIP calls by PIN."""
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    _check_permissions(data.permissions)
    cls = await tx.fetchrow(queries.CLASS_STATE, class_id, principal.audience)
    if cls is None or not sees(principal, class_id):
        raise _class_not_found(class_id)
    if cls["closed"]:
        raise Conflict("the class has closed; nobody can be added", code="class_closed")
    row = await tx.fetchrow(
        queries.INSERT, uuid.uuid4(), class_id, principal.audience, data.account_id,
        data.display_name, data.picture, data.role, data.permissions or {}, data.state,
        data.single_use,
    )  # fmt: skip
    if row is None:
        raise Conflict(f"account {data.account_id!r} is already a participant of this class",
                       code="participant_exists", field="account_id")  # fmt: skip
    if cls["sip_state"] == 1:  # a class with SIP dial-in by PIN: the newcomer gets one too
        await assign_pins(tx, class_id)
        row = await tx.fetchrow(queries.SELECT, row["id"], principal.audience)
        assert row is not None  # made in this unit
    return _read(row, links)


async def list_participants(
    db: Executor, principal: Principal, class_id: uuid.UUID, links: Links, *,
    include_canceled: bool = False, offset: int = 0, limit: int = 100,
) -> ParticipantPage:  # fmt: skip
    if not sees(principal, class_id):
        raise _class_not_found(class_id)
    if principal.participant_id is not None and principal.class_id == class_id:
        await check_admitted(db, principal, class_id)  # the class's own participants may look
    else:
        authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    if await db.fetchrow(queries.CLASS_STATE, class_id, principal.audience) is None:
        raise _class_not_found(class_id)
    rows = await db.fetch(queries.LIST, class_id, principal.audience, include_canceled,
                          offset, limit + 1)  # fmt: skip
    return ParticipantPage([_read(r, links) for r in rows[:limit]], has_next=len(rows) > limit)


async def _own_or_managed(
    db: Executor, principal: Principal, participant_id: uuid.UUID, manage: bool
) -> Row:
    """The participant, if the caller may see it (managers; the participant itself, to read)."""
    row = await db.fetchrow(queries.SELECT, participant_id, principal.audience)
    if row is None or not sees(principal, row["class_id"]):
        raise _not_found(participant_id)
    if manage or principal.participant_id != participant_id:
        authorize(principal, Action.UPDATE_CLASS, class_id=row["class_id"])
    return row


async def read_participant(
    db: Executor, principal: Principal, participant_id: uuid.UUID, links: Links
) -> ParticipantRead:
    return _read(await _own_or_managed(db, principal, participant_id, manage=False), links)


async def update_participant(
    tx: Unit, principal: Principal, participant_id: uuid.UUID, data: ParticipantUpdate,
    links: Links,
) -> ParticipantRead:  # fmt: skip
    await _own_or_managed(tx, principal, participant_id, manage=True)
    changes = data.changes()
    if "permissions" in changes:
        _check_permissions(changes["permissions"])
    if not changes and not data.rotate_link:
        raise ValidationFailed(
            "give at least one of: display_name, picture, role, permissions, state, "
            "single_use, rotate_link", field="body", code="nothing_to_update",
        )  # fmt: skip
    row = await tx.fetchrow(queries.update(list(changes)), participant_id, principal.audience,
                            data.rotate_link, *changes.values())  # fmt: skip
    if row is None:
        raise Conflict("the participant was cancelled; it cannot change",
                       code="participant_canceled")  # fmt: skip
    return _read(row, links)


async def cancel_participant(
    tx: Unit, hub: Hub, media: Media, principal: Principal, participant_id: uuid.UUID
) -> None:
    """For good: the link stops working, the account is banned from the class's event room
    and loses its media grant; once that commits, its live sockets close and it is hung up on
    Janus, at once."""
    await _own_or_managed(tx, principal, participant_id, manage=True)
    row = await tx.fetchrow(queries.CANCEL, participant_id, principal.audience,
                            principal.account_id)  # fmt: skip
    if row is None:
        return  # cancelled already: nothing more to do
    room_id, account_id = row["event_room_id"], row["account_id"]
    tx.after_commit(lambda: hub.publish(room_id, ban_message(account_id)))
    await hang_up(tx, media, principal.audience, row["class_id"], account_id)


BANNED = "this account is banned from the class"


def _refusal(row: Row | None, version: int) -> tuple[str, str] | None:
    """Why the link (version `version` of the participant in `row`) does not open now."""
    return link_refusal(
        now=time.time(), starts_at=row["starts_at"] if row else None,
        ends_at=row["ends_at"] if row else None,
        canceled=row is None or row["canceled"] or row["class_canceled"],
        version=version, current_version=row["link_version"] if row else version,
        single_use=bool(row and row["single_use"]), used=bool(row and row["used"]),
    )  # fmt: skip


async def look(db: Executor, key: str, entry_token: str) -> LinkLook:
    """What the link's page shows before entering, without spending the link (a link preview
    in a chat app must not use up a single-use link). An ended class refuses as expired."""
    parsed = parse_link(key, entry_token)
    row = None if parsed is None else await db.fetchrow(queries.FOR_LINK, parsed[0])
    if parsed is None or row is None:
        return LinkLook(None, None, None, None, None, None, None, None, "link_invalid",
                        "this entry link is not valid")  # fmt: skip
    refusal = _refusal(row, parsed[1])
    if refusal is None and row["banned"]:
        refusal = ("banned", BANNED)
    if refusal is None and row["ended"]:
        refusal = ("link_expired", "the class has ended")
    code, reason = refusal or (None, None)

    def seconds(value: float | None) -> int | None:
        return None if value is None else int(value)

    return LinkLook(
        participant_id=row["id"], class_id=row["class_id"], kind=row["kind"], title=row["title"],
        starts_at=seconds(row["starts_at"]), ends_at=seconds(row["ends_at"]),
        display_name=row["display_name"], role=row["role"], refusal=code, reason=reason,
    )  # fmt: skip


async def enter(
    tx: Unit, hub: Hub, settings: Settings, entry_token: str, links: Links
) -> JoinAnswer:
    """Exchange an entry token for an access token of the participant (Podium-signed); held
    back by the lobby, they join its waiting queue (in the same unit)."""
    parsed = parse_link(links.key, entry_token)
    if parsed is None:
        raise Unauthorized("this entry link is not valid", code="invalid_link",
                           field="entry_token")  # fmt: skip
    participant_id, version = parsed
    if await tx.fetchval(queries.USE_LINK, participant_id, version) is None:
        row = await tx.fetchrow(queries.FOR_LINK, participant_id)
        code, message = _refusal(row, version) or (
            ("banned", BANNED) if row and row["banned"] else
            ("link_revoked", "this link no longer works")
        )  # fmt: skip
        error = Gone if code in ("link_revoked", "link_used") else Forbidden
        raise error(message, code=code, field="entry_token")
    row = await tx.fetchrow(queries.FOR_LINK, participant_id)
    assert row is not None  # the link was just spent: the participant exists
    now = time.time()
    ttl = links.token_seconds
    if row["ends_at"] is not None:
        ttl = max(60, min(ttl, int(row["ends_at"] - now)))
    access = tokens.issue(links.key, row["audience"], dict(row), ttl)
    principal = Principal(
        audience=row["audience"], account_id=row["account_id"], is_service=False,
        participant_id=participant_id, class_id=row["class_id"], role=row["role"],
    )  # fmt: skip
    read = await read_class(tx, settings, principal,
                            ClassRef(Kind(row["kind"]), id=row["class_id"]))  # fmt: skip
    participant = await read_participant(tx, principal, participant_id, links)
    lobby = await arrive(tx, hub, principal, row["class_id"])
    return JoinAnswer(access_token=access, token_type="Bearer", expires_in=ttl,  # noqa: S106
                      class_=read, participant=participant, lobby=lobby)  # fmt: skip
