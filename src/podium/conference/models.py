"""Conference rules that need no I/O: how many publishers a room takes, and where it goes."""

from __future__ import annotations

from dataclasses import dataclass

# A room with no reserve still takes a slot: its host.
MIN_SLOTS = 1
WEBINAR_PUBLISHERS = 2  # the presenter's camera and a shared screen
DEFAULT_MINIGROUP_PUBLISHERS = 6


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
