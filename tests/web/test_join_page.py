"""The join page in Debian's Chromium against a real Janus (issue 13's proof): the scenario is
join_scenario.py, run inside network namespaces; this test judges what it saw. Screenshots of
each state are kept in PODIUM_SCREENSHOTS (default: a temporary folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conference.conftest import ROOT, UNSHARE, why_no_media
from tests.web.browser import why_no_browser


def why_not() -> str | None:
    return why_no_browser() or why_no_media()


@pytest.fixture(scope="module")
def seen() -> dict[str, object]:
    shots = os.environ.get("PODIUM_SCREENSHOTS") or tempfile.mkdtemp(prefix="podium-shots-")
    proc = subprocess.run(
        [*UNSHARE, sys.executable, "-m", "tests.web.join_scenario", shots],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
    )  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, (proc.stdout[-3000:], proc.stderr[-6000:])
    result: dict[str, object] = json.loads(lines[-1].removeprefix("RESULT "))
    result["shots"] = sorted(p.name for p in Path(shots).glob("*.png"))
    return result


pytestmark = pytest.mark.skipif(why_not() is not None, reason=why_not() or "")


def test_a_participant_waits_is_admitted_sees_the_presenter_and_chats(seen: dict) -> None:
    assert seen["errors"] == []
    assert seen["alice_name_readonly"] is True  # a participant's name is the organiser's
    assert seen["lobby_message"] == (
        "From the organiser: We start at the bell: please wait a moment."
    )
    assert seen["admit_without_reload"] is True
    assert seen["admitted_in_s"] < 1.0  # "in the class within a second"
    assert seen["video"] == [640, 480] and seen["video_advancing"] is True
    assert seen["viewer_publishes"] is False  # a webinar's viewers receive only
    assert seen["chat_exchanged"] is True
    assert seen["quality"].startswith("Connection: ")


def test_hands_and_reactions_reach_the_others(seen: dict) -> None:
    pressed, feed = seen["hand_and_reaction"]
    assert pressed == "true" and "Ada Teacher" in feed


def test_leaving_ends_the_call_for_that_person_only(seen: dict) -> None:
    assert seen["left"] == ["left", 0] and seen["left_seen_by_others"] is True


def test_a_moderator_hands_the_stage_over_and_back(seen: dict) -> None:
    assert seen["promoted_publishes"] is True and seen["moderator_stopped"] is True
    assert seen["stage_back"] is True


def test_a_minigroup_is_a_grid_with_the_active_speaker_and_mute(seen: dict) -> None:
    assert seen["grid_tiles"] == 2 and seen["active_speaker"] is True
    assert seen["muted"] == ["true", True] and seen["camera_off"] is True


def test_a_denied_participant_sees_the_denial_page(seen: dict) -> None:
    assert seen["bob_final"] == "denied" and seen["bob_title"] == "You were not let in"


def test_the_lobby_timer_lets_a_waiting_participant_in_without_reloading(seen: dict) -> None:
    assert seen["carol_without_reload"] is True
    assert seen["timer_late_s"] < 3.0  # the timer job runs every 0.5 s here


def test_locked_chat_is_read_only_for_participants(seen: dict) -> None:
    assert seen["locked_send_disabled"] is True
    assert "locked the chat" in seen["locked_notice"]
    assert seen["locked_post"] == 403  # Podium refuses it too, not only the page


def test_after_a_network_drop_the_page_reconnects_and_the_chat_has_no_gap_or_duplicate(
    seen: dict,
) -> None:
    assert seen["reconnected_socket"] >= 1
    assert seen["chat_seqs_ordered_unique"] is True and seen["chat_no_gap"] is True
    assert seen["chat_after_drop"] == [
        "Before you came", "Hello from Alice", "Welcome, Alice!", "during the drop 0",
        "during the drop 1", "during the drop 2", "after the drop",
    ]  # fmt: skip
    assert seen["video_after_drop"] is True


def test_revoking_a_participant_drops_their_media_and_shows_a_page(seen: dict) -> None:
    assert seen["alice_final"] == "removed" and seen["alice_media_after"] == 0


def test_ending_the_class_sends_everyone_the_ended_page(seen: dict) -> None:
    assert seen["ended"] == ["ended", "ended"]
    assert seen["after_end"] == ["refused", "The class has ended"]


def test_axe_finds_nothing_serious_on_any_state(seen: dict) -> None:
    assert set(seen["axe"]) >= {"prejoin", "lobby", "call-moderator", "call-viewer", "denied",
                                "ended", "refused", "call-phone"}  # fmt: skip
    assert {state: found for state, found in seen["axe"].items() if found} == {}


def test_every_state_is_photographed(seen: dict) -> None:
    assert {"prejoin.png", "lobby.png", "call-viewer.png", "call-moderator.png", "denied.png",
            "chat-locked.png", "removed.png", "ended.png", "call-minigroup.png",
            "call-phone.png"} <= set(seen["shots"])  # fmt: skip
