"""`podium demo-class`: a class to try the join page with, made through Podium's own API (as a
tenant's backend would): a minigroup with a lobby, a moderator and two participants."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class Demo:
    title: str
    class_id: str
    links: dict[str, str]  # who → entry URL


PEOPLE = (("Ada (moderator)", "moderator", "ada"), ("Ben", "participant", "ben"),
          ("Cleo", "participant", "cleo"))  # fmt: skip


def create_demo_class(base_url: str, token: str, audience: str = "example.org") -> Demo:
    now = int(time.time())
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as api:  # fmt: skip
        r = api.post("/api/v1/minigroups", json={
            "title": "Demo class", "scope": f"demo-{uuid.uuid4().hex[:8]}", "audience": audience,
            "host": "ada", "time": [now - 60, now + 4 * 3600], "locked_chat": False,
        })  # fmt: skip
        r.raise_for_status()
        class_id = r.json()["class_id"]
        api.put(f"/api/v1/classes/{class_id}/lobby", json={
            "state": 1, "message": "Welcome! The moderator lets you in in a moment.",
        }).raise_for_status()  # fmt: skip
        links = {}
        for name, role, account in PEOPLE:
            p = api.post(
                f"/api/v1/classes/{class_id}/participants",
                json={"display_name": name, "role": role, "account_id": account},
            )
            p.raise_for_status()
            links[name] = p.json()["entry_url"]
    return Demo("Demo class", class_id, links)
