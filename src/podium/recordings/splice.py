"""Writing fragmented MP4 at the box level: a new file from fragments of several files, their
decode times moved (`tfdt`) and renumbered (`mfhd`), the media copied byte for byte — a join
that rewrites a few numbers per fragment instead of demuxing and muxing every packet — with a
fragment cut short where a part ends, and an HLS playlist of byte ranges of the result.
"""

from __future__ import annotations

import itertools
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from podium.recordings import fmp4
from podium.recordings.fmp4 import Fragment, Movie, NotFragmented


def _moved(moof: bytes, shift: dict[int, int], sequence: int, video: set[int]) -> bytes:
    """A moof with its sequence number set, each track's decode time moved by `shift`, and
    the first video sample evened (see `fmp4.even`)."""
    out = bytearray(moof)
    for o, s, k, _ in fmp4.boxes(moof, 8):
        if k == "mfhd":
            struct.pack_into(">I", out, o + 12, sequence)
        elif k == "traf":
            track_id = 0
            for o2, _s2, k2, _ in fmp4.boxes(moof, o + 8, o + s):
                if k2 == "tfhd":
                    track_id = struct.unpack_from(">I", moof, o2 + 12)[0]
                elif k2 == "trun" and track_id in video:
                    durations = fmp4.sample_durations(moof, o2)
                    if durations is not None and fmp4.even(durations) != durations:
                        flags = int.from_bytes(moof[o2 + 9 : o2 + 12], "big")
                        at = o2 + 16 + (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
                        struct.pack_into(">I", out, at, durations[1])
                elif k2 == "tfdt":
                    wide = moof[o2 + 8] == 1
                    fmt = ">Q" if wide else ">I"
                    value = struct.unpack_from(fmt, moof, o2 + 12)[0] + shift.get(track_id, 0)
                    # A fragment's sound may start a few ms before its picture: at the very
                    # start of a file that would be before 0.
                    value = max(value, 0)
                    if not wide and value >= 1 << 32:
                        raise NotFragmented("a decode time out of range")
                    struct.pack_into(fmt, out, o2 + 12, value)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class Piece:
    """Consecutive fragments of one file; with `frames`, only that many video frames of the
    last one (and the sound that goes with them)."""

    movie: Movie
    fragments: list[Fragment]
    frames: int | None = None


def _truncated(moof: bytes, movie: Movie, frames: int) -> tuple[bytes, list[tuple[int, int]], int]:
    """A fragment cut after its first `frames` video frames and the sound before their end:
    the new moof, the (offset in the old fragment, length) of the media it keeps, and its
    video duration. The moof shrinks by the trun entries dropped; every data offset follows."""
    runs = fmp4.runs(moof, movie.tracks)
    order = sorted(runs, key=lambda r: r.data_offset)
    for a, b in itertools.pairwise(order):
        if a.data_offset + sum(a.sizes) != b.data_offset:
            raise NotFragmented("the tracks' media is not laid out one after another")
    video = movie.video
    v = next(r for r in runs if r.track == video.id)
    keep_video = min(frames, len(v.sizes))
    end = (v.start + sum(fmp4.even(v.durations)[:keep_video])) / video.timescale
    kept: dict[int, int] = {}
    for r in runs:
        if r.track == video.id:
            kept[r.track] = keep_video
            continue
        scale, t, n = movie.tracks[r.track].timescale, r.start, 0
        while n < len(r.sizes) and t / scale < end:
            t += r.durations[n]
            n += 1
        kept[r.track] = n
    out = bytearray(moof)
    # From the last trun back, so earlier offsets stay valid while later bytes go.
    removed: dict[int, int] = {}
    for r in sorted(runs, key=lambda r: r.trun, reverse=True):
        width = 4 * sum(1 for f in (0x100, 0x200, 0x400, 0x800) if r.flags & f)
        first = r.trun + 20 + (4 if r.flags & 0x4 else 0)
        cut_from, cut_to = first + kept[r.track] * width, first + len(r.sizes) * width
        del out[cut_from:cut_to]
        removed[r.track] = cut_to - cut_from
        struct.pack_into(">I", out, r.trun + 12, kept[r.track])
        struct.pack_into(">I", out, r.trun, struct.unpack_from(">I", out, r.trun)[0]
                         - removed[r.track])  # fmt: skip
        struct.pack_into(">I", out, r.traf, struct.unpack_from(">I", out, r.traf)[0]
                         - removed[r.track])  # fmt: skip
    struct.pack_into(">I", out, 0, len(out))
    # The kept media, in the order it was, right after the new moof and its mdat header.
    pieces: list[tuple[int, int]] = []
    data = len(out) + 8
    for r in order:
        size = sum(r.sizes[: kept[r.track]])
        trun = r.trun - sum(n for t, n in removed.items()
                            if next(x for x in runs if x.track == t).trun < r.trun)  # fmt: skip
        struct.pack_into(">i", out, trun + 16, data)
        pieces.append((r.data_offset, size))
        data += size
    duration = sum(fmp4.even(v.durations)[:keep_video])
    return bytes(out), pieces, duration


@dataclass(frozen=True, slots=True)
class Written:
    offset: int
    size: int
    seconds: float


def join(pieces: Sequence[Piece], out: Path) -> tuple[int, list[Written]]:
    """One file: the first piece's init section, then every piece's fragments one after
    another on a continuous timeline. Answers the init's size and where each fragment went
    (for an HLS playlist of byte ranges)."""
    init = pieces[0].movie.init
    written: list[Written] = []
    cursor = 0.0  # seconds of video written
    sequence = 1
    with out.open("wb") as dst:
        dst.write(init)
        position = len(init)
        for piece in pieces:
            movie = piece.movie
            video = movie.video
            start = movie.seconds(piece.fragments[0])[0]
            with movie.path.open("rb") as src:
                for fragment in piece.fragments:
                    # Every track moves by the same time, from where the fragment's picture
                    # starts (without the file's first-sample stretch, which is evened) to its
                    # place after the cursor.
                    stored = fragment.starts[video.id] / video.timescale
                    moved = cursor + movie.seconds(fragment)[0] - start - stored
                    shift = {t.id: round(moved * t.timescale) for t in movie.tracks.values()}
                    src.seek(fragment.offset)
                    moof = src.read(fragment.moof)
                    last = fragment is piece.fragments[-1] and piece.frames is not None
                    if last:
                        moof, ranges, duration = _truncated(moof, movie, piece.frames or 0)
                        media = sum(n for _, n in ranges)
                    else:
                        ranges = [(fragment.moof + 8, fragment.size - fragment.moof - 8)]
                        duration, media = fragment.durations[video.id], ranges[0][1]
                    dst.write(_moved(moof, shift, sequence, {video.id}))
                    dst.write(struct.pack(">I4s", media + 8, b"mdat"))
                    dst.flush()
                    for offset, count in ranges:
                        _copy(src.fileno(), dst.fileno(), fragment.offset + offset, count)
                    dst.seek(0, os.SEEK_END)
                    size = len(moof) + 8 + media
                    written.append(Written(position, size, duration / video.timescale))
                    position += size
                    sequence += 1
            cursor += sum(w.seconds for w in written[len(written) - len(piece.fragments) :])
    return len(init), written


def _copy(src: int, dst: int, offset: int, count: int) -> None:
    """Bytes from one file to the end of another, in the kernel where it can."""
    at = offset
    while count > 0:
        try:
            n = os.copy_file_range(src, dst, count, at)
        except OSError:
            os.lseek(src, at, os.SEEK_SET)
            chunk = os.read(src, min(count, 1 << 20))
            n = os.write(dst, chunk)
        if n == 0:
            raise NotFragmented("the source ended early")
        at += n
        count -= n


def playlist(init_size: int, written: Sequence[Written], name: str, target: float = 6.0) -> str:
    """An HLS (version 7) playlist of byte ranges of one fragmented file: the init section,
    then segments of whole fragments of about `target` seconds."""
    segments: list[tuple[int, int, float]] = []
    for w in written:
        if segments and segments[-1][2] + w.seconds <= target + 0.001:
            o, s, d = segments[-1]
            segments[-1] = (o, s + w.size, d + w.seconds)
        else:
            segments.append((w.offset, w.size, w.seconds))
    longest = max((round(d + 0.4999) for _, _, d in segments), default=1)
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{max(longest, 1)}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD",
             f'#EXT-X-MAP:URI="{name}",BYTERANGE="{init_size}@0"']  # fmt: skip
    for offset, size, seconds in segments:
        lines += [f"#EXTINF:{seconds:.6f},", f"#EXT-X-BYTERANGE:{size}@{offset}", name]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
