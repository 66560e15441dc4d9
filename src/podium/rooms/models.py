"""Event room rules that need no I/O: locked types, and the versioned state of sets."""

from __future__ import annotations

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


def group_state(latest: Iterable[dict[str, Any]], sets: list[str]) -> dict[str, Any]:
    """The state of each set from the latest version of each of its items.

    `latest` holds, per (set, label), the newest event. A set whose items have no label is a
    simple set and maps to its latest event; a set with labels is a collection and maps to the
    list of its items' latest events. Items whose latest version is a removal are gone. A set
    with no items maps to nothing (simple) - it is left out.
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
