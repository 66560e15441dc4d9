"""Debian's Chromium driven by Playwright (never a downloaded browser), for the join page's tests.
Inside the join scenario's namespaces the browser runs in its own network namespace, so the
test can cut its link; the wrapper script puts it there."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/lib/chromium/chromium")

# notes/janus.md: fake camera and microphone, no prompts, autoplay; real host ICE candidates
# (Chrome hides them behind mDNS names Janus cannot resolve).
ARGS = [
    "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]  # fmt: skip


def why_no_browser() -> str | None:
    if not CHROMIUM.exists():
        return "Debian's Chromium is not installed (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    return None


def in_namespace(namespace: str, folder: Path) -> Path:
    """A launcher that starts Chromium inside network namespace `namespace`."""
    wrapper = folder / "chromium-in-netns"
    ip = shutil.which("ip") or "/usr/sbin/ip"
    wrapper.write_text(f'#!/bin/sh\nexec {ip} netns exec {namespace} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def launch_options(executable: Path = CHROMIUM, secure_origin: str | None = None) -> dict[str, Any]:
    """`secure_origin`: an http origin that is not loopback but must be allowed camera and
    microphone (getUserMedia needs a secure context)."""
    args = list(ARGS)
    if secure_origin:
        args.append(f"--unsafely-treat-insecure-origin-as-secure={secure_origin}")
    return {"executable_path": str(executable), "headless": True, "args": args}


def serious_findings(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
