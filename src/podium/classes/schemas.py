"""API shapes of classes (msgspec Structs; Litestar validates requests against them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from podium.validation import ShortText, TimeBounds, TimeRead

Scope: TypeAlias = ShortText
Audience: TypeAlias = ShortText
AccountId: TypeAlias = ShortText
Title = Annotated[str, Meta(min_length=1, max_length=1000)]
Reserve = Annotated[int, Meta(ge=0, le=2_147_483_647)]


class ClassCreate(Struct, kw_only=True):
    """What every kind's create takes; each kind makes some of it required."""

    scope: Scope
    audience: Audience
    title: Title | None = None
    time: TimeBounds | None = None
    tags: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None
    preserve_history: bool = True
    reserve: Reserve | None = None
    backend: Literal["janus", "none"] | None = None
    locked_chat: bool = True
    host: AccountId | None = None
    # Janus records every publisher; the recording is collected when the class ends.
    record: bool = True


class WebinarCreate(ClassCreate, kw_only=True):
    """Spec 000: a webinar has a title."""

    title: Title


class MinigroupCreate(ClassCreate, kw_only=True):
    """Specs 001/002: a minigroup names its host (returned as `real_time.host`)."""

    host: AccountId


class P2PCreate(ClassCreate, kw_only=True):
    """The original's p2p: a two-party call, unbounded in time unless given one, not recorded
    (unless asked), its chat open; `whiteboard` seeds the room with a whiteboard."""

    locked_chat: bool = False
    record: bool = False
    whiteboard: bool = True


class ChatCreate(ClassCreate, kw_only=True):
    """An event room only: no media (backend `none`), nothing recorded, the chat open."""

    backend: Literal["none"] | None = "none"
    locked_chat: bool = False
    record: Literal[False] = False


class ReplicaCreate(Struct, kw_only=True):
    """A replica of a webinar: its own scope (free in the audience), its own conference room
    on another Janus server for `reserve` viewers, the webinar's event room."""

    scope: Scope
    audience: Audience
    reserve: Reserve | None = None


class ClassRecreate(Struct):
    time: TimeBounds | None = None
    locked_chat: bool = True


class PositionSave(Struct):
    position: int  # seconds; clamped to [0, 86400]


class ClassUpdate(Struct):
    """All optional, at least one required; `null` clears `host` or `tags`."""

    time: TimeBounds | UnsetType = UNSET
    reserve: Reserve | UnsetType | None = UNSET
    host: AccountId | UnsetType | None = UNSET
    title: Title | UnsetType = UNSET
    tags: dict[str, Any] | UnsetType | None = UNSET
    record: bool | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        return {f: v for f in self.__struct_fields__ if (v := getattr(self, f)) is not UNSET}


class Lobby(Struct, frozen=True):
    """Spec 003's lobby as the class read shows it (the lobby capability changes it)."""

    state: int  # 0: no lobby; 1: lobby
    timer: int | None = None  # unix seconds when it opens by itself
    message: str | None = None  # shown to those waiting


class Sip(Struct, frozen=True):
    """Spec 003's SIP dial-in as the class read shows it, while it is on."""

    state: int  # 0 off, 1 on with a PIN per attendee, 2 on without PIN
    dialin_id: str | None = None  # what a caller enters after dialling the number
    dialin_number: str | None = None


class Recording(Struct, omit_defaults=True):
    """Where a class's recording is: `processing` (at `step`), `failed` (at `step`, with the
    `error`; a restart runs it again), `ready`, or `empty` (the run had no media)."""

    status: Literal["processing", "failed", "ready", "empty"]
    step: Literal["collect", "adjust", "dump", "transcode"] | None = None
    error: str | None = None


class RealTime(Struct, omit_defaults=True):
    event_room_id: UUID
    conference_room_id: UUID
    host: str | None = None


class ClassRead(Struct, omit_defaults=True, kw_only=True):
    class_id: UUID
    id: str  # the tenant's scope, as the original answered
    kind: str
    audience: str
    scope: str
    title: str | None
    real_time: RealTime
    on_demand: list[dict[str, Any]]
    status: str
    time: TimeRead
    tags: dict[str, Any] | None
    reserve: int | None
    preserve_history: bool
    locked_chat: bool
    backend: str
    properties: dict[str, Any]
    account_properties: dict[str, Any]
    # Where the caller stopped watching (any status); `position` repeats it once the class is
    # transcoded, as the original did.
    saved_position: int | None = None
    position: int | None = None
    turn_host: str | None = None
    # The room closed because its host left and did not come back in time.
    timed_out: bool = False
    lobby: Lobby  # spec 003: state 0 no lobby / 1 lobby, timer, message (always shown)
    sip: Sip | None = None  # spec 003: SIP dial-in, while it is on
    record: bool  # whether Janus records it (turned off with `record: false`)
    recording: Recording | None = None  # once a run ended: its recording's pipeline
    # A replica's read: the webinar's, with the replica's scope, reserve and conference room;
    # `class_id` is the webinar's (everything acts on it), `replica_id` the replica's own.
    replica_id: UUID | None = None


class DownloadLink(Struct):
    url: str


class PresenterUpdate(Struct):
    """Whose stage it is now (the class's host); null: nobody's but those who manage it."""

    account_id: AccountId | None


class LiveToken(Struct):
    """What a browser needs to go live in a class (the original's `fetchTokenData`, whose
    real-time bus credentials Podium's live socket replaces): a short-lived token that acts in
    this class only, as the caller (a participant stays that participant), and where to use it."""

    token: str
    token_type: Literal["Bearer"]
    expires_in: int  # seconds; never beyond the caller's own token
    expires_at: int  # unix seconds
    account_id: str
    class_id: UUID
    event_room_id: UUID
    conference_room_id: UUID
    live_url: str  # the room's live WebSocket: add `?access_token=<token>[&after=<seq>]`
    media_url: str  # POST here (with the token) for the Janus URL, room and grant
