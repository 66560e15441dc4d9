"""Class rules that need no I/O: kinds, time bounds, status."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from podium.errors import ValidationFailed


class Kind(StrEnum):
    WEBINAR = "webinar"
    MINIGROUP = "minigroup"
    SESSION = "session"
    P2P = "p2p"  # a two-party call (the original's p2p)
    CHAT = "chat"  # an event room only (the original client's `chats`)


class Status(StrEnum):
    REAL_TIME = "real-time"
    CLOSED = "closed"
    FINISHED = "finished"
    ADJUSTED = "adjusted"
    TRANSCODED = "transcoded"


# Event types `locked_chat` locks: posting them needs the right to update the class.
CHAT_TYPES = ("message", "reaction", "question", "question_reaction")


def locked_types(locked_chat: bool) -> dict[str, bool]:
    return dict.fromkeys(CHAT_TYPES, True) if locked_chat else {}


def check_time(time: Sequence[int | None] | None, field: str = "time") -> None:
    """`[start, end]` in unix seconds; either bound may be null (unbounded)."""
    if time is None:
        return
    start, end = time
    if start is not None and end is not None and end <= start:
        raise ValidationFailed("the end must be after the start", field=field)


def is_closed(ends_at: int | None, now: float) -> bool:
    return ends_at is not None and ends_at <= now


def status_of(ends_at: int | None, now: float, recording_status: str | None = None) -> Status:
    """Derived on every read, never stored (notes/dispatcher.md "Classes").

    The class's first recording decides once it exists (transcoded > adjusted > uploaded);
    without one, a class whose end has passed is closed, any other is real-time.
    """
    if recording_status == "transcoded":
        return Status.TRANSCODED
    if recording_status == "adjusted":
        return Status.ADJUSTED
    if recording_status == "uploaded":
        return Status.FINISHED
    if is_closed(ends_at, now):
        return Status.CLOSED
    return Status.REAL_TIME
