"""No secret reaches a log line: every record's message is redacted when it is formatted, in
every logger and handler of the process (Podium's, uvicorn's, libraries'), by the log record
factory. What goes: query parameters that carry secrets (`?access_token=` on WebSocket
handshakes, refresh tokens, entry tokens, client secrets), `Bearer` credentials, anything shaped
like a JWT, and the token part of entry links (`/join/<token>`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
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


# What the current request, socket or job is about: each log line written while it runs carries
# it (request id, tenant, route, status, class and room ids). A dict in a context variable: set
# once where the work starts, filled in by whoever learns more (the caller's tenant once the token
# is verified), and seen by every line of that work however deep the call.
Context = dict[str, Any]
_context: contextvars.ContextVar[Context | None] = contextvars.ContextVar("podium_log_context",
                                                                         default=None)  # fmt: skip
FIELDS = ("request_id", "tenant", "method", "route", "status", "duration_ms", "class_id",
          "room_id", "job", "kind")  # fmt: skip


def begin(**fields: Any) -> Context:
    """A new context for the work this task does from now on."""
    context: Context = dict(fields)
    _context.set(context)
    return context


def note(**fields: Any) -> None:
    """Add to the current work's context (nothing when there is none)."""
    context = _context.get()
    if context is not None:
        context.update({k: v for k, v in fields.items() if v is not None})


def current() -> Context:
    return _context.get() or {}


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message (redacted), the work's context."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is None:
                value = current().get(key)
            if value is not None:
                line[key] = value if isinstance(value, int | float | bool) else str(value)
        if record.exc_info:
            line["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


class Text(logging.Formatter):
    """`LEVEL logger message [key=value …]` for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.levelname} {record.name} {record.getMessage()}"
        context = current()
        extra = " ".join(f"{k}={context[k]}" for k in FIELDS if context.get(k) is not None)
        text = f"{text} [{extra}]" if extra else text
        if record.exc_info:
            text += "\n" + redact(self.formatException(record.exc_info))
        return text


def configure(level: str, fmt: str) -> None:
    """The process's log lines: JSON (`json`) or text, at `level`, redacted (see `install`)."""
    install()
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if fmt == "json" else Text())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
