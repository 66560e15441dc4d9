"""The join page in a real browser against a real Janus; run by test_join_page.py inside
`unshare --net --pid --fork --kill-child --mount-proc` (root). In there: Podium, its PostgreSQL
and Janus live on a veth at 10.20.0.1; Debian's Chromium (driven by Playwright) lives in a
second network namespace at 10.20.0.2, so the test can take the browser's link down and up as a
real network drop. It prints one JSON line of what it saw; the test judges it. Screenshots of
each state go to the folder named by argv[1].
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from podium.db import migrate
from podium.embedded import EmbeddedPostgres, free_port
from tests.conftest import TENANT, auth, start_server
from tests.janus import JanusServer
from tests.processes import stop
from tests.web.browser import in_namespace, launch_options, serious_findings

# Named per run: `ip netns add` leaves a file in /run/netns (deleted again at the end).
BROWSER_NS = f"podium-browser-{os.getpid()}"
SERVER_IP, BROWSER_IP = "10.20.0.1", "10.20.0.2"
NETWORK = [
    "ip link set lo up",
    f"ip netns add {BROWSER_NS}",
    "ip link add jveth0 type veth peer name jveth1",
    f"ip link set jveth1 netns {BROWSER_NS}",
    f"ip addr add {SERVER_IP}/24 dev jveth0",
    "ip link set jveth0 up",
    f"ip netns exec {BROWSER_NS} ip link set lo up",
    f"ip netns exec {BROWSER_NS} ip addr add {BROWSER_IP}/24 dev jveth1",
    f"ip netns exec {BROWSER_NS} ip link set jveth1 up",
]
WAIT_MS = 20_000

# A video of the stage is playing: frames decoded and its clock moving.
PLAYING = """() => [...document.querySelectorAll('#stage video')].some(
    v => !v.muted && v.videoWidth > 0 && v.currentTime > 0.5)"""
CHAT = "() => [...document.querySelectorAll('#messages li')].map(li => [li.dataset.seq, li.querySelector('.text').textContent])"  # noqa: E501


def link_state(up: bool) -> None:
    subprocess.run(["ip", "netns", "exec", BROWSER_NS, "ip", "link", "set", "jveth1",
                    "up" if up else "down"], check=True)  # fmt: skip


class Scenario:
    def __init__(self, browser: Browser, api: httpx.Client, shots: Path) -> None:
        self.browser = browser
        self.api = api
        self.shots = shots
        self.seen: dict[str, Any] = {"axe": {}, "errors": []}

    def open(self, url: str, who: str) -> Page:
        context = self.browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.on("dialog", lambda d: d.accept())
        page.on("pageerror", lambda e: self.seen["errors"].append(f"{who}: {e}"))
        page.goto(url)
        page.wait_for_function("() => window.podium && window.podium.state")
        return page

    def wait_state(self, page: Page, state: str, timeout: int = WAIT_MS) -> float:
        t0 = time.monotonic()
        page.wait_for_function("s => window.podium.state === s", arg=state, timeout=timeout)
        return time.monotonic() - t0

    def shot(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.shots / f"{name}.png"))

    def axe(self, page: Page, name: str) -> None:
        self.seen["axe"][name] = serious_findings(page)

    def person(self, class_id: str, name: str, role: str, account: str) -> dict[str, Any]:
        r = self.api.post(
            f"/api/v1/classes/{class_id}/participants",
            json={"display_name": name, "role": role, "account_id": account},
        )
        r.raise_for_status()
        return r.json()

    def chat(self, page: Page, text: str) -> None:
        page.fill("#chat-text", text)
        page.click("#chat-send")

    def has_message(self, page: Page, text: str) -> None:
        page.wait_for_function(
            "t => [...document.querySelectorAll('#messages .text')].some(e => e.textContent === t)",
            arg=text,
            timeout=WAIT_MS,
        )

    def minigroup(self, seen: dict[str, Any]) -> None:
        """(g) A minigroup: everyone publishes, a grid, the active speaker, mute; on a phone."""
        created = self.api.post("/api/v1/minigroups", json={
            "title": "Chemistry study group", "scope": "join-page-2",
            "audience": TENANT.audience, "host": "erin", "locked_chat": False,
        })  # fmt: skip
        created.raise_for_status()
        cid = created.json()["class_id"]
        erin = self.open(self.person(cid, "Erin Tutor", "moderator", "erin")["entry_url"], "erin")
        frank = self.open(self.person(cid, "Frank Pupil", "participant", "frank")["entry_url"],
                          "frank")  # fmt: skip
        frank.set_viewport_size({"width": 390, "height": 844})  # a phone
        for page in (erin, frank):
            page.click("#join-button")
            self.wait_state(page, "call")
        for page in (erin, frank):
            page.wait_for_function(PLAYING, timeout=WAIT_MS)
            page.wait_for_function("() => document.querySelectorAll('#stage .tile').length === 2",
                                   timeout=WAIT_MS)  # fmt: skip
        seen["grid_tiles"] = erin.evaluate("() => document.querySelectorAll('#stage .tile').length")
        # The fake microphone beeps: whoever it is, someone is highlighted as speaking.
        erin.wait_for_selector("#stage .tile.speaking", timeout=WAIT_MS)
        seen["active_speaker"] = True
        frank.click("#mic")
        seen["muted"] = [
            frank.get_attribute("#mic", "aria-pressed"),
            frank.evaluate(
                "() => window.podium.call.stream.getAudioTracks().every(t => !t.enabled)"
            ),
        ]
        frank.click("#cam")
        seen["camera_off"] = frank.evaluate(
            "() => window.podium.call.stream.getVideoTracks().every(t => !t.enabled)"
        )
        self.shot(erin, "call-minigroup")
        self.shot(frank, "call-phone")
        self.axe(frank, "call-phone")
        frank.click("#leave")
        self.wait_state(frank, "final")
        seen["left"] = [
            frank.evaluate("() => window.podium.final"),
            frank.evaluate("() => document.querySelectorAll('#stage video').length"),
        ]
        erin.wait_for_function("() => document.querySelectorAll('#stage .tile').length === 1",
                               timeout=WAIT_MS)  # fmt: skip
        seen["left_seen_by_others"] = True
        for page in (erin, frank):
            page.context.close()

    def run(self) -> dict[str, Any]:
        seen = self.seen
        now = int(time.time())
        created = self.api.post("/api/v1/webinars", json={
            "title": "Physics: waves and sound", "scope": "join-page-1",
            "audience": TENANT.audience, "host": "teacher", "locked_chat": False,
            "time": [now - 60, now + 7200],
        })  # fmt: skip
        created.raise_for_status()
        cid = created.json()["class_id"]
        room = created.json()["real_time"]["event_room_id"]
        self.api.put(f"/api/v1/classes/{cid}/lobby", json={
            "state": 1, "message": "We start at the bell: please wait a moment."
        }).raise_for_status()  # fmt: skip
        teacher = self.person(cid, "Ada Teacher", "moderator", "teacher")
        alice = self.person(cid, "Alice Student", "participant", "alice")
        bob = self.person(cid, "Bob Student", "participant", "bob")
        carol = self.person(cid, "Carol Student", "participant", "carol")

        # (a) The moderator opens their link, gets ready and publishes.
        mod = self.open(teacher["entry_url"], "teacher")
        self.shot(mod, "prejoin")
        self.axe(mod, "prejoin")
        mod.click("#join-button")
        self.wait_state(mod, "call")
        mod.wait_for_function("() => window.podium.call && window.podium.call.publishing",
                              timeout=WAIT_MS)  # fmt: skip
        # A participant opens theirs and waits in the lobby, seeing the moderator's message.
        a = self.open(alice["entry_url"], "alice")
        seen["alice_name_readonly"] = a.get_attribute("#name", "readonly") is not None
        a.click("#join-button")
        self.wait_state(a, "lobby")
        seen["lobby_message"] = a.text_content("#lobby-message")
        self.shot(a, "lobby")
        self.axe(a, "lobby")
        a.evaluate("() => { window.notReloaded = true; }")
        self.chat(mod, "Before you came")  # held back from Alice by the lobby, for now
        # The moderator sees them waiting and admits them: in the class within a second.
        mod.wait_for_selector("#queue li >> text=Alice Student", timeout=WAIT_MS)
        mod.click("#queue button[aria-label='Admit Alice Student']")
        seen["admitted_in_s"] = round(self.wait_state(a, "call"), 2)
        seen["admit_without_reload"] = a.evaluate("() => window.notReloaded === true")
        a.wait_for_function(PLAYING, timeout=WAIT_MS)
        before = a.evaluate("() => document.querySelector('#stage video').currentTime")
        a.wait_for_timeout(1000)
        after = a.evaluate("() => document.querySelector('#stage video').currentTime")
        seen["video"] = a.evaluate("() => { const v = document.querySelector('#stage video');"
                                   " return [v.videoWidth, v.videoHeight]; }")  # fmt: skip
        seen["video_advancing"] = after > before
        seen["viewer_publishes"] = a.evaluate("() => Boolean(window.podium.call.publishing)")
        self.has_message(a, "Before you came")  # the history the lobby held back
        self.chat(a, "Hello from Alice")
        self.has_message(mod, "Hello from Alice")
        self.chat(mod, "Welcome, Alice!")
        self.has_message(a, "Welcome, Alice!")
        seen["chat_exchanged"] = True
        # Raise hand and reactions are events: the others see them.
        a.click("#hand")
        mod.wait_for_function(
            "() => document.querySelector('#reaction-feed').textContent.includes('Alice')",
            timeout=WAIT_MS)  # fmt: skip
        mod.click("[data-reaction='thumbs_up']")
        a.wait_for_function(
            "() => document.querySelector('#reaction-feed').textContent.includes('Ada')",
            timeout=WAIT_MS)  # fmt: skip
        seen["hand_and_reaction"] = [a.get_attribute("#hand", "aria-pressed"),
                                     a.text_content("#reaction-feed")]  # fmt: skip
        mod.wait_for_timeout(1500)  # the quality hint and active speaker settle
        seen["quality"] = a.text_content("#quality")
        self.shot(mod, "call-moderator")
        self.shot(a, "call-viewer")
        self.axe(mod, "call-moderator")
        self.axe(a, "call-viewer")

        # A moderator hands the webinar's stage to a participant, and takes it back.
        mod.click("#people button[aria-label='Make Alice Student the presenter']")
        a.wait_for_function("() => window.podium.call.publishing === true", timeout=WAIT_MS)
        mod.wait_for_function(PLAYING, timeout=WAIT_MS)
        seen["promoted_publishes"] = True
        seen["moderator_stopped"] = mod.evaluate("() => !window.podium.call.publishing")
        mod.click("#people button[aria-label='Make Ada Teacher the presenter']")
        mod.wait_for_function("() => window.podium.call.publishing === true", timeout=WAIT_MS)
        a.wait_for_function("() => !window.podium.call.wantPublish", timeout=WAIT_MS)
        a.wait_for_function(PLAYING, timeout=WAIT_MS)
        seen["stage_back"] = a.evaluate("() => !window.podium.call.publishing")

        # (b) A second participant is denied and sees the denial page.
        b = self.open(bob["entry_url"], "bob")
        b.click("#join-button")
        self.wait_state(b, "lobby")
        mod.wait_for_selector("#queue li >> text=Bob Student", timeout=WAIT_MS)
        mod.click("#queue button[aria-label='Deny Bob Student']")
        self.wait_state(b, "final")
        seen["bob_final"] = b.evaluate("() => window.podium.final")
        seen["bob_title"] = b.text_content("#final-title")
        self.shot(b, "denied")
        self.axe(b, "denied")
        b.context.close()

        # (c) The lobby timer opens the lobby; a waiting participant enters without reloading.
        c = self.open(carol["entry_url"], "carol")
        c.click("#join-button")
        self.wait_state(c, "lobby")
        c.evaluate("() => { window.notReloaded = true; }")
        opens = int(time.time()) + 3
        self.api.put(f"/api/v1/classes/{cid}/lobby", json={"state": 1, "timer": opens})
        seen["carol_waited_s"] = round(self.wait_state(c, "call", timeout=30_000), 2)
        seen["timer_late_s"] = round(time.time() - opens, 2)
        seen["carol_without_reload"] = c.evaluate("() => window.notReloaded === true")
        c.context.close()

        # (d) Locked chat is read-only for participants (and says why).
        mod.click("#chat-lock")
        a.wait_for_function("() => document.querySelector('#chat-text').disabled", timeout=WAIT_MS)
        seen["locked_notice"] = a.text_content("#chat-locked")
        seen["locked_send_disabled"] = a.evaluate(
            "() => document.querySelector('#chat-send').disabled")  # fmt: skip
        seen["locked_post"] = a.evaluate("""async () => {
            const post = {type: 'message', data: {text: 'sneaky'}};
            try { await window.podium.live.post(post); return 'sent'; }
            catch (e) { return e.status || e.message; } }""")  # fmt: skip
        self.shot(a, "chat-locked")
        mod.click("#chat-lock")
        a.wait_for_function("() => !document.querySelector('#chat-text').disabled", timeout=WAIT_MS)

        # (f) The browser's network drops for 3 s; messages are posted meanwhile.
        reconnects = a.evaluate("() => window.podium.live.reconnects")
        media_restarts = a.evaluate("() => window.podium.call.restarts")
        link_state(up=False)
        dropped_at = time.monotonic()
        for i in range(3):
            self.api.post(
                f"/api/v1/event_rooms/{room}/events",
                json={"type": "message", "data": {"text": f"during the drop {i}"}},
            )
            time.sleep(0.8)
        time.sleep(max(0.0, 3 - (time.monotonic() - dropped_at)))
        link_state(up=True)
        self.api.post(
            f"/api/v1/event_rooms/{room}/events",
            json={"type": "message", "data": {"text": "after the drop"}},
        )
        self.has_message(a, "after the drop")
        a.wait_for_function("() => window.podium.socket === 'open'", timeout=WAIT_MS)
        seen["reconnected_socket"] = a.evaluate("() => window.podium.live.reconnects") - reconnects
        messages = a.evaluate(CHAT)
        seqs = [int(s) for s, _ in messages]
        seen["chat_after_drop"] = [t for _, t in messages]
        seen["chat_seqs_ordered_unique"] = seqs == sorted(set(seqs))
        during = [f"during the drop {i}" for i in range(3)]
        seen["chat_no_gap"] = all(text in seen["chat_after_drop"] for text in during)
        a.wait_for_function(PLAYING, timeout=30_000)
        seen["media_restarts"] = a.evaluate("() => window.podium.call.restarts") - media_restarts
        t1 = a.evaluate("() => document.querySelector('#stage video').currentTime")
        a.wait_for_timeout(1000)
        seen["video_after_drop"] = a.evaluate(
            "() => document.querySelector('#stage video').currentTime") > t1  # fmt: skip

        # (e) The moderator removes the participant mid-call: media dropped, a page says so.
        mod.click("#people button[aria-label='Remove Alice Student']")
        self.wait_state(a, "final")
        seen["alice_final"] = a.evaluate("() => window.podium.final")
        seen["alice_media_after"] = a.evaluate(
            "() => document.querySelectorAll('#stage video').length")  # fmt: skip
        self.shot(a, "removed")

        # The moderator ends the class: everyone gets the "class ended" page.
        d = self.open(self.person(cid, "Dan Student", "participant", "dan")["entry_url"], "dan")
        self.api.put(f"/api/v1/classes/{cid}/lobby", json={"state": 0})
        d.click("#join-button")
        self.wait_state(d, "call")
        mod.click("#end-class")
        self.wait_state(mod, "final")
        self.wait_state(d, "final")
        seen["ended"] = [mod.evaluate("() => window.podium.final"),
                         d.evaluate("() => window.podium.final")]  # fmt: skip
        self.shot(d, "ended")
        self.axe(d, "ended")
        for page in (mod, d, a):
            page.context.close()
        self.minigroup(seen)
        # A link opened after the end: a page saying so (and the link is not spent by looking).
        e = self.open(carol["entry_url"], "carol-again")
        seen["after_end"] = [e.evaluate("() => window.podium.state"),
                             e.text_content("#final-title")]  # fmt: skip
        self.axe(e, "refused")
        return seen


def main() -> None:
    shots = Path(sys.argv[1])
    shots.mkdir(parents=True, exist_ok=True)
    for command in NETWORK:
        subprocess.run(command.split(), check=True)
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="podium-web-pg-")))
    url = pg.start()
    janus = JanusServer("web", interface=SERVER_IP, ice_enforce_list="jveth0", http_ip=SERVER_IP)
    server = None
    seen: dict[str, Any] = {}
    try:
        migrate(url)
        janus.start()
        port = free_port()
        origin = f"http://{SERVER_IP}:{port}"
        server = start_server(url, port, {
            "PODIUM_HOST": "0.0.0.0", "PODIUM_PUBLIC_URL": origin,  # noqa: S104 (no route out)
            "PODIUM_JANUS_URLS": json.dumps([janus.config()]),
            "PODIUM_JOBS_POLL_SECONDS": "0.5",
        })  # fmt: skip
        wrapper = in_namespace(BROWSER_NS, Path(tempfile.mkdtemp(prefix="podium-chromium-")))
        with (
            sync_playwright() as pw,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth(), timeout=10) as api,
        ):
            browser = pw.chromium.launch(**launch_options(wrapper, secure_origin=origin))
            try:
                seen = Scenario(browser, api, shots).run()
            finally:
                browser.close()
    finally:
        if server is not None:
            stop(server)
        janus.stop()
        pg.stop()
        subprocess.run(["ip", "netns", "del", BROWSER_NS], check=False)
    print("RESULT " + json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
