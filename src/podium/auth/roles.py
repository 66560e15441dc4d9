"""Participant roles and their permissions: what a person may do in their class, by role, with
the participant's own overrides on top. No I/O."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    MODERATOR = "moderator"
    PARTICIPANT = "participant"
    GUEST = "guest"


# Participant roles that manage their own class (participants, lobby, media access).
MANAGING_ROLES = ("owner", "moderator")

# The original's permission bits (notes/lobby-sip-sessions.md), by name.
PERMISSION_BITS = {
    "start_call": 2, "join_call": 4, "ignore_lobby": 8, "audio": 16, "video": 32,
    "screen": 64, "chat": 128, "reactions": 256,
}  # fmt: skip
PERMISSIONS = tuple(PERMISSION_BITS)

_EVERYTHING = frozenset(PERMISSIONS)
ROLE_DEFAULTS: dict[Role, frozenset[str]] = {
    Role.OWNER: _EVERYTHING,
    Role.MODERATOR: _EVERYTHING,
    # Everyone else waits in the lobby and does not start the call.
    Role.PARTICIPANT: _EVERYTHING - {"start_call", "ignore_lobby"},
    Role.GUEST: _EVERYTHING - {"start_call", "ignore_lobby", "screen"},
}


def effective_permissions(role: str, overrides: dict[str, bool]) -> dict[str, bool]:
    """The role's defaults with the participant's own overrides on top."""
    granted = ROLE_DEFAULTS[Role(role)]
    return {name: overrides.get(name, name in granted) for name in PERMISSIONS}


def unknown_permissions(overrides: dict[str, bool]) -> list[str]:
    return sorted(set(overrides) - set(PERMISSIONS))


def is_managing(role: str) -> bool:
    return role in MANAGING_ROLES
