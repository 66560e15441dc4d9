"""The application object: everything a running Podium shares, built once by `app.create_app`
and read by route handlers through `runtime(state)` (typed; no untyped `state.X` reads).

It names capability types for the type checker only: at run time this module imports nothing
but plumbing, so a capability's routes reading it depend on no other capability through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from litestar.datastructures import State

from podium.config import Settings
from podium.db import Database
from podium.jobs import JobRunner
from podium.ratelimit import Limiter
from podium.storage import Storage

if TYPE_CHECKING:
    from podium.auth.service import TenantDirectory
    from podium.conference.backends import Media
    from podium.rooms.live import Hub


@dataclass(frozen=True, slots=True, kw_only=True)
class Podium:
    settings: Settings
    db: Database
    tenants: TenantDirectory  # tenants, token verification, Podium's own signing key
    hub: Hub  # live event rooms in this process
    media: Media  # the conference backends: none, and the Janus pool when configured
    limiter: Limiter  # routes callable without a token
    storage: Storage  # recordings' media and event dumps: file:// or s3://
    jobs: JobRunner


def runtime(state: State) -> Podium:
    podium: Podium = state.podium
    return podium
