"""Cutting a stream to the parts a recording keeps (a webinar's transcode): one fragmented MP4
that is both the download and, through a playlist of its byte ranges, the HLS stream.

A source Podium wrote (fragmented, a fragment per keyframe, no B-frames) is cut at the box
level (`splice`); any other through ffmpeg's concat demuxer. Either way only the stretch from
a cut to the next keyframe is re-encoded and every cut is frame-exact.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from podium.recordings import fmp4, splice
from podium.recordings.media import FPS, KEYFRAME_SECONDS, Tools
from podium.recordings.models import Span

log = logging.getLogger(__name__)


async def keyframes_after(tools: Tools, path: Path, moments: Sequence[float]) -> list[float | None]:
    """For each moment (s), the first keyframe at or after it within a keyframe interval
    (None: none there). Only those stretches are read (`-read_intervals` seeks by the
    index), not the whole file."""
    if not moments:
        return []
    span = KEYFRAME_SECONDS + 0.2
    intervals = ",".join(f"{max(m - 0.1, 0):.3f}%+{span:.3f}" for m in moments)
    out = await tools.run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                          "-read_intervals", intervals, "-show_entries",
                          "packet=pts_time,flags", "-of", "csv=p=0", str(path)],
                         f"keyframes of {path.name}")  # fmt: skip
    found = sorted({float(pts) for pts, _, flags in
                    (line.partition(",") for line in out.splitlines())
                    if "K" in flags and pts not in ("", "N/A")})  # fmt: skip
    half = 0.5 / FPS
    return [next((k for k in found if m - half <= k <= m + span), None) for m in moments]


async def cut(tools: Tools, source: Path, keep: Sequence[Span], work: Path, out: Path) -> None:
    """The parts of `source` in `keep` (ms) as one fragmented MP4, `out/stream.mp4`, and an
    HLS playlist of byte ranges of that same file, `out/index.m3u8` (one file serves the
    download and the player, written once).

    A source that Podium wrote (fragmented, a fragment per 2 s keyframe interval) is
    joined at the box level (`splice.join`): the fragments inside a kept part are copied byte
    for byte with their times moved, the last one cut short at the part's end (no
    B-frames: a copy may end on any frame); only the stretch from a cut to the next
    fragment is re-encoded (several to an ffmpeg process, a process per media slot). Any
    other source goes through ffmpeg's concat demuxer (`_cut_by_concat`). Either way every
    cut is frame-exact."""
    parts = _frames(keep)
    if not await _cut_fragments(tools, source, parts, work, out):
        await _cut_by_concat(tools, source, parts, keep, work, out)


async def _cut_fragments(
    tools: Tools, source: Path, parts: Sequence[tuple[float, float]], work: Path, out: Path
) -> bool:
    try:
        movie = await asyncio.to_thread(fmp4.read_movie, source)
    except fmp4.NotFragmented:
        return False
    half = 0.5 / FPS
    times = [movie.seconds(f) for f in movie.fragments]
    plan: list[Path | splice.Piece] = []
    spans: list[tuple[float, float, Path]] = []

    def encode(a: float, b: float) -> None:
        spans.append((a, b, work / f"part{len(spans)}.mp4"))
        plan.append(spans[-1][2])

    def near(a: float, b: float, n: int) -> tuple[Path, float, float, Path]:
        """The fragments around a span copied to a small file of their own (a one-hour
        fragmented file costs ffmpeg a read of every fragment's header to open)."""
        chosen = [f for f, (s, e) in zip(movie.fragments, times, strict=True)
                  if e > a - half and s < b + half]  # fmt: skip
        small = work / f"near{n}.mp4"
        first = movie.seconds(chosen[0])[0]
        splice.join([splice.Piece(movie, chosen)], small)
        return small, a - first, b - first, work / f"part{n}.mp4"

    for a, b in parts:
        # The fragments that start inside the part: all but the last are kept whole, the
        # last up to the part's end (a copy may end on any frame: no B-frames).
        inside = [i for i, (s, _) in enumerate(times) if a - half <= s < b - half]
        if not inside:
            encode(a, b)
            continue
        k1 = times[inside[0]][0]
        if k1 - a > half:
            encode(a, k1)
        last_start, last_end = times[inside[-1]]
        frames = round((b - last_start) * FPS)
        whole = last_end <= b + half
        plan.append(splice.Piece(movie, [movie.fragments[i] for i in inside],
                               None if whole else frames))  # fmt: skip
    nearby = await asyncio.to_thread(lambda: [near(a, b, n) for n, (a, b, _) in enumerate(spans)])
    await tools.encode_spans(source, nearby)  # type: ignore[arg-type]
    pieces = []
    for item in plan:
        if isinstance(item, Path):
            made = await asyncio.to_thread(fmp4.read_movie, item)
            if made.video_setup() != movie.video_setup():
                log.info("%s: re-encoded parts differ in setup; joining with ffmpeg", source)
                return False
            pieces.append(splice.Piece(made, made.fragments))
        else:
            pieces.append(item)
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    try:
        init, written = await asyncio.to_thread(splice.join, pieces, out / "stream.mp4")
    except fmp4.NotFragmented as exc:
        log.info("%s: %s; joining with ffmpeg", source.name, exc)
        return False
    text = splice.playlist(init, written, "stream.mp4")
    await asyncio.to_thread((out / "index.m3u8").write_text, text)
    return True


async def _cut_by_concat(
    tools: Tools, source: Path, parts: Sequence[tuple[float, float]], keep: Sequence[Span],
    work: Path, out: Path,
) -> None:  # fmt: skip
    """Copy from the first keyframe after each cut to the part's end (with no B-frames a
    copy may end on any frame) and re-encode the heads before it; ffmpeg's concat
    demuxer reads the copied stretches straight from the source (inpoint/outpoint)."""
    frame = 1.0 / FPS
    nexts = await keyframes_after(tools, source, [a for a, _ in parts])
    entries: list[str] = []
    heads: list[tuple[float, float, Path]] = []
    for n, ((a, b), k) in enumerate(zip(parts, nexts, strict=True)):
        if k is None or k >= b - frame / 2:  # no keyframe inside: all of it re-encoded
            heads.append((a, b, work / f"head{n}.mp4"))
            entries.append(f"file '{heads[-1][2]}'\n")
            continue
        if k - a > frame / 2:
            heads.append((a, k, work / f"head{n}.mp4"))
            entries.append(f"file '{heads[-1][2]}'\n")
        entries.append(f"file '{source}'\ninpoint {k:.6f}\noutpoint {b:.6f}\n")
    await tools.encode_spans(source, heads)
    listing = work / "cut.txt"
    await asyncio.to_thread(listing.write_text, "".join(entries))
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    await tools.run([
        "ffmpeg", "-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0", "-c", "copy",
        "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod",
        "-hls_segment_type", "fmp4", "-hls_flags", "single_file",
        "-hls_segment_filename", str(out / "stream.mp4"), str(out / "index.m3u8"),
    ], f"cutting {source.name}", sum(b - a for a, b in keep))  # fmt: skip


def _frames(keep: Sequence[Span]) -> list[tuple[float, float]]:
    """The kept parts (s) on frames (a cut cannot be finer than one), chosen so that the
    frames kept so far match the time kept so far: rounding never adds up along the cuts."""
    frame = 1.0 / FPS
    parts: list[tuple[float, float]] = []
    kept_ms = made = 0
    for a_ms, b_ms in keep:
        kept_ms += b_ms - a_ms
        first = round(a_ms / 1000 * FPS)
        count = round(kept_ms / 1000 * FPS) - made
        if count > 0:
            made += count
            parts.append((first * frame, (first + count) * frame))
    return parts
