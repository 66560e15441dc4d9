"""Lobby rules that need no I/O: what a lobby request may say, and when it opens by itself.
(Who it holds back is `auth.admission`: every capability that serves a class reads it.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podium.errors import BadRequest

LOBBY_STATES = (0, 1)  # 0: no lobby; 1: lobby for everyone who does not bypass it


@dataclass(frozen=True, slots=True)
class LobbyRequest:
    state: int
    timer: int | None  # unix seconds when the lobby opens by itself
    message: str | None  # for those waiting
    opens_before: int | None  # minutes before the class's start the lobby opens by itself


def parse_lobby(body: Any) -> LobbyRequest:
    """`{state, timer?, message?, opens_before_minutes?}`, refused as spec 003 does: 400 naming
    the field. A timer of null or <= 0 means none; one in the past is accepted (the lobby then
    opens at once)."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object {state, timer?}", field="body")
    state = body.get("state")
    if isinstance(state, bool) or not isinstance(state, int) or state not in LOBBY_STATES:
        raise BadRequest("`state` must be 0 (no lobby) or 1 (lobby)", field="state",
                         code="invalid_state")  # fmt: skip
    timer = body.get("timer")
    if timer is not None and (isinstance(timer, bool) or not isinstance(timer, int)):
        raise BadRequest("`timer` must be unix seconds or null", field="timer",
                         code="invalid_timer")  # fmt: skip
    if timer is not None and timer > 253_402_300_799:
        raise BadRequest("`timer` is beyond the year 9999", field="timer", code="invalid_timer")
    message = body.get("message")
    if message is not None and (not isinstance(message, str) or len(message) > 2000):
        raise BadRequest("`message` must be text of at most 2000 characters", field="message")
    before = body.get("opens_before_minutes")
    if before is not None and (
        isinstance(before, bool) or not isinstance(before, int) or not 0 <= before <= 10_080
    ):
        raise BadRequest("`opens_before_minutes` must be 0..10080 or null",
                         field="opens_before_minutes")  # fmt: skip
    return LobbyRequest(state, timer if timer is not None and timer > 0 else None, message, before)


def opening_time(request: LobbyRequest, starts_at: int | None) -> int | None:
    """When the lobby opens by itself: the timer, or the class's start minus the early-entry
    window (a lobby bound to the schedule)."""
    if request.opens_before is not None and starts_at is not None:
        return starts_at - request.opens_before * 60
    return request.timer
