"""API shapes of SIP dial-in."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct, field


class Verify(Struct, kw_only=True):
    dialin_id: Annotated[str, Meta(min_length=1, max_length=32)]
    pin: Annotated[str, Meta(min_length=1, max_length=32)] | None = None


class DialinClass(Struct):
    class_id: UUID
    kind: str
    audience: str
    scope: str
    title: str | None
    event_room_id: UUID
    conference_room_id: UUID


class DialinParticipant(Struct):
    participant_id: UUID
    account_id: str
    display_name: str
    role: str


class Verified(Struct):
    """Who a SIP caller is: the class, and with a PIN the attendee (with an access token the
    bridge joins the class's media with)."""

    class_: DialinClass = field(name="class")
    participant: DialinParticipant | None = None
    access_token: str | None = None
