"""Joining a class's media, and losing it.

Joining hands out a grant: a participant id and a token Janus checks (the room's `allowed`
list). Every client joins as a participant first (that gives the private id a subscription
needs), so everyone in a room is visible, countable and can be hung up. The backend's check
counts them, hangs up those without an active grant or sending media without the right, and
records what the class lifecycle needs to end a class whose host left.
"""

from __future__ import annotations

import time
import uuid

from podium.auth.admission import check_admitted
from podium.auth.models import Principal
from podium.auth.policy import Action, authorize, sees
from podium.auth.roles import MANAGING_ROLES
from podium.conference import queries
from podium.conference.backends import Media
from podium.conference.models import MediaRole, ice_servers, media_role, pick_turn_host
from podium.conference.schemas import MediaJoin
from podium.config import Settings
from podium.db import Row, Unit
from podium.errors import Conflict, Forbidden, NotFound


def _class_not_found(class_id: uuid.UUID) -> NotFound:
    return NotFound(f"no class {class_id} in this audience", code="class_not_found")


async def join_media(
    tx: Unit, media: Media, settings: Settings, principal: Principal, class_id: uuid.UUID
) -> MediaJoin:
    """What a browser needs to join the class's media: the Janus URL and room, a participant id
    and a token Janus checks, the participant's role, and ICE servers. Asking again answers
    the same participant id and token (a reconnect), with fresh TURN credentials."""
    authorize(principal, Action.READ_CLASS)
    # Read before the unit: the backend asks Janus who is in the room holding nothing.
    row = await tx.db.fetchrow(queries.MEDIA_TARGET, class_id, principal.audience,
                               principal.account_id)  # fmt: skip
    if row is None or not sees(principal, class_id):
        raise _class_not_found(class_id)
    if row["closed"]:
        raise Conflict("the class has closed; its media room is gone", code="class_closed")
    if row["revoked"]:
        raise Forbidden("this account's media access to the class was revoked",
                        code="media_revoked")  # fmt: skip
    await check_admitted(tx.db, principal, class_id)
    # The tenant's backend, and a participant who manages this class, present in webinars.
    manages = principal.is_service or (
        principal.class_id == class_id and principal.role in MANAGING_ROLES
    )
    role = media_role(row["kind"], principal.account_id, row["host"], manages)
    # A webinar with replicas seats its viewers in them: the presenter's server carries only
    # the presenter and the forwards (forwarding.py).
    seats = []
    if role is MediaRole.SUBSCRIBER:
        seats = await tx.db.fetch(queries.SEATS, row["room_id"], row["seated_room_id"])
    seat = await media.of(row["backend"]).admit(tx, row, principal.account_id, role, seats)
    turn_host = pick_turn_host(row["kind"], row["scope"], settings.turn_hosts)
    return MediaJoin(
        class_id=row["class_id"], room=seat.room, janus_url=seat.url,
        server=seat.server or "", role=role.value, participant_id=str(seat.grant_id),
        token=seat.token,
        ice_servers=ice_servers(turn_host, settings.turn_secret, principal.account_id,
                                int(time.time()), settings.turn_ttl_seconds),
        turn_host=turn_host,
    )  # fmt: skip


async def revoke_media(
    tx: Unit, media: Media, principal: Principal, class_id: uuid.UUID, account_id: str
) -> None:
    """The account loses media access to the class for good (see `hang_up`)."""
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    if not await hang_up(tx, media, principal.audience, class_id, account_id):
        raise _class_not_found(class_id)


async def hang_up(
    tx: Unit, media: Media, audience: str, class_id: uuid.UUID, account_id: str
) -> bool:
    """Revoke the account's grant in the unit; once it commits, its token leaves the room's
    allow-list and it is hung up. False when there is no such class."""
    row: Row | None = await tx.fetchrow(queries.MEDIA_TARGET, class_id, audience, account_id)
    if row is None:
        return False
    grant = await tx.fetchrow(queries.REVOKE_GRANT, uuid.uuid4(), row["room_id"], account_id)
    assert grant is not None  # an upsert always answers its row
    seat = row
    if grant["seated_room_id"] is not None:  # seated in a replica room: hung up there
        seat = await tx.fetchrow(queries.SEAT_ROOM, grant["seated_room_id"]) or row
    media.of(row["backend"]).hang_up(tx, seat, grant["id"])
    return True


async def restore_media(tx: Unit, audience: str, class_id: uuid.UUID, account_id: str) -> None:
    """The account's revoked grant in the class works again (a lifted ban)."""
    await tx.execute(queries.RESTORE_GRANT, class_id, audience, account_id)
