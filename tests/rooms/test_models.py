"""Event room rules without I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podium.errors import Forbidden
from podium.rooms.models import check_may_draw, check_may_post, group_state, in_sequence

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


@given(st.lists(st.tuples(st.booleans(), st.integers(1, 1000)), unique_by=lambda d: d[1]))
def test_stored_events_come_in_sequence_and_live_ones_stay_put(
    drawn: list[tuple[bool, int]],
) -> None:
    events = [(None if live else n, f"frame {n}") for live, n in drawn]
    ordered = in_sequence(events)
    assert sorted(ordered, key=repr) == sorted(events, key=repr)  # the same events
    numbered = [seq for seq, _ in ordered if seq is not None]
    assert numbered == sorted(numbered)
    assert [i for i, e in enumerate(ordered) if e[0] is None] == [
        i for i, e in enumerate(events) if e[0] is None
    ]  # each live-only event where it came


def test_two_swapped_in_one_pass_are_put_back() -> None:
    assert in_sequence([(2, "b"), (None, "x"), (1, "a")]) == [(1, "a"), (None, "x"), (2, "b")]
