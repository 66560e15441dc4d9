"""The class lifecycle: the one function that ends a class, whatever the cause.

`end(tx, class_ids, cause)` marks each class ended once (`classes.ended_at`: a second call,
from any path or process, finds it ended and does nothing), closes both its rooms, writes the
tenant's `<kind>.stop` notification (not for a cancelled session, which never took place, nor
for a recreate, after which the class goes on with new rooms), and emits "class ended" to every
subscriber, in the same unit: a subscriber enqueues its own work there (recordings will), so it
runs exactly when the end commits.

Who calls it: an update that sets the end to now or earlier (`ended`), a recreate (the old
rooms' run ends: `recreated`), a Session API cancel (`canceled`), and the sweep run as a
periodic task in every process: classes whose end has passed (`time_passed`), and, from what
the media check saw, started classes whose host left media longer than allowed
(`host_timed_out`) or whose first stream started longer ago than a room may last
(`stream_cap`); those two end at that moment.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from podium.classes import queries
from podium.config import Settings
from podium.db import Database, Unit
from podium.jobs import JobRegistry
from podium.notifications.service import notify_many

log = logging.getLogger(__name__)

SWEEP_BATCH = 100


class Cause(StrEnum):
    ENDED = "ended"  # its end was set to now or earlier
    TIME_PASSED = "time_passed"
    HOST_TIMED_OUT = "host_timed_out"
    STREAM_CAP = "stream_cap"
    CANCELED = "canceled"
    RECREATED = "recreated"


# Causes that make the class end now (its `ends_at` is set to this second, so it reads closed).
ENDS_NOW = (Cause.HOST_TIMED_OUT, Cause.STREAM_CAP)
# Causes the tenant hears as `<kind>.stop`.
ANNOUNCED = (Cause.ENDED, Cause.TIME_PASSED, Cause.HOST_TIMED_OUT, Cause.STREAM_CAP)


@dataclass(frozen=True, slots=True)
class ClassEnded:
    """What "class ended" carries: the class and the rooms whose run ended."""

    class_id: uuid.UUID
    kind: str
    audience: str
    scope: str
    event_room_id: uuid.UUID
    conference_room_id: uuid.UUID
    cause: Cause


Hook = Callable[[Unit, ClassEnded], Awaitable[object]]

# Subscribers by name (subscribing again under a name replaces it: building the app twice in
# one process, as the tests do, registers nothing twice). They run inside the ending unit.
_HOOKS: dict[str, Hook] = {}


def on_class_ended(name: str, hook: Hook) -> None:
    _HOOKS[name] = hook


async def end(tx: Unit, class_ids: list[uuid.UUID], cause: Cause) -> list[ClassEnded]:
    """End the classes that have not ended yet (see the module); answers those it ended."""
    if not class_ids:
        return []
    rows = await tx.fetch(queries.END, class_ids, cause.value, cause in ENDS_NOW,
                          cause is Cause.HOST_TIMED_OUT)  # fmt: skip
    if cause is Cause.RECREATED:
        # A recreate replaces the run's rooms whether or not it had ended already: subscribers
        # hear of it either way (recordings drop the class's recordings).
        seen = {r["id"] for r in rows}
        if missing := [i for i in class_ids if i not in seen]:
            rows = [*rows, *await tx.fetch(queries.SELECT_RUN, missing)]
    if cause in ANNOUNCED:
        await notify_many(tx, [
            (r["audience"], f"{r['kind']}.stop",
             {"id": r["id"], "scope": r["scope"], "tags": r["tags"], "timed_out": r["timed_out"]},
             r["id"])
            for r in rows
        ])  # fmt: skip
    ended = [ClassEnded(r["id"], r["kind"], r["audience"], r["scope"], r["event_room_id"],
                        r["conference_room_id"], cause) for r in rows]  # fmt: skip
    for event in ended:
        log.info("class %s ended (%s)", event.class_id, cause.value)
        for hook in list(_HOOKS.values()):
            await hook(tx, event)
    return ended


async def end_due(db: Database, settings: Settings) -> int:
    """The sweep: end every class whose time has come, in batches (each batch one unit; rows
    another process holds are skipped, so processes share the work)."""
    ended = 0
    while True:
        async with db.unit() as tx:
            rows = await tx.fetch(queries.DUE_BY_TIME, SWEEP_BATCH)
            if settings.janus_urls:  # what the media check saw
                rows += await tx.fetch(
                    queries.DUE_BY_MEDIA, SWEEP_BATCH, settings.host_timeout_seconds,
                    settings.max_stream_seconds, settings.janus_check_seconds * 3,
                )  # fmt: skip
            for cause in Cause:
                ids = [r["id"] for r in rows if r["cause"] == cause.value]
                ended += len(await end(tx, ids, cause))
        if len(rows) < SWEEP_BATCH:
            return ended


def register_jobs(registry: JobRegistry, db: Database, settings: Settings) -> None:
    registry.every("classes.end_due", settings.jobs_poll_seconds, lambda: end_due(db, settings))
