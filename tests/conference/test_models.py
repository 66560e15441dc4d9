"""Placement by reserve, without I/O."""

from __future__ import annotations

from podium.conference.models import ServerLoad, place, publishers_for, slots


def test_the_most_loaded_server_that_still_fits() -> None:
    servers = [ServerLoad("a", 10, 0), ServerLoad("b", 30, 20)]
    assert place(servers, 5) == "b"  # fits on both: the fuller one, keeping a's 10 free
    assert place(servers, 10) == "b"  # b has exactly 10 left, and b is the fuller one
    assert place(servers, 11) is None  # 10 free on each: no room for 11
    assert place([ServerLoad("a", 10, 0), ServerLoad("b", 30, 25)], 8) == "a"  # only a fits
    assert place([ServerLoad("a", 10, 8), ServerLoad("b", 30, 25)], 9) is None


def test_ties_are_repeatable_and_no_reserve_takes_one_slot() -> None:
    assert place([ServerLoad("b", 10, 0), ServerLoad("a", 10, 0)], None) == "a"
    assert slots(None) == slots(0) == 1
    assert place([ServerLoad("a", 1, 1)], None) is None


def test_publishers_by_kind() -> None:
    assert publishers_for("webinar", 50) == 2
    assert publishers_for("minigroup", 8) == 8
    assert publishers_for("minigroup", None) == 6
