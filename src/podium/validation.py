"""Request bodies, converted strictly: JSON types must match (no "5" for 5, no 1 for true), and
every string must be one PostgreSQL can store (no NUL character, no lone surrogate).

Litestar converts bodies leniently; routes declare `data: Body[Shape]` (so the OpenAPI document
still shows the shape) and call `strict(data, Shape)`.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import msgspec
from litestar.enums import RequestEncodingType
from litestar.params import BodyKwarg, SkipValidationMarker

from podium.errors import ValidationFailed, validation_error

T = TypeVar("T")

# A name, id or key given by a client: one to 255 characters (scopes, audiences, account ids,
# event types, sets, labels).
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]

# Unix seconds up to the year 9999 (beyond that PostgreSQL's timestamps cannot follow).
UnixTime = Annotated[int, msgspec.Meta(ge=0, le=253_402_300_799)]
# `[start, end]`, either bound null (unbounded). A list of two, not a tuple: the OpenAPI document
# Litestar writes for a tuple (`items` as a list) is not valid OpenAPI 3.1.
TimeBounds = Annotated[list[UnixTime | None], msgspec.Meta(min_length=2, max_length=2)]
TimeRead = Annotated[list[int | None], msgspec.Meta(min_length=2, max_length=2)]
# What a PostgreSQL bigint holds (sequence numbers, cursors, ids of the notification feed).
BIGINT_MAX = 9_223_372_036_854_775_807

Body = Annotated[T, BodyKwarg(media_type=RequestEncodingType.JSON), SkipValidationMarker()]

_encode = msgspec.json.Encoder().encode


def _bad_string(value: str) -> bool:
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _find_bad_string(data: Any, path: str = "") -> str | None:
    """The path of the first string (value or key) PostgreSQL cannot store, if any."""
    if isinstance(data, str):
        return path or "body" if _bad_string(data) else None
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _bad_string(key):
                return path or "body"
            found = _find_bad_string(value, here)
            if found:
                return found
    if isinstance(data, list):
        for i, value in enumerate(data):
            found = _find_bad_string(value, f"{path}[{i}]")
            if found:
                return found
    return None


def check_storable(data: Any) -> None:
    """Refuse NUL characters and lone surrogates, naming the field.

    One C-level encode finds the suspects cheaply (NUL encodes as `\\u0000`, a lone surrogate
    fails to encode); only then is the structure walked to name the field.
    """
    try:
        suspect = b"\\u0000" in _encode(data)
    except (UnicodeEncodeError, msgspec.EncodeError):
        suspect = True
    if suspect and (field := _find_bad_string(data)):
        raise ValidationFailed(
            f"{field}: text may not contain NUL characters or unpaired surrogates",
            field=field,
            code="invalid_characters",
        )


def strict(data: Any, shape: type[T]) -> T:
    check_storable(data)
    try:
        return msgspec.convert(data, shape, strict=True)
    except msgspec.ValidationError as exc:
        raise validation_error(str(exc)) from None


def check_origin(value: str) -> str:
    """An origin as browsers send it (`scheme://host[:port]`, http or https, nothing more), or
    `*`; answered lower-cased. ValueError otherwise."""
    value = value.strip()
    if value == "*":
        return value
    parts = urlsplit(value)
    extra = parts.username or parts.password or parts.query or parts.fragment
    if parts.scheme not in ("http", "https") or not parts.hostname or extra \
            or parts.path not in ("", "/"):  # fmt: skip
        raise ValueError(f"{value!r} is not an origin (scheme://host[:port], http or https)")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"
