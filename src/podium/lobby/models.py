"""Lobby rules that need no I/O: who it holds back, and what a lobby request may say."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from podium.errors import BadRequest
from podium.participants.models import effective_permissions, is_managing

LOBBY_STATES = (0, 1)  # 0: no lobby; 1: lobby for everyone who does not bypass it


def is_blocked(lobby_state: int, role: str, overrides: dict[str, bool], admitted: bool) -> bool:
    """Held back by the lobby: it is on, the participant neither manages the class nor may
    ignore the lobby, and nobody admitted them yet."""
    if lobby_state == 0 or is_managing(role):
        return False
    if effective_permissions(role, overrides)["ignore_lobby"]:
        return False
    return not admitted


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


def opens_at(row: Any) -> int | None:
    """When a stored lobby opens by itself (see lobby/queries.py OPENS_AT, the opener's twin):
    its minutes before the start, or its timer. `row` has starts_at, lobby_opens_before and
    lobby_timer."""
    if row["lobby_opens_before"] is not None and row["starts_at"] is not None:
        return int(row["starts_at"]) - int(row["lobby_opens_before"]) * 60
    timer = row["lobby_timer"]
    return None if timer is None else int(timer)


def opening_time(request: LobbyRequest, starts_at: int | None) -> int | None:
    """When the lobby opens by itself: the timer, or the class's start minus the early-entry
    window (a lobby bound to the schedule)."""
    if request.opens_before is not None and starts_at is not None:
        return starts_at - request.opens_before * 60
    return request.timer


class Gate:
    """What a participant held back by the lobby hears on the room's live socket: only the
    lobby's own events (so they learn at once when it opens or they are let in), none of the
    chat. It follows those events: the lobby opening or their admission opens it; the lobby
    coming back on closes it again (turning it on moves them out)."""

    def __init__(self, participant_id: str, closed: bool) -> None:
        self.participant_id = participant_id
        self.closed = closed

    def passes(self, frame: str) -> bool:
        event = _event_of(frame) or {}
        kind = str(event.get("type") or "")
        if kind == "lobby":
            self.closed = (event.get("data") or {}).get("state") == 1
            return True
        if kind == "lobby.admit":
            if self.participant_id in ((event.get("data") or {}).get("participant_ids") or []):
                self.closed = False
            return True
        if kind.startswith("lobby."):
            return True
        return not self.closed


def _event_of(frame: str) -> dict[str, Any] | None:
    try:
        decoded = json.loads(frame)
    except ValueError:
        return None
    event = decoded.get("event") if isinstance(decoded, dict) else None
    return event if isinstance(event, dict) else None
