"""The recording rules without I/O: the notes' worked example, edge cases, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podium.recordings.models import (
    NS_PER_MS,
    BadCuts,
    BadSegments,
    Change,
    Event,
    adjust,
    check_segments,
    collapse,
    collapser,
    commit_edition,
    intersect,
    invert,
    keep,
    lenient_cuts,
    merge,
    mute_spans,
    on_timeline,
    pin_spans,
    place,
    retime,
    segments_of,
    strict_cuts,
    total,
)

S = 1_000_000_000  # a second in ns


def chat(t_ns: int, order: int, text: str = "hi") -> Event:
    return Event(t_ns, order, "message", {"text": text}, "messages")


def times(events: list[Event], type_: str = "message") -> list[int]:
    return [e.occurred_at for e in events if e.type == type_]


def test_the_notes_worked_example() -> None:
    """R opened at 0; the recording started 10 s later with segments [0, 20 s) [30 s, 50 s).
    (The notes place an event at 42 s "in the pause"; by their own formula the pause is R-time
    [30 s, 40 s), so the event in the pause here is at 35 s, and 42 s lands at 22 s.)"""
    events = [chat(15 * S, 1), chat(35 * S, 2), chat(42 * S, 3), chat(55 * S, 4)]
    a = adjust(events, 60 * S, 10_000, [(0, 20_000), (30_000, 50_000)])
    assert times(a.original) == [5 * S, 20 * S, 22 * S, 35 * S]
    assert a.duration_ms == 40_000
    assert a.modified_segments == [(0, 40_000)]  # no cuts: everything kept
    assert times(a.modified) == times(a.original)
    assert a.cut_original_segments == [(0, 20_000), (30_000, 50_000)]


def test_a_break_is_cut_and_the_preroll_added() -> None:
    """A break from 10 s to 14 s of a recording with no pauses: M loses those 4 s; events after
    it move 4 s earlier, plus the preroll; events inside snap to the cut."""
    events = [
        chat(5 * S, 1),
        Event(10 * S, 2, "break", {"value": True}, "break"),
        chat(12 * S, 3),
        Event(14 * S, 4, "break", {"value": False}, "break"),
        chat(20 * S, 5),
    ]
    a = adjust(events, 30 * S, 0, [(0, 30_000)], preroll_ms=2_000)
    assert a.modified_segments == [(0, 10_000), (14_000, 30_000)]
    # The breaks stay in M and land on the cut with the chat inside it, a nanosecond apart.
    assert times(a.modified) == [7 * S, 12 * S + 1, 18 * S]
    assert times(a.modified, "break") == [12 * S, 12 * S + 2]
    assert [e.type for e in a.modified if e.type == "stream"] == []  # marks dropped from M
    assert [e for e in a.original if e.type == "stream"]  # O keeps them
    assert a.cut_original_segments == [(0, 10_000), (14_000, 30_000)]


def test_same_time_events_are_spread_in_creation_order() -> None:
    # Three events in one pause snap to its start; they keep their order a nanosecond apart.
    events = [chat(33 * S, 3), chat(31 * S, 1), chat(31 * S, 2)]
    a = adjust(events, 60 * S, 0, [(0, 30_000), (40_000, 60_000)])
    assert [(e.order, e.occurred_at) for e in a.original] == [
        (1, 30 * S), (2, 30 * S + 1), (3, 30 * S + 2)]  # fmt: skip


def test_tail_shorter_than_a_second_is_not_a_pause() -> None:
    assert invert([(0, 10_000)], 10_500, 1_000) == []
    assert invert([(0, 10_000)], 11_500, 1_000) == [(10_000, 11_500)]
    assert invert([], 100) == [(0, 100)]
    assert invert([(5, 10), (20, 30)], 30) == [(0, 5), (10, 20)]


def test_segments_must_be_half_open_and_ordered() -> None:
    for bad in ([(5, 5)], [(5, 3)], [(0, 10), (5, 20)]):
        with pytest.raises(BadSegments):
            check_segments(bad)
    with pytest.raises(BadSegments):
        adjust([], S, 0, [(10, 10)])


def test_lenient_machine() -> None:
    assert lenient_cuts([(5, "stop")]) == [(0, 5)]  # a leading stop cuts from 0
    assert lenient_cuts([(1, "start"), (2, "start"), (4, "stop"), (6, "stop")]) == [(2, 4)]
    assert lenient_cuts([(1, "stop"), (3, "start")]) == [(0, 1)]  # trailing start dropped


def test_strict_machine_nests() -> None:
    assert strict_cuts([(1, "start"), (2, "start"), (3, "stop"), (5, "stop")]) == [(1, 5)]
    assert strict_cuts([(1, "start")]) == []
    with pytest.raises(BadCuts):
        strict_cuts([(1, "stop")])


def test_intersect_and_merge() -> None:
    assert intersect([(0, 10), (20, 30)], [(5, 25)]) == [(5, 10), (20, 25)]
    assert merge([(5, 8), (0, 3), (2, 6)]) == [(0, 8)]
    assert keep([(-5, 3), (8, 10)], 10) == [(3, 8)]


def test_segments_of_pieces() -> None:
    # Two publishes of 20 s and 20 s, 10 s apart: segments relative to the first.
    pieces = [(1_010_000, 20_000), (1_040_000, 20_000)]
    assert segments_of(pieces) == [(0, 20_000), (30_000, 50_000)]
    assert segments_of([]) == []


def test_an_edition_adds_removes_and_cuts() -> None:
    source = [chat(1 * S, 1, "a"), chat(5 * S, 2, "b"), chat(9 * S, 3, "c")]
    source = [Event(e.occurred_at, e.order, e.type, e.data, e.set, id=i)
              for i, e in enumerate(source)]  # fmt: skip
    changes = [
        Change("addition", Event(7 * S, 10, "message", {"text": "new"}, "messages")),
        Change("removal", event_id=0),
        Change("modification", event_id=2, fields={"data": {"text": "C"}, "label": None}),
        Change("addition", Event(4 * S, 11, "stream", {"cut": "start"}, "stream")),
        Change("addition", Event(6 * S, 12, "stream", {"cut": "stop"}, "stream")),
    ]
    c = commit_edition(source, changes, 10 * S, preroll_ms=0)
    assert [(e.data["text"], e.occurred_at) for e in c.events] == [
        ("b", 4 * S), ("new", 5 * S), ("C", 7 * S)]  # fmt: skip
    assert c.modified_segments == [(0, 4_000), (6_000, 10_000)]
    with pytest.raises(BadCuts):
        commit_edition(source, [Change("addition", Event(1, 20, "stream", {"cut": "stop"}))], S)


def test_minigroup_places_and_pins() -> None:
    tracks = place([
        {"account_id": "b", "started_at": 5_000, "segments": [(0, 10_000)]},
        {"account_id": "h", "started_at": 2_000, "segments": [(0, 20_000)],
         "cut_original_segments": [(0, 5_000)]},
    ], host="h")  # fmt: skip
    assert [(t.account_id, t.offset_ms, t.modified_segments) for t in tracks] == [
        ("h", 0, [(0, 5_000)]), ("b", 3_000, [(0, 10_000)])]  # fmt: skip
    pins = [(1_000, "b"), (3_000, "h"), (4_000, "b")]
    assert pin_spans(pins, "b", 6_000) == [(1_000, 3_000), (4_000, 6_000)]


# --- properties ---------------------------------------------------------------------------


@st.composite
def recordings(draw: st.DrawFn) -> tuple[list[tuple[int, int]], int, int]:
    """Segments (ms), the recording's offset into the room (ms) and the room's length (ns)."""
    cuts = sorted(draw(st.sets(st.integers(0, 600_000), min_size=2, max_size=20)))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    segments = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]
    offset = draw(st.integers(0, 60_000))
    tail = draw(st.integers(0, 60_000))
    return segments, offset, (offset + segments[-1][1] + tail) * NS_PER_MS


def room_events(length_ns: int) -> st.SearchStrategy[list[Event]]:
    kinds = st.sampled_from([
        ("message", {"text": "x"}), ("break", {"value": True}), ("break", {"value": False}),
        ("stream", {"cut": "start"}), ("stream", {"cut": "stop"}),
    ])  # fmt: skip
    return st.lists(st.tuples(st.integers(0, length_ns), kinds), max_size=40).map(
        lambda xs: [Event(t, i, k, d, k) for i, (t, (k, d)) in enumerate(xs)]
    )


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_adjust_properties(data: st.DataObject) -> None:
    segments, offset, length = data.draw(recordings())
    events = data.draw(room_events(length))
    preroll = data.draw(st.integers(0, 5_000))
    a = adjust(events, length, offset, segments, preroll_ms=preroll)
    video = total(segments) * NS_PER_MS
    originals = [e for e in a.original if e.type != "stream"]
    # Order preserved: O lists the room's events in the order they happened.
    before = [e.order for e in sorted(events, key=lambda e: (e.occurred_at, e.order))
              if e.type != "stream"]  # fmt: skip
    after = [e.order for e in sorted(originals, key=lambda e: e.occurred_at)]
    assert after == before
    ts = [e.occurred_at for e in originals]
    assert ts == sorted(ts) and len(set(ts)) == len(ts)
    # Every event inside the video (the modified room: inside the video plus the preroll).
    assert all(0 <= t <= video for t in ts)
    mt = [e.occurred_at for e in a.modified]
    assert mt == sorted(mt) and len(set(mt)) == len(mt)
    assert all(preroll * NS_PER_MS <= t <= video + preroll * NS_PER_MS for t in mt)
    # What M keeps is what the segments keep: inside the video, in order, never longer.
    assert total(a.modified_segments) <= a.duration_ms
    assert all(0 <= s < e <= a.duration_ms for s, e in a.modified_segments)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_no_pauses_no_cuts_is_the_identity(data: st.DataObject) -> None:
    length_ms = data.draw(st.integers(2_000, 600_000))
    moments = st.integers(0, length_ms * NS_PER_MS - 1)
    events = data.draw(st.lists(moments, max_size=30, unique=True))
    room = [chat(t, i) for i, t in enumerate(events)]
    a = adjust(room, length_ms * NS_PER_MS, 0, [(0, length_ms)])
    assert sorted(times(a.original)) == sorted(events)
    assert sorted(times(a.modified)) == sorted(events)
    assert a.modified_segments == [(0, length_ms)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 10**6), max_size=40),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 10**5)), max_size=8),
)
def test_retiming_never_moves_an_event_across_a_cut(
    ts: list[int], raw: list[tuple[int, int]]
) -> None:
    gaps = merge((a, a + d) for a, d in raw)
    events = [chat(t, i) for i, t in enumerate(ts)]
    moved = {e.order: e.occurred_at for e in retime(events, gaps)}
    for start, stop in gaps:
        cut_at = collapse(start, gaps)
        before = [moved[e.order] for e in events if e.occurred_at <= start]
        after = [moved[e.order] for e in events if e.occurred_at >= stop]
        assert all(t <= cut_at + len(events) for t in before)
        assert all(t >= cut_at for t in after)
        if before and after:
            assert max(before) < min(after)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 10**6), max_size=40),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 10**5)), max_size=8),
)
def test_the_fast_collapse_is_the_plain_one(ts: list[int], raw: list[tuple[int, int]]) -> None:
    gaps = merge((a, a + d) for a, d in raw)
    at = collapser(gaps)
    assert [at(t) for t in ts] == [collapse(t, gaps) for t in ts]


def test_mutes_and_the_timeline_they_go_back_to() -> None:
    audio, video = mute_spans([(1_000, True, None), (2_000, None, True), (3_000, False, None),
                               (9_000, True, None)], 10_000)  # fmt: skip
    assert audio == [(1_000, 3_000), (9_000, 10_000)] and video == [(2_000, 10_000)]
    # An output cut from [0, 4 s) and [6 s, 10 s): its 3-5 s lie at 3-4 s and 6-7 s.
    assert on_timeline([(3_000, 5_000)], [(0, 4_000), (6_000, 10_000)]) == [
        (3_000, 4_000), (6_000, 7_000)]  # fmt: skip
