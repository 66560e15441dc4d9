"""SIP dial-in rules that need no I/O: the check order of spec 003, PINs, the bridge's signature."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from podium.errors import BadRequest, Forbidden, PreconditionFailed, Unauthorized

SIP_STATES = (0, 1, 2)  # off; on with a PIN per attendee; on without PIN
PIN_DIGITS = 8
DIALIN_DIGITS = 10
MIN_NONCE = 32


def check_sip_change(
    *, moderator: bool, signed_in: bool, may_enable: bool, configured: bool, state: Any
) -> int:
    """Spec 003's order (notes/lobby-sip-sessions.md): 403 not a moderator; 401 a moderator who
    is not a signed-in user (a guest moderator); 403 not allowed to enable SIP; 412 SIP not
    configured; 400 an invalid state. Answers the new state."""
    if not moderator:
        raise Forbidden("only the class's moderators change SIP dial-in", code="not_moderator")
    if not signed_in:
        raise Unauthorized("a guest moderator cannot change SIP dial-in; sign in",
                           code="guest_moderator")  # fmt: skip
    if not may_enable:
        raise Forbidden("this account may not enable SIP dial-in (owners may)",
                        code="sip_not_allowed")  # fmt: skip
    if not configured:
        raise PreconditionFailed("SIP dial-in is not configured on this server",
                                 code="sip_not_configured")  # fmt: skip
    if isinstance(state, bool) or not isinstance(state, int) or state not in SIP_STATES:
        raise BadRequest("`state` must be 0 (off), 1 (on, PIN per attendee) or 2 (on, no PIN)",
                         field="state", code="invalid_state")  # fmt: skip
    return state


def new_pin() -> str:
    """A numeric attendee PIN (8 digits, never starting with 0 so it keeps its length)."""
    return str(secrets.randbelow(9 * 10 ** (PIN_DIGITS - 1)) + 10 ** (PIN_DIGITS - 1))


def new_dialin_id() -> str:
    return str(secrets.randbelow(9 * 10 ** (DIALIN_DIGITS - 1)) + 10 ** (DIALIN_DIGITS - 1))


def bridge_checksum(secret: str, nonce: str, body: bytes) -> str:
    """What the SIP bridge sends: hex HMAC-SHA256 over the nonce followed by the body."""
    return hmac.new(secret.encode(), nonce.encode() + body, hashlib.sha256).hexdigest()


def check_bridge(secret: str, nonce: str | None, checksum: str | None, body: bytes) -> None:
    if not nonce or len(nonce) < MIN_NONCE or not checksum:
        raise Unauthorized(
            f"send Podium-Sip-Random (a random string of at least {MIN_NONCE} characters) and "
            "Podium-Sip-Checksum (hex HMAC-SHA256 of it and the body)", code="invalid_signature",
        )  # fmt: skip
    if not hmac.compare_digest(checksum.lower(), bridge_checksum(secret, nonce, body)):
        raise Unauthorized("the checksum does not match", code="invalid_signature")
