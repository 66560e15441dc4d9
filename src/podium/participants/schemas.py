"""API shapes of participants and of entering a class through an entry link."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType, field

from podium.auth.admission import Standing
from podium.classes.schemas import ClassRead
from podium.validation import ShortText

DisplayName = Annotated[str, Meta(min_length=1, max_length=200)]
Picture = Annotated[str, Meta(min_length=1, max_length=2000)]
State = Annotated[str, Meta(max_length=10_000)]
RoleName = Literal["owner", "moderator", "participant", "guest"]


class ParticipantCreate(Struct, kw_only=True):
    display_name: DisplayName
    picture: Picture | None = None
    role: RoleName = "participant"
    # Overrides of the role's defaults, by name: start_call, join_call, ignore_lobby, audio,
    # video, screen, chat, reactions.
    permissions: dict[str, bool] | None = None
    state: State | None = None  # the tenant's, opaque
    single_use: bool = False  # the entry link works once
    # The tenant's account id for this person (their own tokens then act as this participant
    # in the class's rooms); by default one of Podium's own.
    account_id: ShortText | None = None


class ParticipantUpdate(Struct, kw_only=True):
    """All optional; `rotate_link: true` issues a new entry link and kills the old one."""

    display_name: DisplayName | UnsetType = UNSET
    picture: Picture | UnsetType | None = UNSET
    role: RoleName | UnsetType = UNSET
    permissions: dict[str, bool] | UnsetType = UNSET
    state: State | UnsetType | None = UNSET
    single_use: bool | UnsetType = UNSET
    rotate_link: bool = False

    def changes(self) -> dict[str, Any]:
        return {
            f: v for f in self.__struct_fields__
            if f != "rotate_link" and (v := getattr(self, f)) is not UNSET
        }  # fmt: skip


class ParticipantRead(Struct):
    participant_id: UUID
    class_id: UUID
    account_id: str
    display_name: str
    picture: str | None
    role: str
    permissions: dict[str, bool]  # effective: the role's defaults with the overrides
    state: str | None
    single_use: bool
    entry_url: str | None  # null once cancelled
    created_at: int  # unix milliseconds
    canceled: bool
    attendee_pin: str | None = None  # for SIP dial-in while the class has SIP state 1


class ParticipantPage(Struct):
    participants: list[ParticipantRead]
    has_next: bool


class JoinRequest(Struct):
    entry_token: Annotated[str, Meta(min_length=1, max_length=200)]


class JoinAnswer(Struct):
    access_token: str
    token_type: str
    expires_in: int
    class_: ClassRead = field(name="class")
    participant: ParticipantRead
    lobby: Standing


class LinkLook(Struct):
    """What an entry link's page shows before anyone enters (the link is not spent):
    `refusal` is null when it opens the class now, else why not, as `enter` would answer."""

    participant_id: UUID | None
    class_id: UUID | None
    kind: str | None
    title: str | None
    starts_at: int | None  # unix seconds
    ends_at: int | None
    display_name: str | None
    role: str | None
    # link_invalid, link_revoked, link_used, link_not_yet_valid or link_expired
    refusal: str | None = None
    reason: str | None = None
