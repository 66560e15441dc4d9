"""A minigroup's one video (its transcode): every publisher on the class's common timeline,
side by side, their sound mixed, the host's cuts applied to all, pins and mutes shown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from podium.recordings import fmp4
from podium.recordings.media import ENCODE, FPS, Tools
from podium.recordings.models import Span

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


async def compose(tools: Tools, tracks: Sequence[Layered], keep: Sequence[Span], out: Path) -> None:
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
    await tools.run(["ffmpeg", *inputs, "-filter_complex", ";".join(graph), "-map", "[vout]",
                    "-map", "[aout]", *ENCODE, "-movflags", fmp4.MOVFLAGS, str(out)],
                   f"composing {out.name}", sum(b - a for a, b in keep))  # fmt: skip


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
