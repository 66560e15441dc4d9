"""Answers that are a bare JSON value (a property can be a string, a number or null)."""

from typing import Any

import msgspec
from litestar import Response

_encode = msgspec.json.Encoder().encode


def json_value(value: Any, status_code: int = 200) -> Response[bytes]:
    return Response(_encode(value), status_code=status_code, media_type="application/json")
