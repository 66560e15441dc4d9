"""The error tree (each error carries its HTTP status) and the one problem+json handler.

Every error a client can see is `application/problem+json` (RFC 9457):
`{type, title, status, detail}`, plus `field` and `invalid_params` for validation errors and any
extra members an error names (for example `class_id` on a conflict). `type` is `/problems/<code>`.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class PodiumError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        code: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra
        if code is not None:
            self.code = code  # type: ignore[misc]

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.field is not None:
            body["field"] = self.field
            if self.status == 422:
                body["invalid_params"] = [{"name": self.field, "reason": self.detail}]
        body.update(self.extra)
        return body


class BadRequest(PodiumError):
    status, code, title = 400, "bad_request", "Bad request"


class Unauthorized(PodiumError):
    status, code, title = 401, "unauthorized", "Unauthorized"


class Forbidden(PodiumError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(PodiumError):
    status, code, title = 404, "not_found", "Not found"


class MethodNotAllowed(PodiumError):
    status, code, title = 405, "method_not_allowed", "Method not allowed"


class Conflict(PodiumError):
    status, code, title = 409, "conflict", "Conflict"


class Gone(PodiumError):
    status, code, title = 410, "gone", "Gone"


class PreconditionFailed(PodiumError):
    status, code, title = 412, "precondition_failed", "Precondition failed"


class PayloadTooLarge(PodiumError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class UnsupportedMediaType(PodiumError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class ValidationFailed(PodiumError):
    status, code, title = 422, "validation_failed", "Validation failed"


class TooManyRequests(PodiumError):
    status, code, title = 429, "too_many_requests", "Too many requests"


class ServiceUnavailable(PodiumError):
    status, code, title = 503, "service_unavailable", "Service unavailable"


_BY_STATUS: dict[int, type[PodiumError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        Gone,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
        TooManyRequests,
        ServiceUnavailable,
    )
}


_MISSING = re.compile(r"missing required field `([^`]+)`")
_AT = re.compile(r" - at `\$\.?([^`]*)`")


def _field_name(key: str, message: str) -> str:
    """The field at fault, as the client wrote it: `time[1]`, `title`, a parameter's name.

    msgspec puts the path in its message (`… - at `$.time[1]``) or names a missing field;
    Litestar's `key` is the parameter's name, or `data` for the body as a whole.
    """
    at = _AT.search(message)
    prefix = at.group(1) if at else ""
    missing = _MISSING.search(message)
    if missing:
        return f"{prefix}.{missing.group(1)}" if prefix else missing.group(1)
    if prefix:
        return prefix
    return "body" if key in ("", "data", "$") else key


def validation_error(message: str, key: str = "") -> ValidationFailed:
    """A msgspec message (`Expected `int`, got `str` - at `$.reserve``) as a 422 on the field."""
    name = _field_name(key, message)
    reason = _AT.sub("", message)
    return ValidationFailed(f"{name}: {reason}", field=name)


def from_validation(exc: ValidationException) -> PodiumError:
    """Litestar's validation errors (path, query and header parameters) as a 422 on the field."""
    items = exc.extra if isinstance(exc.extra, list) else []
    params = []
    for item in items:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid"))
            name = _field_name(str(item.get("key") or ""), message)
            params.append({"name": name, "reason": _AT.sub("", message)})
    if not params:
        return ValidationFailed(str(exc.detail))
    detail = "; ".join(f"{p['name']}: {p['reason']}" for p in params)
    return ValidationFailed(detail, field=params[0]["name"], invalid_params=params)


# What a refused value was, by SQLSTATE, in our words (the driver's text never reaches a client:
# it names query arguments and internals).
_UNSTORABLE = {
    "22003": "a number is out of range",
    "22008": "a date or time is out of range",
    "22P05": "text holds a character that cannot be stored",
    "22021": "text holds a character that cannot be stored",
    "22001": "a text is too long",
    "54000": "a value is too large",
}


def from_database(exc: asyncpg.PostgresError) -> PodiumError | None:
    """A value PostgreSQL refused (data exception, class 22; program limit, class 54) came from
    the client: it is a 422, not a server failure. Everything else stays a 500. Inputs are
    checked before the database (ranges, characters); this is the net behind those checks."""
    state = getattr(exc, "sqlstate", "") or ""
    if state.startswith(("22", "54")):
        what = _UNSTORABLE.get(state, "a value has a form that cannot be stored")
        log.warning("a value the checks let through was refused by the database: %s", state)
        return ValidationFailed(f"a value in this request cannot be stored: {what}",
                                code="unstorable_value")  # fmt: skip
    return None


# SQLSTATE classes and codes that mean the database is away (connection lost, shutting down,
# starting up, out of connections), not that the request was wrong.
_DATABASE_AWAY = ("08", "57P01", "57P02", "57P03", "53300")


def database_away(exc: Exception) -> bool:
    """The database could not be reached or went away mid-request."""
    if isinstance(exc, ConnectionError | TimeoutError | asyncpg.InterfaceError):
        return True
    state = getattr(exc, "sqlstate", "") or ""
    return isinstance(exc, asyncpg.PostgresError) and state.startswith(_DATABASE_AWAY)


def to_podium_error(exc: Exception) -> PodiumError:
    if isinstance(exc, PodiumError):
        return exc
    if database_away(exc) or type(exc).__name__ == "PoolClosed":
        # Fail fast and say so: the client retries; Podium reconnects by itself.
        return ServiceUnavailable("the database is not reachable; try again shortly",
                                  code="database_unavailable", retry_after=1)  # fmt: skip
    if isinstance(exc, asyncpg.PostgresError) and (err := from_database(exc)):
        return err
    if isinstance(exc, RecursionError):
        # msgspec refuses JSON nested deeper than Python's recursion limit while decoding.
        return ValidationFailed("the body nests too deeply", field="body", code="too_deep")
    if isinstance(exc, ValidationException):
        return from_validation(exc)
    if isinstance(exc, HTTPException):
        if exc.status_code == 400:
            # The framework's own 400 (not a validation error) is a body it could not decode.
            return BadRequest(
                f"the request body is not valid JSON: {exc.detail}", code="malformed_json"
            )
        cls = _BY_STATUS.get(exc.status_code)
        if cls is not None:
            return cls(str(exc.detail) if exc.detail else cls.title)
        if 400 <= exc.status_code < 500:
            err = BadRequest(str(exc.detail))
            err.status = exc.status_code  # type: ignore[misc]
            return err
    return PodiumError("the server failed to handle this request; it has been logged")


_encode = msgspec.json.Encoder().encode


def problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    err = to_podium_error(exc)
    if err.status == 500 and not isinstance(exc, PodiumError):
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    elif err.status > 500 and not isinstance(exc, PodiumError):
        log.warning("%s %s: %s (%s)", request.method, request.url.path, err.code, exc)
    headers: dict[str, str] = {}
    if err.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="podium"'
    if isinstance(exc, HTTPException) and exc.headers:
        headers.update(exc.headers)
    if "retry_after" in err.extra:
        headers["Retry-After"] = str(err.extra["retry_after"])
    return Response(
        content=_encode(err.problem()),
        status_code=err.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )
