"""API shapes of the Session API (spec 004), with exactly the swagger's field names."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

Text = Annotated[str, Meta(max_length=2000)]
Name = Annotated[str, Meta(max_length=200)]
State = Annotated[str, Meta(max_length=10_000)]


class ParticipantCreationRequest(Struct, kw_only=True):
    state: State | None = None
    display_name: Name | None = None
    role: str | None = None  # host | guest (any case)
    picture: Text | None = None


class ParticipantUpdateRequest(ParticipantCreationRequest, kw_only=True):
    pass


class SessionCreationRequest(Struct, kw_only=True):
    start_time: str  # RFC 3339 (RFC 1123 accepted)
    end_time: str
    session_name: Name | None = None
    picture: Text | None = None
    feature_flags: Annotated[list[Name], Meta(max_length=50)] | None = None
    participants: Annotated[list[ParticipantCreationRequest], Meta(max_length=500)] | None = None


class SessionUpdateRequest(Struct, kw_only=True):
    picture: Text | None = None
    start_time: str | None = None
    end_time: str | None = None
    session_name: Name | None = None


class Participant(Struct, kw_only=True, omit_defaults=True):
    participant_id: str
    session_id: str
    client_id: str | None = None
    display_name: str | None = None
    picture: str | None = None
    role: str  # HOST | GUEST
    state: str | None = None
    entry_url: str | None = None
    deleted_at: str | None = None


class Session(Struct, kw_only=True, omit_defaults=True):
    session_id: str
    team_id: str
    client_id: str | None = None
    session_name: str | None = None
    picture: str | None = None
    start_time: str
    end_time: str
    canceled_time: str | None = None
    feature_flags: list[str]
    participants: list[Participant]


class SessionPage(Struct):
    content: list[Session]
    more: bool
    page: int
    page_size: int
    page_count: int


class SessionParticipantPage(Struct):
    content: list[Participant]
    more: bool
    page: int
    page_size: int
    page_count: int


class UnitResponse(Struct):
    ok: bool
