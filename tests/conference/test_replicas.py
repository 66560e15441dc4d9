"""A webinar larger than one Janus server, with real media: the presenter publishes once on one
server and a viewer seated in a replica on another receives the frames (replica_scenario.py, in
a network namespace); this test runs it and judges what it saw."""

from __future__ import annotations

import pytest

from tests.conference.conftest import run_scenario, why_no_media


@pytest.mark.skipif(why_no_media() is not None, reason=why_no_media() or "")
def test_a_viewer_on_another_server_sees_the_presenter() -> None:
    seen = run_scenario("tests.conference.replica_scenario")
    rooms = seen["rooms"]
    # The webinar's room on `a`, its replica's on `b`, each on its own server only.
    assert rooms["a"] == [rooms["webinar"]] and rooms["b"] == [rooms["replica"]]
    assert seen["replica_status"] == 201 and seen["replica_class_id"]
    # The presenter sits in the webinar's room; the viewer in the replica, on the other server.
    assert seen["presenter_seat"] == ["a", True] and seen["viewer_seat"] == ["b", True]
    # Forwarded by Podium within a few passes; the viewer on `b` decodes the presenter's video.
    assert seen["forwarded_after_s"] < 10
    assert seen["frames"] == 20 and seen["frame_size"] == [640, 480]
    assert seen["forwards"] == 1
    # Checks and passes went on: nothing was hung up or made twice, and frames kept coming.
    assert seen["frames_later"] == 15 and seen["forwards_later"] == 1
    # `a` holds the presenter only (no viewer); the viewer is on `b`.
    assert seen["people_on_a"] == [True] and seen["viewer_on_b"]
    # A revoked viewer in a replica is hung up there.
    assert seen["revoke_status"] == 204 and seen["frames_after_revoke"] == "stopped"
    # The presenter left: the forward was taken down on both servers.
    assert seen["forwards_after_leave"] == 0
    # The presenter is recorded once, on their own server; nothing forwarded is recorded.
    assert seen["recorded_on_a"] >= 1 and seen["recorded_on_b"] == 0
