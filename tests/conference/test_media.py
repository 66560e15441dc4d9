"""Real media: an aiortc publisher and subscriber join Janus with the credentials Podium hands
out, inside a network namespace (notes/janus.md). The scenario is media_scenario.py; this test
runs it and judges what it saw."""

from __future__ import annotations

import pytest

from tests.conference.conftest import run_scenario, why_no_media


@pytest.mark.skipif(why_no_media() is not None, reason=why_no_media() or "")
def test_media_flows_only_through_podiums_credentials() -> None:
    seen = run_scenario("tests.conference.media_scenario")
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
