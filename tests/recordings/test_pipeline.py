"""A webinar recorded on a real Janus and played back (recording_scenario.py, in a network
namespace): a pause and a break cut out, events re-timed to match, MP4 + HLS served."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

import pytest

from tests.conference.conftest import ROOT, UNSHARE, why_no_media
from tests.recordings.recording_scenario import PREROLL_MS

MS = 1_000_000


def why_not() -> str | None:
    for tool, package in (("ffmpeg", "ffmpeg"), ("janus-pp-rec", "janus-tools")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: apt-get install {package})"
    return why_no_media()


def run_scenario(module: str, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [*UNSHARE, sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
        timeout=400, check=False, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    seen: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    return seen


def at(events: list[list[Any]], type_: str, key: str, value: Any) -> int:
    return next(t for ty, data, t in events if ty == type_ and data.get(key) == value)


@pytest.mark.skipif(why_not() is not None, reason=why_not() or "")
def test_a_recorded_webinar_plays_back_with_its_pauses_and_break_cut() -> None:
    seen = run_scenario("tests.recordings.recording_scenario")
    read = seen["read"]
    assert seen["record"] is True and seen["status_at_end"] == "closed"
    assert read["status"] == "transcoded" and read["recording"] == {"status": "ready"}, read
    # One publisher, two publishes: two segments with the pause between them.
    segments, kept = seen["segments"], seen["modified_segments"]
    assert len(segments) == 2 and segments[0][0] == 0
    assert segments[1][0] - segments[0][1] > 2000
    # ffprobe: the original is the segments without the pause, the modified stream what the
    # cut keeps, within 100 ms (HLS too); both with audio and video.
    assert abs(seen["original_ms"] - sum(b - a for a, b in segments)) <= 100
    assert abs(seen["stream_ms"] - sum(b - a for a, b in kept)) <= 100
    assert abs(seen["hls_ms"] - sum(b - a for a, b in kept)) <= 100
    assert seen["original_streams"] == ["aac", "h264"]
    # The events, in ns: O = R - where the recording started - the pauses before;
    # an event in the pause snaps to its start; M = O - the cuts before + the preroll.
    r, o, m = seen["events_r"], seen["events_o"], seen["events_m"]
    rtc = (seen["started_at"] - seen["room_opened_ms"]) * MS
    pause = (segments[1][0] - segments[0][1]) * MS
    texts = ["first", "in the pause", "before the break", "after the break"]
    o_of = {t: at(o, "message", "text", t) for t in texts}
    r_of = {t: at(r, "message", "text", t) for t in texts}
    assert o_of["first"] == r_of["first"] - rtc
    assert o_of["in the pause"] == segments[0][1] * MS
    assert o_of["before the break"] == r_of["before the break"] - rtc - pause
    assert o_of["after the break"] == r_of["after the break"] - rtc - pause
    cut_start = at(o, "stream", "cut", "start")
    cut_stop = at(o, "stream", "cut", "stop")
    assert cut_start == at(r, "break", "value", True) - rtc - pause
    assert kept == [[0, cut_start // MS], [cut_stop // MS, sum(b - a for a, b in segments)]]
    m_of = {t: at(m, "message", "text", t) for t in texts}
    for t in texts[:3]:
        assert m_of[t] == o_of[t] + PREROLL_MS * MS
    assert m_of["after the break"] == o_of["after the break"] - (cut_stop - cut_start) + (
        PREROLL_MS * MS)  # fmt: skip
    assert not [e for e in m if e[0] == "stream"]  # cut marks are not in the modified room
    # on_demand: original then modified, with the dump of the modified room's events.
    original, modified = read["on_demand"]
    assert original["version"] == "original" and modified["version"] == "modified"
    assert "room_events_uri" in modified and "room_events_uri" not in original
    assert seen["dump_events"] == len(m)
    # The download: a signed link served with ranges; a tampered link is refused.
    assert seen["range_status"] == 206 and seen["range_length"] == 100
    assert seen["content_range"] == f"bytes 0-99/{seen['stream_size']}"
    assert seen["download_size"] == seen["stream_size"] and seen["tampered"] == 404
    # HLS: the playlist and the segment it names, through the same kind of link.
    assert seen["playlist_status"] == 200 and seen["segment_status"] == 200
    assert seen["segment_bytes"] > 1000


@pytest.mark.skipif(why_not() is not None, reason=why_not() or "")
def test_a_minigroup_with_two_publishers_is_one_composed_video() -> None:
    seen = run_scenario("tests.recordings.recording_scenario", "minigroup")
    assert seen["roles"] == ["publisher", "publisher"]
    assert seen["read"]["status"] == "transcoded", seen["read"]
    assert seen["recordings"] == ["host", "student"]
    # Side by side (two 640x360 tiles), as long as the host's recording keeps.
    assert seen["video"] == ["h264,1280,360", "aac"]
    kept = sum(b - a for a, b in seen["modified_segments"])
    assert abs(seen["stream_ms"] - kept) <= 100
