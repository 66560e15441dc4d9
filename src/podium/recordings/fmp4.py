"""Fragmented MP4 read at the box level: a file's init section and its fragments, with each
track's decode time and duration, and each fragment's runs of samples (what `splice` needs to
join and cut fragments without demuxing a packet).

Only files as Podium writes them are read (ffmpeg, `-movflags
+frag_keyframe+empty_moov+default_base_moof`: a fragment per video keyframe, data offsets
relative to their `moof`, so a `moof`+`mdat` pair moves as a whole). Anything else raises
NotFragmented and the caller takes the slow path.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MOVFLAGS = "+frag_keyframe+empty_moov+default_base_moof"


class NotFragmented(ValueError):
    """Not a fragmented MP4 this module understands."""


@dataclass(frozen=True, slots=True)
class Track:
    id: int
    kind: str  # "vide" or "soun"
    timescale: int
    default_duration: int  # trex's default sample duration


@dataclass(frozen=True, slots=True)
class Fragment:
    offset: int  # of its moof
    moof: int  # the moof's size
    size: int  # moof + mdat
    starts: dict[int, int]  # track id → baseMediaDecodeTime (its timescale)
    durations: dict[int, int]  # track id → Σ sample durations (its timescale)


@dataclass
class Movie:
    path: Path
    init: bytes  # ftyp + moov
    tracks: dict[int, Track]
    fragments: list[Fragment] = field(default_factory=list)
    stretch: int = 0  # how much longer than its neighbours the first video sample is

    @property
    def video(self) -> Track:
        return next(t for t in self.tracks.values() if t.kind == "vide")

    def seconds(self, fragment: Fragment) -> tuple[float, float]:
        """Where a fragment's video starts and ends, in seconds of the picture (the first
        sample's stretch, see `even`, taken out)."""
        v = self.video
        start = max(fragment.starts[v.id] - self.stretch, 0) / v.timescale
        return start, start + fragment.durations[v.id] / v.timescale

    def video_setup(self) -> bytes:
        """The video's decoder setup (its avcC: profile, level, SPS, PPS): files can be joined
        only when theirs are the same."""
        stsd = _find(self.init, ["moov", ("trak", "vide"), "mdia", "minf", "stbl", "stsd"])
        at = stsd.find(b"avcC")
        if at < 4:
            raise NotFragmented("the video is not H.264")
        size = struct.unpack_from(">I", stsd, at - 4)[0]
        return stsd[at - 4 : at - 4 + size]


def boxes(
    buf: bytes, start: int = 0, end: int | None = None
) -> Iterator[tuple[int, int, str, int]]:
    """(offset, size, type, header size) of each box in buf[start:end]."""
    end = len(buf) if end is None else end
    off = start
    while off + 8 <= end:
        size, kind = struct.unpack_from(">I4s", buf, off)
        header = 8
        if size == 1:
            size = struct.unpack_from(">Q", buf, off + 8)[0]
            header = 16
        elif size == 0:
            size = end - off
        if size < header:
            raise NotFragmented(f"a box of size {size} at {off}")
        yield off, size, kind.decode("latin-1"), header
        off += size


def _handler(buf: bytes, trak_off: int, trak_size: int) -> str:
    mdia = _child(buf, trak_off, trak_size, "mdia")
    hdlr = _child(buf, mdia[0], mdia[1], "hdlr")
    return buf[hdlr[0] + 16 : hdlr[0] + 20].decode("latin-1")


def _child(buf: bytes, off: int, size: int, kind: str) -> tuple[int, int]:
    for o, s, k, _ in boxes(buf, off + _header(buf, off), off + size):
        if k == kind:
            return o, s
    raise NotFragmented(f"no {kind}")


def _header(buf: bytes, off: int) -> int:
    return 16 if struct.unpack_from(">I", buf, off)[0] == 1 else 8


def _find(buf: bytes, path: Sequence[str | tuple[str, str]]) -> bytes:
    off, size = 0, len(buf)
    first = True
    for step in path:
        kind, handler = (step, None) if isinstance(step, str) else step
        found = None
        children = boxes(buf, 0, len(buf)) if first else boxes(buf, off + _header(buf, off),
                                                                  off + size)  # fmt: skip
        for o, s, k, _ in children:
            if k == kind and (handler is None or _handler(buf, o, s) == handler):
                found = (o, s)
                break
        if found is None:
            raise NotFragmented(f"no {kind}")
        off, size = found
        first = False
    return buf[off : off + size]


def _tracks(moov: bytes) -> dict[int, Track]:
    defaults: dict[int, int] = {}
    mvex = [(o, s) for o, s, k, _ in boxes(moov, 8) if k == "mvex"]
    if not mvex:
        raise NotFragmented("no mvex: not a fragmented file")
    for o, _s, k, _ in boxes(moov, mvex[0][0] + 8, mvex[0][0] + mvex[0][1]):
        if k == "trex":
            track_id, _, duration = struct.unpack_from(">III", moov, o + 12)
            defaults[track_id] = duration
    tracks = {}
    for o, s, k, _ in boxes(moov, 8):
        if k != "trak":
            continue
        tkhd = _child(moov, o, s, "tkhd")
        version = moov[tkhd[0] + 8]
        track_id = struct.unpack_from(">I", moov, tkhd[0] + (28 if version == 1 else 20))[0]
        mdia = _child(moov, o, s, "mdia")
        mdhd = _child(moov, mdia[0], mdia[1], "mdhd")
        version = moov[mdhd[0] + 8]
        timescale = struct.unpack_from(">I", moov, mdhd[0] + (28 if version == 1 else 20))[0]
        tracks[track_id] = Track(track_id, _handler(moov, o, s), timescale,
                                 defaults.get(track_id, 0))  # fmt: skip
    if not any(t.kind == "vide" for t in tracks.values()):
        raise NotFragmented("no video track")
    return tracks


def _traf_times(moof: bytes, tracks: dict[int, Track]) -> tuple[dict[int, int], dict[int, int]]:
    """Each track's decode time and duration in a fragment (the first video sample evened)."""
    found = runs(moof, tracks)
    starts = {r.track: r.start for r in found}
    durations = {r.track: sum(even(r.durations) if tracks[r.track].kind == "vide"
                              else r.durations) for r in found}  # fmt: skip
    return starts, durations


def sample_durations(moof: bytes, trun: int) -> list[int] | None:
    """A trun's per-sample durations (None when it has none)."""
    flags = int.from_bytes(moof[trun + 9 : trun + 12], "big")
    if not flags & 0x100:
        return None
    count = struct.unpack_from(">I", moof, trun + 12)[0]
    at = trun + 16 + (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
    step = 4 * sum(1 for f in (0x100, 0x200, 0x400, 0x800) if flags & f)
    return [struct.unpack_from(">I", moof, at + n * step)[0] for n in range(count)]


def even(durations: list[int]) -> list[int]:
    """ffmpeg stretches a fragmented file's first video sample by the audio's encoder delay
    (21 ms for AAC at 48 kHz); joined files would add that up, one per file: the first sample
    gets its neighbour's duration."""
    if len(durations) > 1 and durations[0] > durations[1]:
        return [durations[1], *durations[1:]]
    return durations


def read_movie(path: Path) -> Movie:
    """The init section and every fragment of a fragmented MP4 (reads only box headers and
    the moofs)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(min(size, 1 << 20))
        init_end = None
        for o, s, k, _ in boxes(head):
            if k == "moov":
                init_end = o + s
                break
        if init_end is None or init_end > len(head):
            raise NotFragmented("no moov at the start")
        movie = Movie(path, head[:init_end], _tracks(head[_moov_at(head) : init_end]))
        off = init_end
        pending: tuple[int, int, bytes] | None = None
        while off + 8 <= size:
            f.seek(off)
            header = f.read(16)
            box_size, kind = struct.unpack_from(">I4s", header)
            if box_size == 1:
                box_size = struct.unpack_from(">Q", header, 8)[0]
            elif box_size == 0:
                box_size = size - off
            if kind == b"moof":
                f.seek(off)
                pending = (off, box_size, f.read(box_size))
            elif kind == b"mdat" and pending is not None:
                starts, durations = _traf_times(pending[2], movie.tracks)
                whole = off + box_size - pending[0]
                movie.fragments.append(Fragment(pending[0], pending[1], whole, starts, durations))
                pending = None
            off += box_size
    if not movie.fragments:
        raise NotFragmented("no fragments")
    if len(movie.fragments) > 1:
        v, first, second = movie.video.id, movie.fragments[0], movie.fragments[1]
        movie.stretch = max(second.starts[v] - first.starts[v] - first.durations[v], 0)
    return movie


def _moov_at(head: bytes) -> int:
    return next(o for o, _s, k, _ in boxes(head) if k == "moov")


@dataclass(frozen=True, slots=True)
class Run:
    """A traf's one trun: where its fields are, and its samples' sizes and durations."""

    track: int
    traf: int  # offset of the traf in the moof
    trun: int
    flags: int
    start: int  # baseMediaDecodeTime
    sizes: list[int]
    durations: list[int]
    data_offset: int


def runs(moof: bytes, tracks: dict[int, Track]) -> list[Run]:
    """Each track's samples in a fragment as ffmpeg writes them: one trun per traf, with
    sizes, a data offset, and durations (per sample or by default). Else NotFragmented."""
    found = []
    for o, s, k, _ in boxes(moof, 8):
        if k != "traf":
            continue
        track, default, default_size, start, trun = 0, 0, None, None, None
        for o2, _s2, k2, _ in boxes(moof, o + 8, o + s):
            if k2 == "tfhd":
                flags = int.from_bytes(moof[o2 + 9 : o2 + 12], "big")
                track = struct.unpack_from(">I", moof, o2 + 12)[0]
                at = o2 + 16 + (8 if flags & 0x1 else 0) + (4 if flags & 0x2 else 0)
                default = struct.unpack_from(">I", moof, at)[0] if flags & 0x8 else 0
                at += 4 if flags & 0x8 else 0
                default_size = struct.unpack_from(">I", moof, at)[0] if flags & 0x10 else None
            elif k2 == "tfdt":
                wide = moof[o2 + 8] == 1
                start = struct.unpack_from(">Q" if wide else ">I", moof, o2 + 12)[0]
            elif k2 == "trun":
                if trun is not None:
                    raise NotFragmented("several truns in a traf")
                trun = o2
        if trun is None or start is None:
            raise NotFragmented("a traf without trun or tfdt")
        flags = int.from_bytes(moof[trun + 9 : trun + 12], "big")
        if not flags & 0x1 or not (flags & 0x200 or default_size is not None):
            raise NotFragmented("a trun without data offset or sizes")
        count = struct.unpack_from(">I", moof, trun + 12)[0]
        data_offset = struct.unpack_from(">i", moof, trun + 16)[0]
        at = trun + 20 + (4 if flags & 0x4 else 0)
        names = [f for f in (0x100, 0x200, 0x400, 0x800) if flags & f]
        rows = [struct.unpack_from(f">{len(names)}I", moof, at + n * 4 * len(names))
                for n in range(count)]  # fmt: skip
        sizes = ([r[names.index(0x200)] for r in rows] if flags & 0x200
                 else [default_size or 0] * count)  # fmt: skip
        durations = ([r[names.index(0x100)] for r in rows] if flags & 0x100
                     else [default or tracks[track].default_duration] * count)  # fmt: skip
        found.append(Run(track, o, trun, flags, start, sizes, durations, data_offset))
    return found
