"""Participant rules that need no I/O: entry links (roles and permissions are in auth.roles)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid


# An entry token: "<participant id hex>.<link version>.<signature>". The signature is an
# HMAC-SHA256 under Podium's key, so a token cannot be made up or altered; rotating the link
# (a new version) or cancelling the participant makes older tokens worthless.
def sign_link(key: str, participant_id: uuid.UUID, version: int) -> str:
    body = f"{participant_id.hex}.{version}"
    return f"{body}.{_signature(key, body)}"


def parse_link(key: str, token: str) -> tuple[uuid.UUID, int] | None:
    """(participant id, link version) of a well-formed token with a valid signature."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 9:
        return None
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2], _signature(key, body)):
        return None
    try:
        return uuid.UUID(hex=parts[0]), int(parts[1])
    except ValueError:
        return None


def _signature(key: str, body: str) -> str:
    digest = hmac.new(key.encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def link_refusal(
    *, now: float, starts_at: float | None, ends_at: float | None, canceled: bool,
    version: int, current_version: int, single_use: bool, used: bool,
) -> tuple[str, str] | None:  # fmt: skip
    """Why an entry link does not open the class now, as (code, message); None when it does."""
    if canceled:
        return "link_revoked", "this participant was cancelled; the link no longer works"
    if version != current_version:
        return "link_revoked", "this link was replaced by a newer one"
    if single_use and used:
        return "link_used", "this link works once and was already used"
    if starts_at is not None and now < starts_at:
        return "link_not_yet_valid", "the class has not started yet; come back at its start"
    if ends_at is not None and now >= ends_at:
        return "link_expired", "the class has ended"
    return None
