"""Event room rules without I/O."""

from __future__ import annotations

import pytest

from podium.errors import Forbidden
from podium.rooms.models import check_may_draw, check_may_post, group_state

LOCKED = {"message": True, "reaction": True, "draw": False}


@pytest.mark.parametrize(
    ("event_type", "may_update", "banned", "allowed"),
    [
        ("message", False, False, False),
        ("message", True, False, True),
        ("draw", False, False, True),
        ("unknown", False, False, True),
        ("draw", True, True, False),
    ],
)
def test_who_may_post(event_type: str, may_update: bool, banned: bool, allowed: bool) -> None:
    if allowed:
        check_may_post(event_type, LOCKED, may_update, banned)
    else:
        with pytest.raises(Forbidden):
            check_may_post(event_type, LOCKED, may_update, banned)


@pytest.mark.parametrize(
    ("event_type", "checks", "may_update", "access", "allowed"),
    [
        ("draw", True, False, {}, False),
        ("draw_lock", True, False, {"other": True}, False),
        ("draw", True, False, {"me": True}, True),
        ("draw", True, True, {}, True),  # those who update the class always may
        ("draw", False, False, {}, True),  # a room that does not check (a webinar's)
        ("message", True, False, {}, True),  # not a whiteboard event
    ],
)
def test_who_may_draw(
    event_type: str, checks: bool, may_update: bool, access: dict[str, bool], allowed: bool
) -> None:
    if allowed:
        check_may_draw(event_type, checks, may_update, access, "me")
    else:
        with pytest.raises(Forbidden):
            check_may_draw(event_type, checks, may_update, access, "me")


def ev(set_: str, label: str | None, seq: int, removed: bool = False) -> dict[str, object]:
    return {"set": set_, "label": label, "seq": seq, "removed": removed}


def test_simple_sets_and_collections() -> None:
    latest = [
        ev("layout", None, 3),
        ev("board", "a", 4),
        ev("board", "b", 5, removed=True),
        ev("board", "c", 6),
    ]
    state = group_state(latest, ["layout", "board", "none"])
    assert state["layout"]["seq"] == 3
    assert [e["label"] for e in state["board"]] == ["a", "c"]
    assert "none" not in state
