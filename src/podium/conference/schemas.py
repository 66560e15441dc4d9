"""API shapes of media access."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from msgspec import Struct


class MediaJoin(Struct):
    """What a browser needs to join a class's media on Janus (videoroom plugin): attach to
    `janus_url`, join `room` as a participant with `id = participant_id` and `token`, then
    publish (role `publisher`) or subscribe with the private id the join answered."""

    class_id: UUID
    room: str
    janus_url: str
    server: str
    role: str  # publisher | subscriber
    participant_id: str
    token: str
    ice_servers: list[dict[str, Any]]  # RTCPeerConnection iceServers
    turn_host: str | None
