"""Request bodies, converted strictly: JSON types must match (no "5" for 5, no 1 for true).

Litestar converts bodies leniently; routes declare `data: Body[Shape]` (so the OpenAPI document
still shows the shape) and call `strict(data, Shape)`.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from litestar.enums import RequestEncodingType
from litestar.params import BodyKwarg, SkipValidationMarker

from podium.errors import validation_error

T = TypeVar("T")

Body = Annotated[T, BodyKwarg(media_type=RequestEncodingType.JSON), SkipValidationMarker()]


def strict(data: Any, shape: type[T]) -> T:
    try:
        return msgspec.convert(data, shape, strict=True)
    except msgspec.ValidationError as exc:
        raise validation_error(str(exc)) from None
