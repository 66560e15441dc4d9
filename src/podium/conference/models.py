"""Conference rules that need no I/O: how many publishers a room takes, where it goes, who
publishes, who may join, and the ICE servers a participant is given."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# A room with no reserve still takes a slot: its host.
MIN_SLOTS = 1
# One publisher: the presenter. Janus is multistream, so the presenter's camera and a shared
# screen travel as two streams of that one publisher; a second person publishing is refused.
WEBINAR_PUBLISHERS = 1
DEFAULT_MINIGROUP_PUBLISHERS = 6
TURN_PORT = 3478


@dataclass(frozen=True, slots=True)
class RoomLimits:
    """How long a room lives without its host, and at most after its first stream started."""

    host_timeout_seconds: float = 600.0
    max_stream_seconds: float = 12 * 3600.0


DEFAULT_LIMITS = RoomLimits()


@dataclass(frozen=True, slots=True)
class Look:
    """What a look into a room found."""

    host_here: bool
    streaming: bool  # someone is sending media


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a class's conference room lives on its backend (nothing, for backend `none`)."""

    server: str | None = None
    secret: str | None = None  # guards edit and destroy on Janus; never shown to clients


@dataclass(frozen=True, slots=True)
class Seat:
    """A participant's way into a media room: their grant, where to go (the room: the class's
    own, or one of its replicas), the token to show."""

    grant_id: uuid.UUID
    url: str
    token: str
    room: str
    server: str | None


class MediaRole(StrEnum):
    PUBLISHER = "publisher"
    SUBSCRIBER = "subscriber"


@dataclass(frozen=True, slots=True)
class ServerLoad:
    id: str
    capacity: int
    load: int  # Σ over its open rooms of max(connected, reserve)


def slots(reserve: int | None) -> int:
    return max(reserve or 0, MIN_SLOTS)


def publishers_for(kind: str, reserve: int | None) -> int:
    """Webinar: one presenter and a screen; minigroup: everyone reserved may publish."""
    if kind == "webinar":
        return WEBINAR_PUBLISHERS
    return max(reserve or DEFAULT_MINIGROUP_PUBLISHERS, 1)


def place(servers: list[ServerLoad], reserve: int | None) -> str | None:
    """The most loaded server that still fits the room (bin packing keeps big gaps free for big
    classes); None when none fits. Ties go to the first id, so placement is repeatable."""
    need = slots(reserve)
    fitting = [s for s in servers if s.capacity - s.load >= need]
    if not fitting:
        return None
    return min(fitting, key=lambda s: (-s.load, s.id)).id


def media_role(kind: str, account_id: str, host: str | None, manages: bool) -> MediaRole:
    """A webinar's viewers only watch: its host, and those who manage the class (the tenant's
    backend, owners and moderators), present. In a minigroup or a session everyone publishes."""
    if kind != "webinar" or manages or (host is not None and account_id == host):
        return MediaRole.PUBLISHER
    return MediaRole.SUBSCRIBER


def _join(reserve: int | None, counted: int, live: int, present: bool) -> tuple[int, int, int]:
    """A join's count of the room, and what the server counts for the room before and after."""
    joined = max(counted, live) + (0 if present else 1)
    return joined, max(counted, slots(reserve)), max(joined, slots(reserve))


def grows(reserve: int | None, counted: int, live: int, present: bool) -> bool:
    """Whether this join takes the room past what the server already counts for it (its
    reserve, or its count): only then does the server's load matter (see `admit`)."""
    _, before, after = _join(reserve, counted, live, present)
    return after > before


def admit(
    load: int, capacity: int, reserve: int | None, counted: int, live: int, present: bool
) -> int | None:
    """The room's count of connected participants once this one joins, or None when the server
    has no slot for them. `counted` is what the room last counted (Janus's figure at the last
    check plus the joins handed out since, which may not have arrived yet), `live` how many
    Janus has in it now, `present` whether this participant is already counted (in Janus, or
    handed out since the last count: asking again is a reconnect, not one more person). A join
    within the room's reserve costs the server nothing: the reserve is already counted."""
    joined, before, after = _join(reserve, counted, live, present)
    if after > before and load - before + after > capacity:
        return None
    return joined


def resized_load(load: int, connected: int, old: int | None, new: int | None) -> int:
    """The server's load once a room's reserve changes: the room counts max(connected, reserve)
    before and after."""
    return load - max(connected, slots(old)) + max(connected, slots(new))


# The id Podium joins a room under to see its publishers' streams (it sends nothing); a suffix
# keeps two processes' observers apart.
OBSERVER = "podium-observer"


def intruders(participants: list[dict[str, Any]], roles: dict[str, MediaRole]) -> list[str]:
    """Participants to hang up: one whose id is no active grant (revoked, or a client that
    did not use the id it was given), or a subscriber who is sending media. Janus cannot tie a
    token to an id or a role, so Podium checks what it sees. Not hung up: a presenter forwarded
    from another server (`remote`: only the room's secret makes one) and Podium's own observer
    while it sends nothing."""
    out = []
    for p in participants:
        pid = str(p.get("id"))
        if p.get("remote") or (pid.startswith(OBSERVER) and not p.get("publisher")):
            continue
        role = roles.get(pid)
        if role is None or (role is MediaRole.SUBSCRIBER and p.get("publisher")):
            out.append(pid)
    return out


Forward = tuple[str, str]  # (replica room, publisher id): a presenter shown in a replica room


@dataclass(frozen=True, slots=True)
class ForwardPlan:
    """What one forwarding pass does: forwards to make, ones whose streams changed (the replica
    is told), ones to take down (the presenter left, or a room closed), ones to make sure of
    (asking the source again makes a lost forward again)."""

    make: list[Forward]
    update: list[Forward]
    remove: list[Forward]
    keep: list[Forward]


def plan_forwards(
    wanted: dict[Forward, list[dict[str, Any]]],
    made: dict[Forward, list[dict[str, Any]] | None],
    busy: set[Forward],
) -> ForwardPlan:
    """`wanted`: each presenter publishing in a source room, for each open replica of it, with
    the streams it publishes now; `made`: the forwards set up already, with the streams their
    replica was told; `busy`: forwards another pass is setting up right now (left alone)."""
    make = sorted(f for f in wanted if f not in made and f not in busy)
    keep = sorted(f for f in wanted if f in made and f not in busy)
    update = [f for f in keep if made[f] != wanted[f]]
    remove = sorted(f for f in made if f not in wanted and f not in busy)
    return ForwardPlan(make, update, remove, keep)


def pick_turn_host(kind: str, scope: str, hosts: tuple[str, ...] | list[str]) -> str | None:
    """Random per read spreads load; a two-party session gets the same one every time (a hash
    of its scope), so both peers meet on one TURN server."""
    if not hosts:
        return None
    if kind in ("session", "p2p"):
        digest = hashlib.sha256(scope.encode()).digest()
        return hosts[int.from_bytes(digest[:8], "big") % len(hosts)]
    return random.choice(hosts)  # noqa: S311  (spreading load, not a secret)


def ice_servers(
    turn_host: str | None, secret: str | None, account_id: str, now: int, ttl: int
) -> list[dict[str, Any]]:
    """RTCPeerConnection `iceServers`: STUN on the TURN host, and TURN with a time-limited
    username/credential when the shared secret is known (username "<expiry>:<account>",
    credential base64(HMAC-SHA1(secret, username)), as coturn's use-auth-secret checks)."""
    if turn_host is None:
        return []
    address = turn_host if ":" in turn_host else f"{turn_host}:{TURN_PORT}"
    servers: list[dict[str, Any]] = [{"urls": [f"stun:{address}"]}]
    if secret:
        username = f"{now + ttl}:{account_id}"
        digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
        servers.append({
            "urls": [f"turn:{address}?transport=udp", f"turn:{address}?transport=tcp"],
            "username": username,
            "credential": base64.b64encode(digest).decode(),
        })  # fmt: skip
    return servers
