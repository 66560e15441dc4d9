"""The media tools as subprocesses: janus-pp-rec turns Janus's `.mjr` dumps into media files,
ffmpeg encodes and joins them (`cutting` and `composition` use the same tools). At most
`concurrency` of them run at once on a machine (PODIUM_MEDIA_CONCURRENCY); ffmpeg's progress is
logged in percent.

Every stream Podium makes is H.264 + AAC at a constant frame rate with a keyframe every
KEYFRAME_SECONDS, fragmented, so cutting can copy whole groups of pictures and re-encode only
the short stretch between a cut and the next keyframe (`cutting.cut`), and the same file plays
in every browser, as MP4 and as HLS. No B-frames: a copied stretch then ends exactly where it
should (with them, the frames decoded after a keyframe but shown before it came along, a few
per cut).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from podium.recordings import fmp4

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

    async def encode_spans(self, source: Path, spans: Sequence[tuple[float, float, Path]]) -> None:
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
