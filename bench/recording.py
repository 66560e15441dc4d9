"""The recording pipeline's two figures, each beside its limit in the same run.

    ./dev bench recording [--events 100000] [--minutes 60] [--pauses 10]

1. Adjust (models.adjust) of a room of 100,000 events over an hour with 10 pauses and 10
   breaks: seconds, against the 1 s the issue sets.
2. The webinar transcode (Tools.cut: copy between keyframes, re-encode only around each cut,
   write MP4 and HLS in one pass) of a synthetic hour with 10 pauses cut out, against a plain
   `ffmpeg -i source -c copy out.mp4` of the same file (the limit; target: within 1.5x).
   The synthetic source is made once (H.264/AAC, fragmented, as Podium's collect step writes
   it, 320x240) and kept in the temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from podium.recordings import fmp4, models
from podium.recordings.cutting import cut
from podium.recordings.media import ENCODE, Tools

NS = 1_000_000_000


def adjust_seconds(count: int, minutes: int, pauses: int) -> tuple[float, int]:
    rng = random.Random(7)
    length_ms = minutes * 60_000
    # Pauses of 20 s spread over the hour: the recording's segments.
    step = length_ms // (pauses + 1)
    segments = [(i * step + (20_000 if i else 0), (i + 1) * step) for i in range(pauses + 1)]
    events = [
        models.Event(rng.randrange(length_ms * 1_000_000), i, "message", {"text": "x"}, "m")
        for i in range(count)
    ]
    for k in range(10):  # ten breaks of 30 s
        at = (k * 6 + 2) * 60 * NS
        events.append(models.Event(at, count + 2 * k, "break", {"value": True}, "break"))
        events.append(models.Event(at + 30 * NS, count + 2 * k + 1, "break", {"value": False},
                                   "break"))  # fmt: skip
    start = time.perf_counter()
    result = models.adjust(events, length_ms * 1_000_000, 0, segments, preroll_ms=1000)
    return time.perf_counter() - start, len(result.modified)


def source(minutes: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"podium-bench-{minutes}min-fragmented.mp4"
    if not path.exists():
        print(f"making a {minutes}-minute source (once) ...", flush=True)
        partial = path.with_suffix(".partial.mp4")
        subprocess.run([
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(minutes * 60),
            *ENCODE, "-movflags", fmp4.MOVFLAGS, str(partial),
        ], check=True)  # fmt: skip
        partial.rename(path)
    return path


async def cut_seconds(src: Path, minutes: int, pauses: int) -> tuple[float, float]:
    length = minutes * 60_000
    step = length // (pauses + 1)
    # Cuts at odd moments (never on a keyframe), 17.3 s each.
    keep = [(i * step + (17_300 if i else 0) + 130, (i + 1) * step) for i in range(pauses + 1)]
    with tempfile.TemporaryDirectory() as work:
        w = Path(work)
        start = time.perf_counter()
        await cut(Tools(2), src, keep, w, w / "out")
        ours = time.perf_counter() - start
        start = time.perf_counter()
        copy = ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-c", "copy", str(w / "copy.mp4")]
        await asyncio.to_thread(subprocess.run, copy, check=True)
        limit = time.perf_counter() - start
    return ours, limit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--pauses", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs = [adjust_seconds(args.events, args.minutes, args.pauses) for _ in range(args.rounds)]
    best = statistics.median(s for s, _ in runs)
    print(f"adjust of {args.events:,} events ({args.pauses} pauses, 10 breaks): "
          f"{best:.3f} s median of {args.rounds}   limit 1.000 s   "
          f"{'OK' if best <= 1 else 'OVER'}")  # fmt: skip
    if shutil.which("ffmpeg") is None:
        print("transcode: skipped (ffmpeg is not installed)")
        return
    src = source(args.minutes)
    pairs = [asyncio.run(cut_seconds(src, args.minutes, args.pauses)) for _ in range(args.rounds)]
    ours = statistics.median(p[0] for p in pairs)
    limit = statistics.median(p[1] for p in pairs)
    print(f"webinar transcode of {args.minutes} min with {args.pauses} cuts (fMP4 + HLS): "
          f"{ours:.2f} s; plain ffmpeg -c copy: {limit:.2f} s; ratio {ours / limit:.2f}x   "
          f"target 1.50x   {'OK' if ours / limit <= 1.5 else 'OVER'}")  # fmt: skip
    for n, (a, b) in enumerate(pairs, 1):
        print(f"  round {n}: {a:.2f} s vs {b:.2f} s ({a / b:.2f}x)")


if __name__ == "__main__":
    main()
