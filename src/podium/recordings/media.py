"""The media tools as subprocesses: janus-pp-rec turns Janus's `.mjr` dumps into media files,
ffmpeg encodes, joins, cuts and packages them. At most `concurrency` of them run at once in a
process (PODIUM_MEDIA_CONCURRENCY); ffmpeg's progress is logged in percent.

Every stream Podium makes is H.264 + AAC at a constant frame rate with a keyframe every
KEYFRAME_SECONDS, so cutting can copy whole groups of pictures and re-encode only the short
pieces between a cut and the next keyframe (`cut`), and the same file plays in every browser,
as MP4 and as HLS. No B-frames: a copied stretch then ends exactly at its outpoint (with them,
the frames decoded after a keyframe but shown before it came along, a few per cut).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import math
import os
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from podium.recordings import fmp4
from podium.recordings.models import Span

log = logging.getLogger(__name__)

FPS = 25
KEYFRAME_SECONDS = 2
ENCODE = [
    "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-level", "4.0",
    "-pix_fmt", "yuv420p", "-r", str(FPS), "-g", str(FPS * KEYFRAME_SECONDS),
    "-keyint_min", str(FPS * KEYFRAME_SECONDS), "-sc_threshold", "0", "-bf", "0",
    "-c:a", "aac", "-ar", "48000", "-ac", "2", "-b:a", "96k",
]  # fmt: skip
# Janus names a stream's dump videoroom-<room>-user-<feed>-<µs>-<audio|video|data>-<mid>.mjr.
MJR = re.compile(
    r"^videoroom-(?P<room>.+)-user-(?P<feed>.+)-(?P<usec>\d+)-(?P<kind>audio|video)-\d+\.mjr$"
)


# The folders in a path ("/var/lib/podium/work/…/" of "/var/lib/podium/work/…/x.mp4").
DIRECTORIES = re.compile(r"(?:/[^\s/:'\"|]+)+/")
# Dumps of one feed opened this close together belong to one publish.
PUBLISH_WINDOW_US = 1_000_000


# One publisher's tile in a composed video.
TILE = "640x360"


@dataclass(frozen=True, slots=True)
class Layered:
    """A publisher's original stream (pauses left out) and where its segments lie on the
    class's common timeline."""

    path: Path
    offset_ms: int
    segments: list[Span]
    pinned: list[Span] = field(default_factory=list)  # output ms when shown over everyone
    silent: list[Span] = field(default_factory=list)  # timeline ms when their sound is muted
    dark: list[Span] = field(default_factory=list)  # timeline ms when their picture is muted


class MediaError(Exception):
    """A tool failed; the message says which and the end of what it printed."""


@dataclass(frozen=True, slots=True)
class Piece:
    """One publish of one feed: its dumps (video, audio) and when its media started (unix ms)."""

    feed: str
    started_at: int
    video: Path | None
    audio: Path | None


class Tools:
    """The media tools, at most `concurrency` at once on this machine: in this process (a
    semaphore) and across the processes that share `slots_dir` (one lock file per slot, held
    while a tool runs; the kernel drops a dead process's locks)."""

    def __init__(self, concurrency: int, slots_dir: Path | None = None) -> None:
        self.concurrency = concurrency
        self.slots = asyncio.Semaphore(concurrency)
        self.slots_dir = slots_dir

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self.slots:
            if self.slots_dir is None:
                yield
                return
            held = await self._machine_slot(self.slots_dir)
            try:
                yield
            finally:
                fcntl.flock(held, fcntl.LOCK_UN)
                os.close(held)

    async def _machine_slot(self, folder: Path) -> int:
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        while True:
            for n in range(self.concurrency):
                fd = os.open(folder / f"slot-{n}.lock", os.O_CREAT | os.O_RDWR, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    os.close(fd)
            await asyncio.sleep(0.1)

    async def run(self, args: Sequence[str], what: str, duration_ms: int | None = None) -> str:
        """Run a tool; answers what it printed to stdout. ffmpeg runs with `-progress` when the
        output's length is known, and its progress is logged every 10 %."""
        async with self.slot():
            progress = duration_ms is not None and args[0] == "ffmpeg"
            full = [*args[:1], "-hide_banner", "-nostdin", "-y", "-progress", "pipe:1",
                    *args[1:]] if progress else list(args)  # fmt: skip
            proc = await asyncio.create_subprocess_exec(
                *full, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            try:
                if progress:
                    assert proc.stdout is not None and duration_ms
                    stderr = asyncio.ensure_future(proc.stderr.read())  # type: ignore[union-attr]
                    shown = -1
                    async for line in proc.stdout:
                        if line.startswith(b"out_time_us="):
                            with_us = line.split(b"=", 1)[1].strip()
                            done = int(with_us) // 1000 if with_us.isdigit() else 0
                            pct = min(100, done * 100 // max(duration_ms, 1)) // 10 * 10
                            if pct > shown:
                                shown = pct
                                log.info("%s: %d %%", what, pct)
                    err = await stderr
                    out = b""
                else:
                    out, err = await proc.communicate()
                await proc.wait()
            except BaseException:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
                raise
        if proc.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-3:]
            # Shown to the tenant in the class read: file names, not the server's folders.
            said = DIRECTORIES.sub("", " | ".join(tail))
            raise MediaError(f"{what}: {args[0]} exited {proc.returncode}: {said}")
        return out.decode(errors="replace")

    async def header(self, mjr: Path) -> dict[str, object]:
        out = await self.run(["janus-pp-rec", "--json", "--extended-json", str(mjr)],
                             f"reading {mjr.name}")  # fmt: skip
        found: dict[str, object] = json.loads(out.strip().splitlines()[-1])
        return found

    async def duration_ms(self, path: Path) -> int:
        """The length of a file's video (of its audio when it has none), in ms."""
        for stream in ("v:0", "a:0"):
            out = await self.run(["ffprobe", "-v", "error", "-select_streams", stream,
                                  "-show_entries", "stream=duration:format=duration",
                                  "-of", "csv=p=0", str(path)], f"probing {path.name}")  # fmt: skip
            values = [v for v in out.split() if v not in ("", "N/A")]
            if values:
                return round(float(values[0]) * 1000)
        raise MediaError(f"{path.name}: no audio or video")

    async def encode_piece(self, piece: Piece, work: Path) -> tuple[Path, int]:
        """One publish as H.264/AAC (black where no video, silence where no audio was sent);
        answers the file and its length in ms (the length of what was sent)."""
        name = f"{piece.feed}-{piece.started_at}"
        converted: dict[str, Path] = {}
        for kind, dump, ext in (("video", piece.video, "webm"), ("audio", piece.audio, "opus")):
            if dump is not None:
                converted[kind] = work / f"{name}.{ext}"
                await self.run(["janus-pp-rec", str(dump), str(converted[kind])],
                               f"converting {dump.name}")  # fmt: skip
        length = max([await self.duration_ms(p) for p in converted.values()], default=0)
        if length <= 0:
            raise MediaError(f"{name}: the dumps hold no media")
        video = ["-i", str(converted["video"])] if "video" in converted else [
            "-f", "lavfi", "-i", f"color=c=black:s=640x480:r={FPS}"]  # fmt: skip
        audio = ["-i", str(converted["audio"])] if "audio" in converted else [
            "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"]  # fmt: skip
        out = work / f"{name}.mp4"
        await self.run(["ffmpeg", *video, *audio, "-map", "0:v:0", "-map", "1:a:0",
                        "-t", f"{length / 1000:.3f}", *ENCODE, str(out)],
                       f"encoding {name}", length)  # fmt: skip
        return out, await self.duration_ms(out)

    async def join(self, parts: Sequence[Path], out: Path, duration_ms: int) -> None:
        """Files of the same encoding one after another, copied."""
        listing = out.with_suffix(".txt")
        await asyncio.to_thread(listing.write_text, "".join(f"file '{p}'\n" for p in parts))
        await self.run(["ffmpeg", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
                        "-movflags", fmp4.MOVFLAGS, str(out)], f"joining {out.name}",
                       duration_ms)  # fmt: skip

    async def keyframes_after(self, path: Path, moments: Sequence[float]) -> list[float | None]:
        """For each moment (s), the first keyframe at or after it within a keyframe interval
        (None: none there). Only those stretches are read (`-read_intervals` seeks by the
        index), not the whole file."""
        if not moments:
            return []
        span = KEYFRAME_SECONDS + 0.2
        intervals = ",".join(f"{max(m - 0.1, 0):.3f}%+{span:.3f}" for m in moments)
        out = await self.run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                              "-read_intervals", intervals, "-show_entries",
                              "packet=pts_time,flags", "-of", "csv=p=0", str(path)],
                             f"keyframes of {path.name}")  # fmt: skip
        found = sorted({float(pts) for pts, _, flags in
                        (line.partition(",") for line in out.splitlines())
                        if "K" in flags and pts not in ("", "N/A")})  # fmt: skip
        half = 0.5 / FPS
        return [next((k for k in found if m - half <= k <= m + span), None) for m in moments]

    async def cut(self, source: Path, keep: Sequence[Span], work: Path, out: Path) -> None:
        """The parts of `source` in `keep` (ms) as one fragmented MP4, `out/stream.mp4`, and an
        HLS playlist of byte ranges of that same file, `out/index.m3u8` (one file serves the
        download and the player, written once).

        A source that Podium wrote (fragmented, a fragment per 2 s keyframe interval) is
        joined at the box level (`fmp4.join`): the fragments inside a kept part are copied byte
        for byte with their times moved, the last one cut short at the part's end (no
        B-frames: a copy may end on any frame); only the stretch from a cut to the next
        fragment is re-encoded (several to an ffmpeg process, a process per media slot). Any
        other source goes through ffmpeg's concat demuxer (`_cut_by_concat`). Either way every
        cut is frame-exact."""
        parts = _frames(keep)
        if not await self._cut_fragments(source, parts, work, out):
            await self._cut_by_concat(source, parts, keep, work, out)

    async def _cut_fragments(
        self, source: Path, parts: Sequence[tuple[float, float]], work: Path, out: Path
    ) -> bool:
        try:
            movie = await asyncio.to_thread(fmp4.read_movie, source)
        except fmp4.NotFragmented:
            return False
        half = 0.5 / FPS
        times = [movie.seconds(f) for f in movie.fragments]
        plan: list[Path | fmp4.Piece] = []
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
            fmp4.join([fmp4.Piece(movie, chosen)], small)
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
            plan.append(fmp4.Piece(movie, [movie.fragments[i] for i in inside],
                                   None if whole else frames))  # fmt: skip
        nearby = await asyncio.to_thread(
            lambda: [near(a, b, n) for n, (a, b, _) in enumerate(spans)]
        )
        await self._encode_spans(source, nearby)  # type: ignore[arg-type]
        pieces = []
        for item in plan:
            if isinstance(item, Path):
                made = await asyncio.to_thread(fmp4.read_movie, item)
                if made.video_setup() != movie.video_setup():
                    log.info("%s: re-encoded parts differ in setup; joining with ffmpeg", source)
                    return False
                pieces.append(fmp4.Piece(made, made.fragments))
            else:
                pieces.append(item)
        await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
        try:
            init, written = await asyncio.to_thread(fmp4.join, pieces, out / "stream.mp4")
        except fmp4.NotFragmented as exc:
            log.info("%s: %s; joining with ffmpeg", source.name, exc)
            return False
        text = fmp4.playlist(init, written, "stream.mp4")
        await asyncio.to_thread((out / "index.m3u8").write_text, text)
        return True

    async def _cut_by_concat(
        self, source: Path, parts: Sequence[tuple[float, float]], keep: Sequence[Span],
        work: Path, out: Path,
    ) -> None:  # fmt: skip
        """Copy from the first keyframe after each cut to the part's end (with no B-frames a
        copy may end on any frame) and re-encode the heads before it; ffmpeg's concat
        demuxer reads the copied stretches straight from the source (inpoint/outpoint)."""
        frame = 1.0 / FPS
        nexts = await self.keyframes_after(source, [a for a, _ in parts])
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
        await self._encode_spans(source, heads)
        listing = work / "cut.txt"
        await asyncio.to_thread(listing.write_text, "".join(entries))
        await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
        await self.run([
            "ffmpeg", "-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0", "-c", "copy",
            "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod",
            "-hls_segment_type", "fmp4", "-hls_flags", "single_file",
            "-hls_segment_filename", str(out / "stream.mp4"), str(out / "index.m3u8"),
        ], f"cutting {source.name}", sum(b - a for a, b in keep))  # fmt: skip

    async def _encode_spans(self, source: Path, spans: Sequence[tuple[float, float, Path]]) -> None:
        """Short stretches of `source` encoded as Podium encodes, several per ffmpeg process
        (its start-up is most of what a short stretch costs), in as many processes as there
        are media slots. Each span is (start, stop, output); a span may name its own input
        as (input, start in it, stop in it, output)."""
        if not spans:
            return
        groups = max(1, min(len(spans), self.concurrency))
        batches = [spans[i::groups] for i in range(groups)]

        async def encode(batch: Sequence[tuple[float, float, Path]]) -> None:
            inputs: list[str] = []
            outputs: list[str] = []
            for n, span in enumerate(batch):
                origin, start, stop, path = span if len(span) == 4 else (source, *span)
                frames = round((stop - start) * FPS)
                inputs += ["-ss", f"{start:.6f}", "-t", f"{frames / FPS + 0.1:.6f}",
                           "-i", str(origin)]  # fmt: skip
                # One thread per encoder: for a second or two of video, x264's frame threads
                # cost more to set up than they save (measured: 0.85 s → 0.80 s for ten).
                outputs += ["-map", f"{n}:v:0", "-map", f"{n}:a:0", "-frames:v", str(frames),
                            "-t", f"{frames / FPS:.6f}", *ENCODE, "-threads", "1",
                            "-movflags", fmp4.MOVFLAGS, str(path)]  # fmt: skip
            await self.run(["ffmpeg", "-v", "error", "-y", *inputs, *outputs],
                           f"encoding {len(batch)} cut(s) of {source.name}")  # fmt: skip

        await asyncio.gather(*(encode(b) for b in batches))

    async def compose(self, tracks: Sequence[Layered], keep: Sequence[Span], out: Path) -> None:
        """One video of everyone on the class's common timeline (ms from the earliest
        recording's start): each publisher's original placed where it was sent, black and
        silent where they were not, side by side in a grid, their sound mixed; only the `keep`
        spans of the timeline (the host's cuts, applied to everyone). While a publisher is
        pinned their picture fills the frame over the grid; while muted their picture is black
        or their sound silent."""
        end = max((t.offset_ms + t.segments[-1][1] for t in tracks if t.segments), default=0)
        inputs: list[str] = []
        graph: list[str] = []
        for n, track in enumerate(tracks):
            inputs += ["-i", str(track.path)]
            pieces: list[str] = []
            at, played = 0, 0  # the timeline's ms reached; the ms of its original used
            for start, stop in track.segments:
                start, stop = start + track.offset_ms, stop + track.offset_ms
                if start > at:
                    pieces.append(_gap(graph, f"{n}_{len(pieces)}", start - at))
                pieces.append(_media(graph, n, f"{n}_{len(pieces)}", played, stop - start))
                at, played = stop, played + stop - start
            if end > at:
                pieces.append(_gap(graph, f"{n}_{len(pieces)}", end - at))
            graph.append(f"{''.join(pieces)}concat=n={len(pieces)}:v=1:a=1[c{n}][d{n}]")
            # Their mutes: the picture black, the sound silent, while muted.
            dark = (f"drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='{_between(track.dark)}'"
                    if track.dark else "null")  # fmt: skip
            silent = f"volume=0:enable='{_between(track.silent)}'" if track.silent else "anull"
            graph.append(f"[c{n}]{dark}[v{n}];[d{n}]{silent}[a{n}]")
        cols = max(1, math.ceil(math.sqrt(len(tracks))))
        w, h = (int(x) for x in TILE.split("x"))
        layout = "|".join(f"{(i % cols) * w}_{(i // cols) * h}" for i in range(len(tracks)))
        spans = _between(keep)
        pinned = [n for n, t in enumerate(tracks) if t.pinned] if len(tracks) > 1 else []
        frame = f"{cols * w}:{h * math.ceil(len(tracks) / cols)}"
        for n in pinned:  # a second copy, cut like the grid, to lay over it full size
            graph.append(f"[v{n}]split[v{n}][w{n}];[w{n}]select='{spans}',"
                         f"setpts=N/FRAME_RATE/TB,scale={frame}:force_original_aspect_ratio="
                         f"decrease,pad={frame}:-1:-1,setsar=1[p{n}]")  # fmt: skip
        if len(tracks) == 1:
            graph.append("[v0]null[grid];[a0]anull[mix]")
        else:
            videos = "".join(f"[v{n}]" for n in range(len(tracks)))
            audios = "".join(f"[a{n}]" for n in range(len(tracks)))
            graph.append(f"{videos}xstack=inputs={len(tracks)}:layout={layout}:fill=black[grid];"
                         f"{audios}amix=inputs={len(tracks)}:normalize=0[mix]")  # fmt: skip
        graph.append(f"[grid]select='{spans}',setpts=N/FRAME_RATE/TB[o0];"
                     f"[mix]aselect='{spans}',asetpts=N/SR/TB[aout]")  # fmt: skip
        for k, n in enumerate(pinned):
            graph.append(f"[o{k}][p{n}]overlay=enable='{_between(tracks[n].pinned)}'[o{k + 1}]")
        graph.append(f"[o{len(pinned)}]null[vout]")
        await self.run(["ffmpeg", *inputs, "-filter_complex", ";".join(graph), "-map", "[vout]",
                        "-map", "[aout]", *ENCODE, "-movflags", fmp4.MOVFLAGS, str(out)],
                       f"composing {out.name}", sum(b - a for a, b in keep))  # fmt: skip


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


def _between(spans: Sequence[Span]) -> str:
    """An ffmpeg expression true while t (s) is inside one of the spans (ms, half-open)."""
    return "+".join(f"between(t,{a / 1000:.3f},{(b - 0.5) / 1000:.4f})" for a, b in spans)


def _gap(graph: list[str], label: str, ms: int) -> str:
    """Black and silence for `ms` (a composition's stretch where a publisher sent nothing)."""
    seconds = f"{ms / 1000:.3f}"
    graph.append(f"color=c=black:s={TILE}:r={FPS}:d={seconds},setsar=1[g{label}];"
                 f"anullsrc=r=48000:cl=stereo,atrim=duration={seconds}[h{label}]")  # fmt: skip
    return f"[g{label}][h{label}]"


def _media(graph: list[str], n: int, label: str, start_ms: int, ms: int) -> str:
    """`ms` of input n's media from `start_ms`, fitted into a tile."""
    size = TILE.replace("x", ":")
    graph.append(
        f"[{n}:v]trim=start={start_ms / 1000:.3f}:duration={ms / 1000:.3f},setpts=PTS-STARTPTS,"
        f"scale={size}:force_original_aspect_ratio=decrease,pad={size}:-1:-1,setsar=1,"
        f"fps={FPS}[g{label}];[{n}:a]atrim=start={start_ms / 1000:.3f}:duration={ms / 1000:.3f},"
        f"asetpts=PTS-STARTPTS[h{label}]"
    )  # fmt: skip
    return f"[g{label}][h{label}]"


def pieces_in(rec_dir: Path, room: str, headers: dict[Path, dict[str, object]]) -> list[Piece]:
    """The publishes in a room's dumps. Janus opens a publish's audio and video dumps together
    (their µs stamps a few ms apart), so a feed's dumps in stamp order form one piece until a
    kind repeats or the stamps are over PUBLISH_WINDOW apart; each piece starts when its first
    packet was written (`u`)."""
    by_feed: dict[str, list[tuple[int, str, Path]]] = defaultdict(list)
    for path in headers:
        m = MJR.match(path.name)
        if m and m["room"] == room:
            by_feed[m["feed"]].append((int(m["usec"]), m["kind"], path))
    pieces = []
    for feed, dumps in by_feed.items():
        groups: list[tuple[int, dict[str, Path]]] = []
        for usec, kind, path in sorted(dumps):
            if not groups or kind in groups[-1][1] or usec - groups[-1][0] > PUBLISH_WINDOW_US:
                groups.append((usec, {}))
            groups[-1][1][kind] = path
        for _, files in groups:
            firsts = [int(str(headers[p].get("u") or headers[p].get("s"))) for p in files.values()]
            pieces.append(Piece(feed, min(firsts) // 1000, files.get("video"), files.get("audio")))
    return sorted(pieces, key=lambda p: (p.feed, p.started_at))


def dumps_of(rec_dir: Path, room: str) -> list[Path]:
    return sorted(p for p in rec_dir.glob(f"videoroom-{room}-user-*.mjr") if MJR.match(p.name))
