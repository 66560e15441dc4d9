"""Conference rules without I/O: placement by reserve, roles, admission, intruders, ICE."""

from __future__ import annotations

import base64
import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from podium.conference.models import (
    OBSERVER,
    MediaRole,
    ServerLoad,
    admit,
    grows,
    ice_servers,
    intruders,
    media_role,
    pick_turn_host,
    place,
    plan_forwards,
    publishers_for,
    resized_load,
    slots,
)


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
    assert publishers_for("webinar", 50) == 1  # the presenter; a screen is a second stream
    assert publishers_for("minigroup", 8) == 8
    assert publishers_for("minigroup", None) == 6


def test_webinar_viewers_only_watch() -> None:
    assert media_role("webinar", "host-1", "host-1", False) is MediaRole.PUBLISHER
    assert media_role("webinar", "viewer", "host-1", False) is MediaRole.SUBSCRIBER
    assert media_role("webinar", "viewer", None, False) is MediaRole.SUBSCRIBER
    assert media_role("webinar", "service", "host-1", True) is MediaRole.PUBLISHER
    assert media_role("minigroup", "pupil", "teacher", False) is MediaRole.PUBLISHER
    assert media_role("session", "guest", None, False) is MediaRole.PUBLISHER


def test_joins_within_the_reserve_cost_the_server_nothing() -> None:
    # Server full (load 10 of 10), the room reserved 5 and has 2: the third still fits.
    assert admit(10, 10, 5, counted=2, live=2, present=False) == 3
    # The room is at its reserve: one more would exceed the server.
    assert admit(10, 10, 5, counted=5, live=5, present=False) is None
    # ...unless the server has a free slot.
    assert admit(9, 10, 5, counted=5, live=5, present=False) == 6
    # A rejoin (already in Janus) is never refused and counts once.
    assert admit(10, 10, 5, counted=5, live=5, present=True) == 5


def test_joins_handed_out_count_until_janus_sees_them() -> None:
    # Janus still shows 0 but three joins were handed out since the last check: the fourth
    # is counted on top of them, not of Janus's 0.
    assert admit(3, 10, None, counted=3, live=0, present=False) == 4
    # Janus sees more than was counted (the count is old): Janus wins.
    assert admit(1, 10, None, counted=1, live=6, present=False) == 7
    # ...and what Janus sees is what the server really carries: 5 elsewhere + 7 > 10.
    assert admit(6, 10, None, counted=1, live=6, present=False) is None
    # A class with no reserve on a full server.
    assert admit(10, 10, None, counted=1, live=1, present=False) is None


def test_intruders_are_unknown_ids_and_sending_subscribers() -> None:
    roles = {"host": MediaRole.PUBLISHER, "viewer": MediaRole.SUBSCRIBER}
    people = [
        {"id": "host", "publisher": True},
        {"id": "viewer", "publisher": False},
        {"id": "stranger", "publisher": False},
    ]
    assert intruders(people, roles) == ["stranger"]
    assert intruders([{"id": "viewer", "publisher": True}], roles) == ["viewer"]


def test_turn_host_random_but_stable_for_sessions() -> None:
    hosts = ("t1", "t2", "t3", "t4")
    assert pick_turn_host("webinar", "s", ()) is None
    assert {pick_turn_host("session", "pair-7", hosts) for _ in range(20)} == {
        pick_turn_host("session", "pair-7", hosts)
    }
    seen = {pick_turn_host("webinar", "w", hosts) for _ in range(200)}
    assert seen == set(hosts)  # 200 draws of 4: all appear (chance of not: < 1e-24)
    spread = {pick_turn_host("session", f"pair-{i}", hosts) for i in range(50)}
    assert len(spread) > 1


def test_ice_servers_carry_time_limited_turn_credentials() -> None:
    assert ice_servers(None, "s" * 16, "a", 1000, 60) == []
    assert ice_servers("turn.example", None, "a", 1000, 60) == [
        {"urls": ["stun:turn.example:3478"]}
    ]
    stun, turn = ice_servers("turn.example:5349", "s" * 16, "acc", 1000, 60)
    assert stun == {"urls": ["stun:turn.example:5349"]}
    assert turn["username"] == "1060:acc"
    expected = hmac.new(b"s" * 16, b"1060:acc", hashlib.sha1).digest()
    assert base64.b64decode(turn["credential"]) == expected
    assert turn["urls"][0] == "turn:turn.example:5349?transport=udp"


def test_a_new_reserve_counts_against_whoever_is_connected() -> None:
    assert resized_load(10, 0, 4, 8) == 14  # nobody in: the reserve decides
    assert resized_load(10, 6, 4, 8) == 12  # 6 were counted; the room now holds 8
    assert resized_load(10, 9, 4, 8) == 10  # 9 in: the room already counts 9 either way
    assert resized_load(10, 0, None, None) == 10


@given(
    load=st.integers(0, 10_000), capacity=st.integers(1, 10_000),
    reserve=st.none() | st.integers(0, 500), counted=st.integers(0, 600),
    live=st.integers(0, 600), present=st.booleans(),
)  # fmt: skip
def test_the_load_matters_only_to_a_join_that_grows_the_room(
    load: int, capacity: int, reserve: int | None, counted: int, live: int, present: bool
) -> None:
    """What lets a media join skip summing the server's load: a join that does not grow the
    room past what is counted for it answers the same whatever the load."""
    if not grows(reserve, counted, live, present):
        assert admit(load, capacity, reserve, counted, live, present) == admit(
            0, capacity, reserve, counted, live, present
        )


def test_a_forwarded_presenter_and_a_silent_observer_are_no_intruders() -> None:
    people = [
        {"id": "far-presenter", "publisher": True, "remote": True},
        {"id": f"{OBSERVER}-1a2b", "publisher": False},
        {"id": f"{OBSERVER}-sends", "publisher": True},  # an observer never sends: hung up
        {"id": "stranger", "publisher": False},
    ]
    assert intruders(people, {}) == [f"{OBSERVER}-sends", "stranger"]


STREAMS = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["audio", "video"]), "mindex": st.integers(0, 3)}
    ),
    max_size=3,
)
KEYS = st.tuples(st.sampled_from(["r1", "r2", "r3"]), st.sampled_from(["p1", "p2"]))


@given(
    wanted=st.dictionaries(KEYS, STREAMS),
    made=st.dictionaries(KEYS, st.none() | STREAMS),
    busy=st.sets(KEYS),
)
def test_a_forwarding_pass_converges(wanted: dict, made: dict, busy: set) -> None:  # type: ignore[type-arg]
    made = {k: v for k, v in made.items() if k not in busy}
    plan = plan_forwards(wanted, made, busy)
    # Nothing another pass is making is touched; nothing made is made twice.
    touched = set(plan.make) | set(plan.remove) | set(plan.keep)
    assert not touched & busy and not set(plan.make) & set(made)
    # After the pass, what is made is exactly what is wanted (but for busy ones).
    after = (set(made) - set(plan.remove)) | set(plan.make)
    assert after == set(wanted) - busy
    # The replica is told of changed streams only, and only for forwards it keeps.
    assert set(plan.update) == {k for k in plan.keep if made[k] != wanted[k]}
    # A second pass with the same view changes nothing.
    told = {k: wanted[k] for k in [*plan.keep, *plan.make]}  # updated ones are told now
    again = plan_forwards(wanted, told, busy)
    assert not again.make and not again.remove and not again.update


def test_a_presenter_who_leaves_is_taken_down_and_new_streams_are_told() -> None:
    audio, both = [{"type": "audio"}], [{"type": "audio"}, {"type": "video"}]
    plan = plan_forwards({("r1", "p1"): both}, {("r1", "p1"): audio, ("r1", "p0"): audio}, set())
    assert plan.update == [("r1", "p1")] and plan.remove == [("r1", "p0")] and not plan.make
