"""Replicas of a webinar (issue 15): a webinar larger than one Janus server. A replica has its own
scope and its own conference room on another server, and shares the webinar's event room; its
read is the webinar's (`class_id` is the webinar's). Viewers who join the webinar's media are
seated in its replicas (conference/service.py), and the presenter's stream is forwarded to them
(conference/forwarding.py). Replicas belong to the webinar's run: their rooms close when it
ends; a recreate removes them (their scopes are free again). They are read-only (the webinar is
what changes).
"""

from __future__ import annotations

import uuid

from podium.auth.models import Principal
from podium.auth.policy import Action, authorize
from podium.classes import queries
from podium.classes.models import Kind
from podium.classes.schemas import ClassRead, ReplicaCreate
from podium.classes.service import ClassRef, existing, read_class, replica_answer
from podium.conference.backends import Media
from podium.config import Settings
from podium.db import Executor, Unit
from podium.errors import Conflict


async def create_replica(
    tx: Unit, media: Media, settings: Settings, principal: Principal, webinar_id: uuid.UUID,
    data: ReplicaCreate,
) -> ClassRead:  # fmt: skip
    """Make the replica's room on a server other than the webinar's (first, holding nothing;
    destroyed again if the unit refuses), then store it with the webinar's event room."""
    authorize(principal, Action.CREATE_CLASS, data.audience)
    current = await existing(tx.db, principal, ClassRef(Kind.WEBINAR, id=webinar_id))
    backend = media.of(current["backend"])
    if backend is media.none:
        raise Conflict(
            "the webinar has no media room to replicate (its backend is `none`)",
            code="no_media_room", field="backend",
        )  # fmt: skip
    room_id = uuid.uuid4()
    placement = await backend.provision(
        tx, room_id, Kind.WEBINAR.value, data.reserve, current["name"],
        avoid=current["janus_server"], record=False,
    )  # fmt: skip
    made = await tx.fetchrow(
        queries.INSERT_REPLICA, uuid.uuid4(), current["id"], data.audience, data.scope, room_id,
        placement.server, placement.secret, data.reserve,
    )  # fmt: skip
    assert made is not None  # the statement always answers one row
    if made["original"] is None:
        raise Conflict("the webinar has closed; it can no longer be replicated",
                       code="class_closed")  # fmt: skip
    if made["made"] is None:
        raise Conflict(
            f"a class or replica with scope {data.scope!r} already exists in {data.audience!r}",
            code="class_already_exists", field="scope",
        )  # fmt: skip
    return await read_class(tx, settings, principal, ClassRef(Kind.WEBINAR, id=made["made"]))


async def list_replicas(
    db: Executor, settings: Settings, principal: Principal, webinar_id: uuid.UUID
) -> list[ClassRead]:
    """The replicas of the webinar's current run, oldest first."""
    read = await read_class(db, settings, principal, ClassRef(Kind.WEBINAR, id=webinar_id))
    rows = await db.fetch(queries.REPLICAS_OF, webinar_id, principal.audience)
    return [replica_answer(read, row) for row in rows]
