"""A room's events as the recordings read and write them: rows to `models.Event`, events
copied into a new room in one statement, and the shape of an event in a dump."""

from __future__ import annotations

import uuid
from typing import Any

from podium.db import Row, Unit
from podium.recordings import models, queries


def event_of(row: Row) -> models.Event:
    return models.Event(
        row["occurred_at"], row["seq"], row["type"], row["data"], row["set"], row["label"],
        row["attribute"], row["removed"], row["created_by"], row["created_at"], row["id"],
    )  # fmt: skip


def dumped(row: Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "type": row["type"], "set": row["set"], "label": row["label"],
        "attribute": row["attribute"], "data": row["data"], "removed": row["removed"],
        "occurred_at": row["occurred_at"], "created_by": row["created_by"],
        "created_at": row["created_at"],
    }  # fmt: skip


async def copy_events(tx: Unit, room: uuid.UUID, events: list[models.Event]) -> None:
    await tx.execute(
        queries.COPY_EVENTS, room,
        [e.type for e in events], [e.set or e.type for e in events], [e.label for e in events],
        [e.attribute for e in events], [e.data for e in events], [e.removed for e in events],
        [e.occurred_at for e in events], [e.created_by or "podium" for e in events],
        [e.created_at for e in events],
    )  # fmt: skip
