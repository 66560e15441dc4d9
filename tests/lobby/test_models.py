"""Lobby rules without I/O: who it holds, what a request may say, the live socket's gate."""

from __future__ import annotations

import json

import pytest

from podium.auth.admission import is_blocked
from podium.errors import BadRequest
from podium.lobby.models import opening_time, parse_lobby
from podium.rooms.models import Gate


def frame(type_: str, data: dict[str, object]) -> str:
    return json.dumps({"message": "event", "event": {"type": type_, "data": data}})


def test_who_the_lobby_holds() -> None:
    assert is_blocked(1, "participant", {}, admitted=False)
    assert is_blocked(1, "guest", {}, admitted=False)
    assert not is_blocked(0, "guest", {}, admitted=False)
    assert not is_blocked(1, "guest", {}, admitted=True)
    assert not is_blocked(1, "moderator", {}, admitted=False)
    assert not is_blocked(1, "owner", {}, admitted=False)
    assert not is_blocked(1, "guest", {"ignore_lobby": True}, admitted=False)
    assert is_blocked(1, "moderator", {"ignore_lobby": False}, admitted=False) is False


def test_requests() -> None:
    assert parse_lobby({"state": 1, "timer": 0}).timer is None
    assert parse_lobby({"state": 1, "timer": -5}).timer is None
    assert parse_lobby({"state": 0, "timer": 100}).timer == 100
    for bad in ({"state": 2}, {"state": True}, {"state": 1, "timer": 1.5}, {"state": 1,
                "timer": "x"}, "nope", {"state": 1, "opens_before_minutes": 99999}):  # fmt: skip
        with pytest.raises(BadRequest):
            parse_lobby(bad)
    request = parse_lobby({"state": 1, "opens_before_minutes": 10, "timer": 5})
    assert opening_time(request, 10_000) == 10_000 - 600
    assert opening_time(request, None) == 5  # no start: the timer


def test_the_gate_follows_the_lobby() -> None:
    gate = Gate("me", closed=True)
    assert not gate.passes(frame("message", {"text": "hi"}))
    assert not gate.passes(json.dumps({"message": "room", "room": {}}))
    assert gate.passes(frame("lobby.waiting", {"participant_id": "other"}))
    assert gate.passes(frame("lobby.admit", {"participant_ids": ["other"]}))
    assert not gate.passes(frame("message", {}))  # someone else was let in, not me
    assert gate.passes(frame("lobby.admit", {"participant_ids": ["me"]}))
    assert gate.passes(frame("message", {}))
    assert gate.passes(frame("lobby", {"state": 1}))  # back on: moved out again
    assert not gate.passes(frame("message", {}))
    assert gate.passes(frame("lobby", {"state": 0, "opened_by": "timer"}))
    assert gate.passes(frame("message", {}))


def test_history_reaches_them_as_they_stand_now_and_changes_nothing() -> None:
    let_in = Gate("me", closed=False)
    # Replayed, the lobby turning on long ago would hide the chat of someone let in since.
    assert let_in.allows(frame("lobby", {"state": 1}))
    assert let_in.allows(frame("message", {"text": "before you came"}))
    assert let_in.passes(frame("message", {}))  # still open: history changed nothing
    held = Gate("me", closed=True)
    assert held.allows(frame("lobby.admit", {"participant_ids": ["me"]}))
    assert not held.allows(frame("message", {}))
    assert not held.passes(frame("message", {}))
