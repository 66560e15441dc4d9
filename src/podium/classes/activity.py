"""What happens inside a class, addressed through the class: its events and whiteboard, saved
viewing positions, class properties, and the recording download."""

from __future__ import annotations

import time
import uuid
from typing import Any

from podium import links
from podium.auth import tokens
from podium.auth.models import Principal
from podium.auth.policy import Action, authorize
from podium.classes import queries
from podium.classes.schemas import LiveToken
from podium.classes.service import ClassRef, check_visible, existing, rooms_of
from podium.config import Settings
from podium.db import Executor, Unit
from podium.errors import Conflict, NotFound, Unauthorized
from podium.rooms.live import Hub
from podium.rooms.schemas import EventCreate
from podium.rooms.service import store_event, store_or_relay
from podium.storage import Storage

MP4 = "stream.mp4"
HLS = "index.m3u8"

# A saved position is clamped into one day (notes: "Small routes").
MAX_POSITION = 86_400


async def post_event(
    tx: Unit, hub: Hub, principal: Principal, ref: ClassRef, event: EventCreate
) -> None:
    """Store an event in the class's current event room (those who may update the class) and
    deliver it live; a non-persistent event is delivered live only."""
    authorize(principal, Action.UPDATE_CLASS)
    found = await existing(tx.db, principal, ref)
    await store_or_relay(tx, hub, principal, found["id"], found["event_room_id"], event)


def whiteboard_events() -> list[EventCreate]:
    """The two events that make a whiteboard: a document and its first page."""
    label = str(uuid.uuid4())
    page_set = f"document_page_{label}"
    return [
        EventCreate(
            type="document",
            set="document",
            label=label,
            data={"title": "whiteboard", "page": 1, "published": True, "url": "about:whiteboard"},
        ),
        EventCreate(
            type="document_page",
            set=page_set,
            label=f"{page_set}_1",
            data={"page": 1, "title": ""},
        ),
    ]


async def create_whiteboard(tx: Unit, hub: Hub, principal: Principal, ref: ClassRef) -> None:
    authorize(principal, Action.UPDATE_CLASS)
    room_id = (await existing(tx, principal, ref))["event_room_id"]
    for event in whiteboard_events():
        await store_event(tx, hub, room_id, principal, event)


def clamp_position(position: int) -> int:
    return max(0, min(MAX_POSITION, position))


async def save_position(db: Executor, principal: Principal, ref: ClassRef, position: int) -> None:
    """One position per (class, account); the last write wins."""
    authorize(principal, Action.READ_CLASS)
    check_visible(principal, ref)
    saved = await db.fetchval(
        queries.SAVE_POSITION[ref.by_scope], ref.key, principal.audience, ref.kind.value,
        principal.account_id, clamp_position(position),
    )  # fmt: skip
    if saved is None:
        raise ref.not_found()


async def read_property(db: Executor, principal: Principal, ref: ClassRef, name: str) -> Any:
    authorize(principal, Action.READ_CLASS)
    check_visible(principal, ref)
    row = await db.fetchrow(
        queries.SELECT_PROPERTY[ref.by_scope], ref.key, principal.audience, ref.kind.value, name
    )
    if row is None:
        raise ref.not_found()
    if not row["present"]:
        raise NotFound(f"no class property {name!r}", code="class_property_not_found")
    return row["value"]


async def update_property(
    db: Executor, principal: Principal, ref: ClassRef, name: str, value: Any
) -> dict[str, Any]:
    """Set one property, merged atomically into the map; answers the whole map."""
    authorize(principal, Action.UPDATE_CLASS)
    check_visible(principal, ref)
    merged: dict[str, Any] | None = await db.fetchval(
        queries.MERGE_PROPERTY[ref.by_scope], ref.key, principal.audience, ref.kind.value,
        name, value,
    )  # fmt: skip
    if merged is None:
        raise ref.not_found()
    return merged


async def stream_link(
    db: Executor, storage: Storage, settings: Settings, signing_key: str, principal: Principal,
    ref: ClassRef, name: str,
) -> str:  # fmt: skip
    """A signed, expiring link to the class's transcoded stream: `stream.mp4` (the download:
    the source media of everyone in the class is the tenant's and its moderators', so it needs
    the right to update the class) or `index.m3u8` (playback, for whoever may read the class:
    an HLS playlist of byte ranges of that same file, which a player fetches through the link).
    404 `recording_not_found` until the recording is transcoded (a minigroup: all of it)."""
    authorize(principal, Action.UPDATE_CLASS if name == MP4 else Action.READ_CLASS)
    row = await existing(db, principal, ref)
    prefix = await db.fetchval(queries.SELECT_STREAM_PREFIX, row["id"])
    if prefix is None:
        raise NotFound(f"the {ref.kind.value} has no transcoded recording yet",
                       code="recording_not_found")  # fmt: skip
    seconds = settings.download_link_seconds
    if name == MP4 and storage.local_path(f"{prefix}/{name}") is None:
        presigned = await storage.presign(f"{prefix}/{name}", seconds)
        if presigned:
            return presigned
    return links.signed(settings.base_url, signing_key, prefix, name, seconds)


async def set_presenter(
    tx: Unit, hub: Hub, principal: Principal, class_id: uuid.UUID, account_id: str | None
) -> None:
    """Hand the class's stage to `account_id` (the class's host: in a webinar, the one person who
    publishes besides those who manage it). Those in the room hear it as a `presenter` event:
    the join page of the new presenter starts sending, the previous one's stops."""
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    row = await tx.fetchrow(queries.SET_HOST, class_id, principal.audience, account_id)
    if row is None:
        if await tx.fetchval(queries.KIND_OF, class_id, principal.audience) is None:
            raise NotFound(f"no class {class_id} in this audience", code="class_not_found")
        raise Conflict("the class has ended", code="class_closed")
    await store_event(tx, hub, row["event_room_id"], principal,
                      EventCreate(type="presenter", data={"account_id": account_id}))  # fmt: skip


LIVE_TOKEN_SECONDS = 15 * 60


async def live_token(
    db: Executor, settings: Settings, key: str, principal: Principal, class_id: uuid.UUID
) -> LiveToken:
    """A short-lived token that acts in this class only, as the caller: a participant's token
    stays that participant's (its role, its place in the lobby); anyone else's becomes an end
    user's token for this class (a tenant's backend gets no service rights through it). It
    never outlives the caller's own token, so it cannot stretch one."""
    authorize(principal, Action.READ_CLASS)
    row = await rooms_of(db, principal, class_id)
    now = time.time()
    ttl = int(min(LIVE_TOKEN_SECONDS, principal.expires_at - now))
    if ttl < 1:
        raise Unauthorized("the token is about to expire; get a new one", code="token_expired")
    if principal.participant_id is not None:
        token = tokens.issue(key, principal.audience, {
            "id": principal.participant_id, "account_id": principal.account_id,
            "class_id": class_id, "role": principal.role}, ttl)  # fmt: skip
    else:
        token = tokens.issue_class(key, principal.audience, principal.account_id, str(class_id),
                                   ttl)  # fmt: skip
    base = settings.base_url
    return LiveToken(
        token=token, token_type="Bearer", expires_in=ttl,  # noqa: S106  (a type, not a secret)
        expires_at=int(now) + ttl,
        account_id=principal.account_id, class_id=class_id, event_room_id=row["event_room_id"],
        conference_room_id=row["conference_room_id"],
        live_url=f"ws{base.removeprefix('http')}/api/v1/event_rooms/{row['event_room_id']}/live",
        media_url=f"{base}/api/v1/classes/{class_id}/media",
    )  # fmt: skip
