"""Conference rooms: which media backend a class gets, and who may join its media.

Without a Janus pool every class gets backend `none` (everything but media works); asking for
`janus` then is refused before anything is made. With a pool, a class's room is placed on the
most loaded server that still fits its reserve and created there before the class is stored;
if the store fails, the room is destroyed again.

Joining media hands out a grant: a participant id and a token Janus checks (the room's
`allowed` list). Every client joins as a participant first (that gives the private id a
subscription needs), so everyone in a room is visible, countable and can be hung up. A check
every few seconds counts them, hangs up those without an active grant or sending media
without the right, and ends a started class whose host left and did not come back.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from podium.auth.models import Principal
from podium.auth.policy import MANAGING_ROLES, Action, authorize
from podium.conference import queries
from podium.conference.janus import JanusError, JanusUnavailable, participant_token
from podium.conference.models import ice_servers, media_role, pick_turn_host
from podium.conference.pool import MediaPool
from podium.conference.schemas import MediaJoin
from podium.db import Database
from podium.errors import Conflict, Forbidden, NotFound, ServiceUnavailable
from podium.lobby.checks import check_admitted

log = logging.getLogger(__name__)


def choose_backend(asked: str | None, janus_configured: bool) -> str:
    if asked == "janus" and not janus_configured:
        raise ServiceUnavailable(
            "backend `janus` was asked for but this Podium has no Janus media server "
            "configured (PODIUM_JANUS_URLS); ask for backend `none` (everything but media works)",
            field="backend",
            code="media_server_unavailable",
        )
    if asked is None:
        return "janus" if janus_configured else "none"
    return asked


@dataclass(frozen=True, slots=True)
class IceOptions:
    """What media credentials offer for NAT traversal (PODIUM_TURN_*)."""

    turn_hosts: tuple[str, ...] = ()
    turn_secret: str | None = None
    ttl_seconds: int = 12 * 3600


async def _media_target(db: Database, principal: Principal, class_id: uuid.UUID) -> Any:
    """The class's conference room on Janus, with the caller's grant; 404 / 409 otherwise."""
    row = await db.fetchrow(queries.MEDIA_TARGET, class_id, principal.audience,
                            principal.account_id)  # fmt: skip
    if row is None:
        raise NotFound(f"no class {class_id} in this audience", code="class_not_found")
    if row["backend"] != "janus" or row["janus_server"] is None:
        raise Conflict(
            "this class has no media room (its backend is `none`)",
            code="no_media_room", field="backend",
        )  # fmt: skip
    return row


async def join_media(
    db: Database, pool: MediaPool, principal: Principal, class_id: uuid.UUID,
    ice: IceOptions = IceOptions(),
) -> MediaJoin:  # fmt: skip
    """What a browser needs to join the class's media: the Janus URL and room, a participant id
    and a token Janus checks, the participant's role, and ICE servers. Asking again answers
    the same participant id and token (a reconnect), with fresh TURN credentials."""
    authorize(principal, Action.READ_CLASS)
    row = await _media_target(db, principal, class_id)
    if row["closed"]:
        raise Conflict("the class has closed; its media room is gone", code="class_closed")
    if row["revoked"]:
        raise Forbidden("this account's media access to the class was revoked",
                        code="media_revoked")  # fmt: skip
    await check_admitted(db, principal, class_id)
    # The tenant's backend, and a participant who manages this class, present in webinars.
    manages = principal.is_service or (
        principal.class_id == class_id and principal.role in MANAGING_ROLES
    )
    role = media_role(row["kind"], principal.account_id, row["host"], manages)
    client = pool.client(row["janus_server"])
    grant_id = await pool.admit(db, client, row, principal.account_id, role)
    turn_host = pick_turn_host(row["kind"], row["scope"], ice.turn_hosts)
    room = str(row["room_id"])
    return MediaJoin(
        class_id=row["class_id"], room=room, janus_url=client.url, server=row["janus_server"],
        role=role.value, participant_id=str(grant_id),
        token=participant_token(client.room_key, room, str(grant_id)),
        ice_servers=ice_servers(turn_host, ice.turn_secret, principal.account_id,
                                int(time.time()), ice.ttl_seconds),
        turn_host=turn_host,
    )  # fmt: skip


async def revoke_media(
    db: Database, pool: MediaPool, principal: Principal, class_id: uuid.UUID, account_id: str
) -> None:
    """The account loses media access to the class for good (see `hang_up`)."""
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    if not await hang_up(db, pool, principal.audience, class_id, account_id):
        raise NotFound(f"no class {class_id} in this audience", code="class_not_found")


async def hang_up(
    db: Database, pool: MediaPool, audience: str, class_id: uuid.UUID, account_id: str
) -> bool:
    """Revoke the account's grant: its token leaves the room's allow-list and it is hung up at
    once. Recorded first, so a Janus that does not answer now still sees the account hung up
    by the next check (it has no active grant). False when there is no such class."""
    row = await db.fetchrow(queries.MEDIA_TARGET, class_id, audience, account_id)
    if row is None:
        return False
    grant_id = await db.fetchval(queries.REVOKE_GRANT, uuid.uuid4(), row["room_id"], account_id)
    if row["backend"] != "janus" or row["janus_server"] not in pool.clients:
        return True
    client = pool.clients[row["janus_server"]]
    room = str(row["room_id"])
    try:
        await client.allow(room, row["janus_secret"], "remove",
                           [participant_token(client.room_key, room, str(grant_id))])  # fmt: skip
        await client.kick(room, row["janus_secret"], str(grant_id))
    except (JanusUnavailable, JanusError) as exc:
        log.warning("revoke in room %s: %s (the next check hangs them up)", room, exc)
    return True
