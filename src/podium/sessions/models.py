"""Session API rules that need no I/O (spec 004, notes/lobby-sip-sessions.md): times, roles,
and what may happen when. Every refusal is a 400 problem saying which rule."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from podium.errors import BadRequest

UNIQUE_LINKS = "session;enforce-participant-uniqueness"  # feature flag: single-use links
MAX_PAGE_SIZE = 200
ROLES = {"host": "moderator", "guest": "guest"}  # the API's roles, and Podium's
ORDERS = {"forward": False, "reverse": True, "backwards": True}  # newest first?


def parse_time(value: Any, field: str) -> int:
    """RFC 3339 (the swagger's date-time) or RFC 1123 (what their SDK sent) → unix seconds."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"`{field}` must be an RFC 3339 date-time", field=field,
                         code="invalid_time")  # fmt: skip
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise BadRequest(f"`{field}` is not an RFC 3339 (or RFC 1123) date-time: {value!r}",
                             field=field, code="invalid_time") from None  # fmt: skip
    if parsed.tzinfo is None:
        raise BadRequest(f"`{field}` needs a time zone (e.g. Z)", field=field,
                         code="invalid_time")  # fmt: skip
    seconds = int(parsed.timestamp())
    if not 0 <= seconds <= 253_402_300_799:
        raise BadRequest(f"`{field}` is out of range", field=field, code="invalid_time")
    return seconds


def format_time(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def podium_role(role: Any, field: str = "role") -> str:
    """The API's role (`host`, `guest`; any case) as a participant role; guest when absent."""
    if role is None:
        return "guest"
    if not isinstance(role, str) or role.lower() not in ROLES:
        raise BadRequest("`role` must be host or guest", field=field, code="invalid_role")
    return ROLES[role.lower()]


def api_role(role: str) -> str:
    """Returned upper case, as the original did."""
    return "HOST" if role in ("owner", "moderator") else "GUEST"


def check_times(start: int, end: int, now: float) -> None:
    if start <= now:
        raise BadRequest("the session's start_time must be in the future", field="start_time",
                         code="start_not_in_future")  # fmt: skip
    if end <= start:
        raise BadRequest("the session's end_time must be after its start_time", field="end_time",
                         code="end_before_start")  # fmt: skip


def check_may_change(session: Mapping[str, Any], now: float) -> None:
    """A cancelled or finished session no longer changes."""
    if session["canceled_at"] is not None:
        raise BadRequest("the session was cancelled; it can no longer change",
                         code="session_canceled")  # fmt: skip
    if session["ends_at"] is not None and session["ends_at"] <= now:
        raise BadRequest("the session has finished; it can no longer change",
                         code="session_finished")  # fmt: skip


def check_may_cancel(session: Mapping[str, Any], now: float) -> None:
    """Only before it starts, and only once (cancel is for good)."""
    if session["canceled_at"] is not None:
        raise BadRequest("the session was cancelled already; cancel is for good",
                         code="session_canceled")  # fmt: skip
    if session["starts_at"] is not None and session["starts_at"] <= now:
        raise BadRequest("the session has started; only a session that has not started can be "
                         "cancelled", code="session_started")  # fmt: skip


def check_new_times(session: Mapping[str, Any], start: int, end: int, now: float) -> None:
    """An update: a moved start must still be in the future; the end after the start."""
    if start != session["starts_at"] and start <= now:
        raise BadRequest("a new start_time must be in the future", field="start_time",
                         code="start_not_in_future")  # fmt: skip
    if end <= start:
        raise BadRequest("the session's end_time must be after its start_time", field="end_time",
                         code="end_before_start")  # fmt: skip


def parse_flag(value: str | None, field: str) -> bool:
    if value is None:
        return False
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise BadRequest(f"`{field}` must be true or false", field=field, code="invalid_parameter")


def parse_int(value: str | None, field: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise BadRequest(f"`{field}` must be an integer from {low} to {high}", field=field,
                         code="invalid_parameter")  # fmt: skip
    return number
