"""Event room rules that need no I/O: locked types, the versioned state of sets, the gate a
participant held back by the lobby hears the live socket through, and the order in which a feed
writes the events that waited together."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from podium.errors import Forbidden

MAX_STATE_SETS = 10


def check_may_post(
    event_type: str, locked_types: dict[str, bool], may_update: bool, banned: bool
) -> None:
    """A banned account posts nothing; a locked type only those who may update the class."""
    if banned:
        raise Forbidden("this account is banned from the room", code="banned")
    if locked_types.get(event_type) and not may_update:
        what = "the chat is locked" if event_type in ("message", "reaction") else "it is locked"
        raise Forbidden(
            f"events of type {event_type!r} cannot be posted here: {what} (moderators only)",
            code="type_locked",
            field="type",
        )


# Whiteboard events: in a room that checks access (a minigroup's, a p2p's), only those who may
# update the class or were given whiteboard access post them (the original event service's rule).
WHITEBOARD_TYPES = ("draw", "draw_lock")
# Kinds whose rooms check whiteboard access (everyone there may publish; a webinar's viewers
# never draw).
CHECKING_KINDS = ("minigroup", "p2p")


def check_may_draw(
    event_type: str, checks: bool, may_update: bool, access: dict[str, bool], account_id: str
) -> None:
    if event_type in WHITEBOARD_TYPES and checks and not may_update and not access.get(account_id):
        raise Forbidden(
            "drawing on this class's whiteboard needs whiteboard access (a moderator gives it)",
            code="no_whiteboard_access",
            field="type",
        )


def group_state(latest: Iterable[dict[str, Any]], sets: list[str]) -> dict[str, Any]:
    """The state of each set from the latest version of each of its items.

    `latest` holds, per (set, label), the newest event. A set whose items have no label is a
    simple set and maps to its latest event; a set with labels is a collection and maps to the
    list of its items' latest events, in the order `latest` gives (newest first, as the original
    answered). Items whose latest version is a removal are gone. A set with no items maps to
    nothing (simple) - it is left out.
    """
    simple: dict[str, dict[str, Any]] = {}
    collections: dict[str, list[dict[str, Any]]] = {}
    for event in latest:
        if event["removed"]:
            continue
        if event["label"] is None:
            simple[event["set"]] = event
        else:
            collections.setdefault(event["set"], []).append(event)
    state: dict[str, Any] = {}
    for name in sets:
        if name in collections:
            state[name] = collections[name]
        elif name in simple:
            state[name] = simple[name]
    return state


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

    def allows(self, frame: str) -> bool:
        """Whether a stored event (a catch-up) reaches them as they stand now; it changes
        nothing (it is history, not news)."""
        kind = str((_event_of(frame) or {}).get("type") or "")
        return kind == "lobby" or kind.startswith("lobby.") or not self.closed


def _event_of(frame: str) -> dict[str, Any] | None:
    try:
        decoded = json.loads(frame)
    except ValueError:
        return None
    event = decoded.get("event") if isinstance(decoded, dict) else None
    return event if isinstance(event, dict) else None


def in_sequence(events: list[tuple[int | None, str]]) -> list[tuple[int | None, str]]:
    """The events (sequence number or None for a live-only one, frame) with the stored ones put
    in sequence and each live-only one left where it came. Publishers commit in sequence but
    tell the broker in any order: two that arrive swapped in one pass need no database read."""
    numbered = iter(sorted((e for e in events if e[0] is not None), key=lambda e: e[0] or 0))
    return [e if e[0] is None else next(numbered) for e in events]
