"""Real media: an aiortc publisher and subscriber join Janus with the credentials Podium hands
out, inside a network namespace (notes/janus.md). The scenario is media_scenario.py; this test
runs it and judges what it saw."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNSHARE = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]


def why_not() -> str | None:
    if shutil.which("janus") is None:
        return "janus is not installed (Debian: apt-get install janus)"
    if importlib.util.find_spec("aiortc") is None:
        return "aiortc is not installed (pip install aiortc)"
    if shutil.which("ip") is None or shutil.which("unshare") is None:
        return "needs `ip` (iproute2) and `unshare` (util-linux)"
    probe = subprocess.run([*UNSHARE, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return "this machine refuses network namespaces (unshare --net needs root)"
    return None


@pytest.mark.skipif(why_not() is not None, reason=why_not() or "")
def test_media_flows_only_through_podiums_credentials() -> None:
    proc = subprocess.run(
        [*UNSHARE, sys.executable, "-m", "tests.conference.media_scenario"],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    seen = json.loads(lines[-1].removeprefix("RESULT "))
    assert seen["viewer_role"] == "subscriber" and seen["presenter_role"] == "publisher"
    # A viewer who sent before the presenter came was hung up when the presenter asked in.
    assert seen["viewer_sent_before_presenter"] and seen["squatter_hung_up"]
    # The presenter's video reached the viewer.
    assert seen["frames"] == 20 and seen["frame_size"] == [640, 480]
    assert seen["first_stream_dated"] is True
    # A second publisher in a webinar: refused by Janus (432, the room takes one).
    assert seen["second_publisher"] == 432
    # Without a token: refused (433), as participant and as subscriber.
    assert seen["outsider_join"] == 433 and seen["outsider_subscribe"] == 433
    # Revoked: the viewer's frames stop at once.
    assert seen["revoke_status"] == 204 and seen["frames_after_revoke"] == "stopped"
    # Janus recorded the presenter (audio-less: one video .mjr per publish).
    assert seen["recordings"] >= 1
