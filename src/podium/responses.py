"""Answers that are a bare JSON value (a property can be a string, a number or null), or `{}`."""

from typing import Any

import msgspec
from litestar import Response


class Empty(msgspec.Struct, forbid_unknown_fields=True):
    """`{}`: done, nothing more to say (the original services answered so)."""


EMPTY = Empty()

_encode = msgspec.json.Encoder().encode


def json_value(value: Any, status_code: int = 200) -> Response[bytes]:
    return Response(_encode(value), status_code=status_code, media_type="application/json")
