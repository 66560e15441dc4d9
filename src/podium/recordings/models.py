"""The recording rules that need no I/O: spans, gaps, the two cut machines, re-timing events
(adjust and edition commits), the segments of a media file and the minigroup layout.

Units (notes/recordings.md): an event's `occurred_at` is nanoseconds since its room opened; a
recording's `segments` are half-open millisecond ranges `[start, stop)` relative to its
`started_at` (absolute unix ms). Spans here are `(start, stop)` tuples in one unit at a time.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

Span = tuple[int, int]  # half-open [start, stop)

NS_PER_MS = 1_000_000
MIN_SEGMENT_MS = 1_000  # a trailing gap shorter than this is not a pause (the recording's tail)


class BadSegments(ValueError):
    """Segments that are not ordered, half-open, non-overlapping ranges."""


class BadCuts(ValueError):
    """Cut marks that do not nest (an edition's stop without a start)."""


def check_segments(segments: Sequence[Span]) -> None:
    previous = None
    for start, stop in segments:
        if not start < stop:
            raise BadSegments(f"segment [{start}, {stop}) is empty or reversed")
        if previous is not None and start < previous:
            raise BadSegments(f"segment [{start}, {stop}) overlaps or precedes the one before")
        previous = stop


def invert(spans: Sequence[Span], length: int, min_tail: int = 0) -> list[Span]:
    """The complement of ordered spans over `[0, length)`. The tail after the last span counts
    only when it is longer than `min_tail`; no spans at all: one gap over everything."""
    if not spans:
        return [(0, length)] if length > 0 else []
    gaps: list[Span] = []
    if spans[0][0] > 0:
        gaps.append((0, spans[0][0]))
    gaps += [(a[1], b[0]) for a, b in itertools.pairwise(spans) if b[0] > a[1]]
    if length - spans[-1][1] > min_tail:
        gaps.append((spans[-1][1], length))
    return gaps


def keep(gaps: Sequence[Span], length: int) -> list[Span]:
    """The spans to keep of `[0, length)` once the gaps are cut out (starts clamped at 0)."""
    return [(max(a, 0), b) for a, b in invert(sorted(gaps), length) if b > max(a, 0)]


def intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """Two ordered span lists' common parts (a two-pointer merge)."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, stop = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < stop:
            out.append((start, stop))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def total(spans: Iterable[Span]) -> int:
    return sum(stop - start for start, stop in spans)


def collapse(t: int, gaps: Sequence[Span]) -> int:
    """Where time `t` lands once the (ordered, disjoint) gaps are cut out: minus every gap
    before it, minus the part of a gap it lies in (so it snaps to that gap's start)."""
    return t - sum(min(stop, t) - start for start, stop in gaps if start < t)


def collapser(gaps: Sequence[Span]) -> Callable[[int], int]:
    """`collapse` for many times over the same gaps: a binary search and a running sum
    instead of a walk over every gap."""
    starts = [start for start, _ in gaps]
    before = list(itertools.accumulate((stop - start for start, stop in gaps), initial=0))

    def at(t: int) -> int:
        i = bisect.bisect_left(starts, t)  # gaps[:i] start before t
        if i == 0:
            return t
        start, stop = gaps[i - 1]
        return t - before[i - 1] - (min(stop, t) - start)

    return at


def lenient_cuts(marks: Iterable[tuple[int, str]]) -> list[Span]:
    """Adjust's machine over `stream` cut marks `(t, "start"|"stop")` in time order. It starts
    cutting at 0: a stop first cuts from 0; a repeated start restarts; a stop while stopped is
    ignored; a start left open at the end is dropped."""
    gaps: list[Span] = []
    started: int | None = 0
    for t, cut in marks:
        if cut == "start":
            started = t
        elif cut == "stop" and started is not None:
            if t > started:
                gaps.append((started, t))
            started = None
    return gaps


def strict_cuts(marks: Iterable[tuple[int, str]]) -> list[Span]:
    """An edition's machine: it starts stopped; starts nest, a gap closes only at the outermost
    stop; a stop without a start is an error (BadCuts); a start left open at the end is dropped."""
    gaps: list[Span] = []
    depth, opened = 0, 0
    for t, cut in marks:
        if cut == "start":
            if depth == 0:
                opened = t
            depth += 1
        elif cut == "stop":
            if depth == 0:
                raise BadCuts(f"a cut stop at {t} ns has no start")
            depth -= 1
            if depth == 0 and t > opened:
                gaps.append((opened, t))
    return gaps


def merge(spans: Iterable[Span]) -> list[Span]:
    """Ordered, disjoint spans covering the same ground."""
    out: list[Span] = []
    for start, stop in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], stop))
        else:
            out.append((start, stop))
    return out


class Event(NamedTuple):
    """An event as re-timing sees it; `order` is its place in creation order (seq). A tuple:
    re-timing a hundred thousand makes as many copies, which a dataclass makes 4x slower."""

    occurred_at: int
    order: int
    type: str
    data: Any = None
    set: str | None = None
    label: str | None = None
    attribute: str | None = None
    removed: bool = False
    created_by: str = ""
    created_at: int = 0
    id: Any = None


def _when(e: Event) -> tuple[int, int]:
    return e[0], e[1]  # occurred_at, order


def retime(
    events: Sequence[Event], gaps: Sequence[Span], offset: int = 0, limit: int | None = None
) -> list[Event]:
    """Events moved by collapsing `gaps` (ns, ordered, disjoint), plus `offset`, in the order
    they happened. Monotonic: events other than `stream` marks that land on the same time are
    spread one nanosecond apart in creation order, so the order of the room survives; with a
    `limit`, none goes past it (those spread past it are pulled back below it, never past one
    another)."""
    at = collapser(gaps)
    ceiling = None if limit is None else limit + offset
    new = tuple.__new__  # a new tuple with its first field changed, without _replace's cost
    out: list[Event] = []
    last = None  # the latest time given to an event that is not a `stream` mark
    for e in sorted(events, key=_when):
        t = at(e[0]) + offset
        if ceiling is not None and t > ceiling:
            t = ceiling
        if e[2] != "stream":
            if last is not None and t <= last:
                t = last + 1
            last = t
        out.append(new(Event, (t, *e[1:])))
    if ceiling is not None and last is not None and last > ceiling:
        cap = ceiling
        for k in range(len(out) - 1, -1, -1):
            e = out[k]
            if e[2] == "stream":
                continue
            if e[0] <= cap:
                break
            out[k] = new(Event, (cap, *e[1:]))
            cap -= 1
    return out


# Events that mark a cut in the recording: a break, a sub-group session.
CUT_MARKS = {
    ("break", True): "start", ("break", False): "stop",
    ("video_group", "created"): "start", ("video_group", "deleted"): "stop",
}  # fmt: skip


def cut_mark(event: Event) -> str | None:
    """ "start"/"stop" for an event that marks a cut (a `stream` mark itself, a break, a
    sub-group session), else None."""
    data = event.data if isinstance(event.data, dict) else {}
    if event.type == "stream":
        cut = data.get("cut")
        return cut if cut in ("start", "stop") else None
    if event.type == "break":
        return CUT_MARKS.get(("break", data.get("value")))
    if event.type == "video_group":
        return CUT_MARKS.get(("video_group", data.get("video_group")))
    return None


def stream_marks(events: Iterable[Event]) -> list[tuple[int, str]]:
    """`stream` cut marks `(t, cut)` in time order."""
    marks = [(e.occurred_at, e.order, cut_mark(e)) for e in events if e.type == "stream"]
    return [(t, cut) for t, _, cut in sorted(marks) if cut is not None]


@dataclass(frozen=True, slots=True)
class Adjusted:
    original: list[Event]  # the original room O's events (pauses collapsed)
    modified: list[Event]  # the modified room M's events (cuts collapsed, preroll added)
    duration_ms: int  # the pause-free original video's length
    modified_segments: list[Span]  # ms of that video to keep
    cut_original_segments: list[Span]  # ms of the recording (with pauses) to keep


def synthesized_marks(events: Sequence[Event]) -> list[Event]:
    """`stream` marks for every break and sub-group session of the room, at the same time."""
    last = max((e.order for e in events), default=0)
    marking = sorted((e for e in events if e.type in ("break", "video_group")), key=_when)
    return [
        Event(e.occurred_at, last + i + 1, "stream", {"cut": mark}, "stream", created_by="podium")
        for i, e in enumerate(marking)
        if (mark := cut_mark(e)) is not None
    ]


def adjust(
    events: Sequence[Event], room_duration_ns: int, rtc_offset_ms: int,
    segments: Sequence[Span], preroll_ms: int = 0, min_segment_ms: int = MIN_SEGMENT_MS,
) -> Adjusted:  # fmt: skip
    """Adjust a class's event room with its recording (notes/recordings.md "Adjust", steps
    3 to 11). `events` are the room's stored events (without the synthesized marks), times ns
    since the room opened; `rtc_offset_ms` is when the recording started, in ms after the room
    opened; `segments` the recording's media, ms after its start."""
    check_segments(segments)
    room = list(events) + synthesized_marks(events)
    in_room = [((a + rtc_offset_ms) * NS_PER_MS, (b + rtc_offset_ms) * NS_PER_MS)
               for a, b in segments]  # fmt: skip
    pauses = invert(in_room, room_duration_ns, min_segment_ms * NS_PER_MS)
    duration_ms = total(segments)
    original = retime(room, pauses, 0, duration_ms * NS_PER_MS)
    cuts = lenient_cuts(stream_marks(original))
    modified = [e for e in retime(original, cuts, preroll_ms * NS_PER_MS, duration_ms * NS_PER_MS)
                if e.type != "stream"]  # fmt: skip
    modified_segments = [
        (a // NS_PER_MS, b // NS_PER_MS)
        for a, b in keep(cuts, duration_ms * NS_PER_MS) if b // NS_PER_MS > a // NS_PER_MS
    ]  # fmt: skip
    # The same cuts in the recording's own timeline (with its pauses): what a minigroup's
    # composition keeps of everyone.
    room_cuts = lenient_cuts(stream_marks(room))
    shifted = [(a // NS_PER_MS - rtc_offset_ms, b // NS_PER_MS - rtc_offset_ms)
               for a, b in room_cuts]  # fmt: skip
    end = segments[-1][1] if segments else 0
    cut_original = intersect(list(segments), keep(shifted, end))
    return Adjusted(original, modified, duration_ms, modified_segments, cut_original)


@dataclass(frozen=True, slots=True)
class Change:
    """An edition's change: `addition` (event), `modification` (event_id + fields),
    `removal` (event_id), `bulk_removal` (a set)."""

    kind: str
    event: Event | None = None
    event_id: Any = None
    fields: dict[str, Any] | None = None
    set: str | None = None


def apply_changes(events: Sequence[Event], changes: Sequence[Change]) -> list[Event]:
    """The source room's events joined with an edition's changes: additions inserted,
    modifications override the fields they give (None keeps the event's), removals and
    bulk-removed sets dropped."""
    removed = {c.event_id for c in changes if c.kind == "removal"}
    sets = {c.set for c in changes if c.kind == "bulk_removal"}
    overrides: dict[Any, dict[str, Any]] = {}
    for c in changes:
        if c.kind == "modification" and c.fields:
            overrides.setdefault(c.event_id, {}).update(
                {k: v for k, v in c.fields.items() if v is not None}
            )
    out = [
        e._replace(**overrides.get(e.id, {}))
        for e in events if e.id not in removed and e.set not in sets
    ]  # fmt: skip
    out += [c.event for c in changes if c.kind == "addition" and c.event is not None]
    return out


@dataclass(frozen=True, slots=True)
class Committed:
    events: list[Event]
    modified_segments: list[Span]


def commit_edition(
    source: Sequence[Event], changes: Sequence[Change], duration_ns: int, preroll_ms: int = 0
) -> Committed:
    """An edition's commit (notes/recordings.md "Editions"): the source room's `stream` marks
    and the edition's, through the strict machine; the joined events shifted by the gaps before
    them plus the preroll; `stream` events dropped. Raises BadCuts."""
    events = apply_changes(source, changes)
    gaps = merge(strict_cuts(stream_marks(events)))
    moved = retime(events, gaps, preroll_ms * NS_PER_MS, duration_ns - total(gaps))
    segments = [
        (a // NS_PER_MS, b // NS_PER_MS)
        for a, b in keep(gaps, duration_ns) if b // NS_PER_MS > a // NS_PER_MS
    ]  # fmt: skip
    return Committed([e for e in moved if e.type != "stream"], segments)


def segments_of(pieces: Sequence[tuple[int, int]], started_at_ms: int | None = None) -> list[Span]:
    """A publisher's segments from its media pieces `(absolute start ms, duration ms)` (one per
    publish): ms relative to the first piece (or `started_at_ms`), touching pieces merged."""
    if not pieces:
        return []
    ordered = sorted(pieces)
    first = ordered[0][0] if started_at_ms is None else started_at_ms
    return merge((start - first, start - first + dur) for start, dur in ordered if dur > 0)


@dataclass(frozen=True, slots=True)
class Track:
    """One publisher's recording placed on the class's common timeline (a minigroup)."""

    account_id: str
    offset_ms: int  # its start after the earliest recording's start
    segments: list[Span]
    modified_segments: list[Span]
    pins: list[Span]


def place(recordings: Sequence[dict[str, Any]], host: str) -> list[Track]:
    """Minigroup composition's inputs: each recording's offset on the common timeline, the host's
    cut segments (its `cut_original_segments`) and everyone else's own segments.

    `recordings`: dicts with account_id, started_at (ms), segments, cut_original_segments (host),
    pins (ms on its own timeline)."""
    if not recordings:
        return []
    earliest = min(r["started_at"] for r in recordings)
    return [
        Track(
            r["account_id"], r["started_at"] - earliest, list(r["segments"]),
            list(r.get("cut_original_segments") or r["segments"])
            if r["account_id"] == host else list(r["segments"]),
            list(r.get("pins") or []),
        )
        for r in sorted(recordings, key=lambda r: (r["started_at"], r["account_id"]))
    ]  # fmt: skip


def pin_spans(
    pins: Iterable[tuple[int, str | None]], account_id: str, length_ms: int
) -> list[Span]:
    """When `account_id` is pinned, from `pin` events `(stream ms, pinned account or None)` in
    time order: a pin to them opens, a pin to anyone else (or none) closes; an open pin closes at
    the end; clipped to `[0, length_ms]`."""
    spans: list[Span] = []
    opened: int | None = None
    for t, who in sorted(pins, key=lambda p: p[0]):
        t = max(0, min(t, length_ms))
        if who == account_id and opened is None:
            opened = t
        elif who != account_id and opened is not None:
            if t > opened:
                spans.append((opened, t))
            opened = None
    if opened is not None and length_ms > opened:
        spans.append((opened, length_ms))
    return spans


def mute_spans(
    changes: Iterable[tuple[int, bool | None, bool | None]], length_ms: int
) -> tuple[list[Span], list[Span]]:
    """When a publisher's sound and picture were muted, from their mute history: changes
    `(ms, audio muted?, video muted?)` in time order, None leaving that one as it was; a mute
    still on at the end lasts to it. Answers (audio spans, video spans), clipped to the video."""
    spans: dict[str, list[Span]] = {"audio": [], "video": []}
    since: dict[str, int | None] = {"audio": None, "video": None}
    for t, audio, video in sorted(changes, key=lambda c: c[0]):
        t = max(0, min(t, length_ms))
        for what, muted in (("audio", audio), ("video", video)):
            if muted is None:
                continue
            if muted and since[what] is None:
                since[what] = t
            elif not muted and since[what] is not None:
                if t > (since[what] or 0):
                    spans[what].append((since[what] or 0, t))
                since[what] = None
    for what, start in since.items():
        if start is not None and length_ms > start:
            spans[what].append((start, length_ms))
    return spans["audio"], spans["video"]


def on_timeline(spans: Iterable[Span], keep: Sequence[Span]) -> list[Span]:
    """Spans of the output (ms from its start) placed back on the timeline it was cut from:
    the output is `keep`'s parts one after another."""
    out: list[Span] = []
    for a, b in spans:
        at = 0
        for start, stop in keep:
            length = stop - start
            lo, hi = max(a, at), min(b, at + length)
            if lo < hi:
                out.append((start + lo - at, start + hi - at))
            at += length
    return merge(out)
