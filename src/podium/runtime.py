"""The application object: the plumbing a running Podium shares, built once by
`app.create_app` and read by route handlers through `runtime(state)` (typed; no untyped
`state.X` reads).

It holds plumbing only. What a capability shares (the tenant directory, the live hub, the
conference backends) is kept in `app.state` under its own name and read through that
capability's accessor (`auth.service.tenants_of`, `rooms.live.hub_of`,
`conference.backends.media_of`), so this module names no capability, even for the type checker,
and no dependency points from plumbing up to a capability.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import State

from podium.config import Settings
from podium.db import Database
from podium.jobs import JobRunner
from podium.ratelimit import Limiter
from podium.storage import Storage


@dataclass(frozen=True, slots=True, kw_only=True)
class Podium:
    settings: Settings
    db: Database
    limiter: Limiter  # routes callable without a token
    storage: Storage  # recordings' media and event dumps: file:// or s3://
    jobs: JobRunner


def runtime(state: State) -> Podium:
    podium: Podium = state.podium
    return podium
