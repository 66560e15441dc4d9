"""No secret reaches a log line: every record's message is redacted when it is formatted, in
every logger and handler of the process (Podium's, uvicorn's, libraries'), by the log record
factory. What goes: query parameters that carry secrets (`?access_token=` on WebSocket
handshakes, refresh tokens, entry tokens, client secrets), `Bearer` credentials, anything shaped
like a JWT, and the token part of entry links (`/join/<token>`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"

# Query (or form) parameters whose values are secrets.
SECRET_PARAMS = (
    "access_token", "refresh_token", "entry_token", "id_token", "token", "client_secret",
    "secret", "password", "admin_secret", "admin_key",
)  # fmt: skip
_PARAM = re.compile(
    r"(?P<key>(?:^|[?&;\s\"'])(?:" + "|".join(SECRET_PARAMS) + r")=)[^&;\s\"']+", re.IGNORECASE
)
_BEARER = re.compile(r"(?P<key>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_ENTRY_LINK = re.compile(r"(?P<key>/join/)[A-Za-z0-9._~%-]+")
# JSON members that carry secrets, as an error detail or a debug line might show them.
_MEMBER = re.compile(
    r"(?P<key>\"(?:" + "|".join(SECRET_PARAMS) + r")\"\s*:\s*\")[^\"]*", re.IGNORECASE
)


def redact(text: str) -> str:
    """The text with every secret it carries replaced by `[redacted]`."""
    if not text:
        return text
    text = _PARAM.sub(lambda m: m["key"] + REDACTED, text)
    text = _MEMBER.sub(lambda m: m["key"] + REDACTED, text)
    text = _BEARER.sub(lambda m: m["key"] + REDACTED, text)
    text = _ENTRY_LINK.sub(lambda m: m["key"] + REDACTED, text)
    return _JWT.sub(REDACTED, text)


class RedactedRecord(logging.LogRecord):
    def getMessage(self) -> str:
        return redact(super().getMessage())


_installed = False


def install() -> None:
    """Make every log record of this process redact itself (idempotent)."""
    global _installed
    if _installed:
        return
    base = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        record.__class__ = RedactedRecord
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
