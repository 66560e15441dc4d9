"""Ids in paths: a value that is not a UUID is a 422 naming the parameter."""

from __future__ import annotations

import uuid

from podium.errors import ValidationFailed


def parse_id(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"{field} must be a UUID", field=field) from None
